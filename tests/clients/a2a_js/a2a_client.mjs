// The JavaScript A2A SDK (@a2a-js/sdk) against a lowart route, as an agent built on
// it would call one: discover the route's card (with the key), then send, stream,
// get, list, continue a context, cancel and resubscribe. Prints one JSON summary.
//
//   node a2a_client.mjs BASE_URL MODEL SLOW_MODEL API_KEY BINDING
//
// BINDING is JSONRPC or HTTP+JSON. Used by tests/clients/test_a2a_js_client.py.
import { Role, TaskState } from "@a2a-js/sdk";
import {
  ClientFactory,
  ClientFactoryOptions,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
  RestTransportFactory,
} from "@a2a-js/sdk/client";

const [base, model, slowModel, key, binding] = process.argv.slice(2);

const withKey = (url, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${key}`);
  return fetch(url, { ...init, headers });
};

function clientFor(name) {
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [
        new JsonRpcTransportFactory({ fetchImpl: withKey }),
        new RestTransportFactory({ fetchImpl: withKey }),
      ],
      cardResolver: new DefaultAgentCardResolver({ fetchImpl: withKey }),
      preferredTransports: [binding],
    }),
  );
  // The trailing slash: the card path is resolved relative to this URL.
  return factory.createFromUrl(`${base}/a2a/${encodeURIComponent(name)}/`);
}

const message = (text, contextId = "") => ({
  messageId: crypto.randomUUID(),
  contextId,
  taskId: "",
  role: Role.ROLE_USER,
  parts: [{ content: { $case: "text", value: text } }],
  metadata: undefined,
  extensions: [],
  referenceTaskIds: [],
});
const request = (msg) => ({ tenant: "", message: msg, configuration: undefined, metadata: undefined });
const text = (task) =>
  task.artifacts.flatMap((a) => a.parts).map((p) => (p.content?.$case === "text" ? p.content.value : "")).join("");
const stateName = (state) => TaskState[state];

const summary = { binding };
const client = await clientFor(model);
summary.transport = client.transport.constructor.name;

// SendMessage, then GetTask and ListTasks.
const task = await client.sendMessage(request(message("hello from javascript")));
summary.sent = { state: stateName(task.status.state), answer: text(task) };
const got = await client.getTask({ tenant: "", id: task.id, historyLength: undefined });
summary.got = { same: got.id === task.id, answer: text(got) };

// The same context: a second turn.
const second = await client.sendMessage(request(message("and again", task.contextId)));
summary.secondContext = second.contextId === task.contextId;
const listed = await client.listTasks({ tenant: "", contextId: task.contextId, includeArtifacts: true });
summary.listed = listed.tasks.length;

// SendStreamingMessage: the answer in artifact appends, then the final status.
const pieces = [];
let finalState;
for await (const event of client.sendMessageStream(request(message("stream this please")))) {
  const payload = event.payload;
  if (payload?.$case === "artifactUpdate") {
    pieces.push(payload.value.artifact.parts.map((p) => p.content?.value ?? "").join(""));
  } else if (payload?.$case === "statusUpdate") {
    finalState = stateName(payload.value.status.state);
  }
}
summary.streamed = { pieces: pieces.length, answer: pieces.join(""), finalState };

// A long answer: drop the stream, resubscribe, then cancel.
const slow = await clientFor(slowModel);
const controller = new AbortController();
let slowTaskId;
try {
  for await (const event of slow.sendMessageStream(request(message("a long one")), { signal: controller.signal })) {
    if (event.payload?.$case === "task") slowTaskId = event.payload.value.id;
    if (event.payload?.$case === "artifactUpdate") break;
  }
} catch (error) {
  if (error.name !== "AbortError") throw error;
}
controller.abort();
let resubscribed = 0;
for await (const event of slow.resubscribeTask({ tenant: "", id: slowTaskId })) {
  resubscribed += 1;
  if (resubscribed >= 3) break;
}
summary.resubscribed = resubscribed;
const cancelled = await slow.cancelTask({ tenant: "", id: slowTaskId, metadata: undefined });
summary.cancelled = stateName(cancelled.status.state);

// Another key's view is checked by the Python tests; here a missing task's error.
try {
  await client.getTask({ tenant: "", id: "no-such-task", historyLength: undefined });
  summary.missing = "found?";
} catch (error) {
  summary.missing = error.constructor.name;
}
console.log(JSON.stringify(summary));
