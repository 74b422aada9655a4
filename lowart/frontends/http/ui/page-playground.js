// Playground: streamed chat with any model the key may use (tokens and latency per
// answer), and image jobs with live progress, cancel and a gallery.

import { api, get, request } from "./api.js";
import { clear, field, fmt, formValues, h, input, intOrNull, select, table } from "./dom.js";
import { showError } from "./errors.js";
import { showFormError } from "./forms.js";

/** The JSON events of an OpenAI SSE stream, until [DONE]. */
async function* sseEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
      if (!data) continue;
      if (data === "[DONE]") return;
      yield JSON.parse(data);
    }
  }
}

function chatPanel(ctx, models) {
  const messages = [];
  const log = h("ol#chat-log.chat", { "aria-live": "polite", "aria-label": "Conversation" });
  const model = select("model", models.map((m) => m.id), models[0] && models[0].id);
  const text = h("textarea", { name: "message", rows: 3, required: true });
  const send = h("button#chat-send", { type: "submit" }, "Send");
  const stop = h("button#chat-stop", { type: "button", disabled: true }, "Stop");
  let abort = null;
  const form = h("form#chat-form", { "aria-label": "Chat" }, h("div.grid", {}, field("Model", model)), field("Message", text, "Ctrl+Enter sends."), h("div.buttons", {}, send, stop, h("button.link", { type: "button", on: { click: () => { messages.length = 0; clear(log); } } }, "New conversation")));
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  stop.addEventListener("click", () => abort && abort.abort());
  form.addEventListener("submit", ctx.guard(async (event) => {
    event.preventDefault();
    const content = text.value.trim();
    if (!content) return;
    messages.push({ role: "user", content });
    log.append(h("li.user", {}, h("span.role", {}, "You"), h("p", {}, content)));
    text.value = "";
    const answer = h("p.answer");
    const meta = h("p.meta", {}, "…");
    const item = h("li.assistant", {}, h("span.role", {}, model.value), answer, meta);
    log.append(item);
    send.disabled = true;
    stop.disabled = false;
    abort = new AbortController();
    const started = performance.now();
    let first = null;
    let usage = null;
    let reply = "";
    try {
      const response = await request("POST", "/v1/chat/completions", { model: model.value, messages, stream: true, stream_options: { include_usage: true } }, { signal: abort.signal });
      for await (const chunk of sseEvents(response)) {
        if (chunk.error) throw new Error(chunk.error.message || "The stream failed.");
        if (chunk.usage) usage = chunk.usage;
        for (const choice of chunk.choices || []) {
          const delta = choice.delta && choice.delta.content;
          if (delta) {
            if (first === null) first = performance.now();
            reply += delta;
            answer.textContent = reply;
          }
        }
      }
      messages.push({ role: "assistant", content: reply });
      const total = performance.now() - started;
      const tokens = usage ? `${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion tokens` : "tokens unknown";
      meta.textContent = `${tokens} · first token ${first === null ? "—" : fmt.ms(first - started)} · total ${fmt.ms(total)}`;
      item.dataset.done = "true";
      if (usage) Object.assign(item.dataset, { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens });
    } catch (error) {
      meta.textContent = error.name === "AbortError" ? "Stopped." : `Failed: ${error.message}`;
      item.dataset.done = "error";
      if (error.name !== "AbortError") showError(error);
      messages.pop();
    } finally {
      send.disabled = false;
      stop.disabled = true;
      abort = null;
      text.focus();
    }
  }));
  return h("section.card", { id: "chat" }, h("h2", {}, "Chat"), models.length ? [form, log] : h("p", {}, "This key may use no chat model."));
}

function progressOf(job) {
  const p = job.progress;
  if (job.status === "succeeded") return [1, 1, "done"];
  if (!p) return [0, 1, job.status];
  if (p.state === "queued") return [0, 1, `queued${p.queue_position ? ` (position ${p.queue_position})` : ""}`];
  if (p.step !== null && p.step !== undefined && p.steps) return [p.step, p.steps, `step ${p.step} of ${p.steps}`];
  if (p.node_index && p.node_count) return [p.node_index, p.node_count, `node ${p.node_index} of ${p.node_count}${p.node_type ? ` (${p.node_type})` : ""}`];
  return [0, 1, p.state];
}

function imagesPanel(ctx, models) {
  const model = select("model", models.map((m) => m.id), models[0] && models[0].id);
  const form = h(
    "form#image-form",
    { "aria-label": "Generate an image" },
    h("div.grid", {}, field("Model", model), field("Size", select("size", ["64x64", "256x256", "512x512", "1024x1024"], "512x512")), field("Steps", input("steps", { type: "number", min: 1, max: 200 })), field("Seed", input("seed", { type: "number", min: 0 }))),
    field("Prompt", h("textarea", { name: "prompt", rows: 2, required: true })),
    h("div.buttons", {}, h("button#image-generate", { type: "submit" }, "Generate")),
  );
  const jobs = h("div#jobs");
  const gallery = h("div#gallery.gallery", { "aria-label": "Generated images", role: "list" });
  const shown = new Set();

  const addToGallery = async (job) => {
    if (shown.has(job.id)) return;
    shown.add(job.id);
    for (const output of job.outputs) {
      const blob = await (await request("GET", new URL(output.url).pathname)).blob();
      const img = h("img", { src: URL.createObjectURL(blob), alt: `Image from job ${job.id}`, loading: "lazy" });
      gallery.prepend(h("figure", { role: "listitem", dataset: { job: job.id } }, img, h("figcaption", {}, `${job.model} · ${job.id}`)));
    }
  };

  const renderJobs = (list) => {
    const rows = list.map((job) => {
      const [value, max, text] = progressOf(job);
      const active = job.status === "queued" || job.status === "running";
      return h(
        "tr",
        { dataset: { job: job.id, status: job.status } },
        h("td", {}, h("code", {}, job.id)),
        h("td", {}, job.model),
        h("td", {}, h("span.badge", { dataset: { state: job.status } }, job.status)),
        h("td", {}, h("progress", { value, max, "aria-label": `Progress of ${job.id}` }), " ", h("span.hint", {}, job.error ? job.error.message || "failed" : text)),
        h("td", {}, fmt.time(job.created_at * 1000)),
        h("td", {}, active && h("button.danger", { type: "button", on: { click: ctx.guard(async () => {
          await api("POST", `/v1/jobs/${encodeURIComponent(job.id)}/cancel`);
          await refresh();
        }) } }, "Cancel")),
      );
    });
    clear(jobs, rows.length ? table("Image jobs", ["Job", "Model", "Status", "Progress", "Created", "Actions"], rows) : h("p", {}, "No image jobs yet."));
  };

  const refresh = async () => {
    const list = (await get("/v1/jobs?limit=20")).data;
    renderJobs(list);
    for (const job of list) if (job.status === "succeeded" && job.outputs.length) await addToGallery(job);
  };

  form.addEventListener("submit", ctx.guard(async (event) => {
    event.preventDefault();
    const v = formValues(form);
    const body = { model: v.model, prompt: v.prompt, size: v.size };
    const steps = intOrNull(v.steps, "steps");
    const seed = intOrNull(v.seed, "seed");
    if (steps !== null) body.steps = steps;
    if (seed !== null) body.seed = seed;
    await api("POST", "/v1/jobs", body);
    await refresh();
  }, (error) => showFormError(form, error)));

  const section = h("section.card", { id: "images" }, h("h2", {}, "Images"), models.length ? [form, h("h3", {}, "Jobs"), jobs, h("h3", {}, "Gallery"), gallery] : h("p", {}, "This key may use no image model."));
  if (models.length) ctx.poll(refresh, 700);
  return section;
}

export async function playgroundPage(ctx) {
  const models = (await get("/v1/models")).data;
  const chat = models.filter((m) => m.owned_by !== "comfyui");
  const images = models.filter((m) => m.owned_by === "comfyui");
  ctx.root.append(h("h1", {}, "Playground"), chatPanel(ctx, chat), imagesPanel(ctx, images));
}

