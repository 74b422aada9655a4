/**
 * LowartClient: the lowart.v1 gRPC API for Node, over TCP or a Unix socket.
 *
 * The service definitions are loaded from the .proto files at run time with
 * @grpc/proto-loader; the TypeScript types in ./generated are generated from
 * the same files (`npm run generate`), so requests and replies are typed.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

import type { ProtoGrpcType as ChatProto } from "./generated/chat";
import type { ChatServiceClient } from "./generated/lowart/v1/ChatService";
import type { CreateChatCompletionRequest } from "./generated/lowart/v1/CreateChatCompletionRequest";
import type { CreateChatCompletionResponse__Output } from "./generated/lowart/v1/CreateChatCompletionResponse";
import type { Message } from "./generated/lowart/v1/Message";
import type { Model__Output } from "./generated/lowart/v1/Model";
import type { ModelServiceClient } from "./generated/lowart/v1/ModelService";
import type { StreamChatCompletionRequest } from "./generated/lowart/v1/StreamChatCompletionRequest";
import type { StreamChatCompletionResponse__Output } from "./generated/lowart/v1/StreamChatCompletionResponse";
import type { Struct } from "./generated/google/protobuf/Struct";
import type { Value } from "./generated/google/protobuf/Value";
import type { ProtoGrpcType as ModelsProto } from "./generated/models";

/** Must match the options `npm run generate` used for the types. */
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.max_receive_message_length": 64 * 1024 * 1024,
};

export interface ClientOptions {
  /** The lowart API key, sent as `authorization: Bearer <key>`. */
  apiKey: string;
  /** Default deadline per call, in seconds (default 600). */
  timeoutSeconds?: number;
  /** Where lowart/v1/*.proto live (default: the repository's proto/ folder). */
  protoDir?: string;
  /** TLS credentials; plaintext when omitted (loopback TCP and Unix sockets). */
  credentials?: grpc.ChannelCredentials;
}

/** Request fields besides model and messages; `extra` is plain JSON passed to the upstream. */
export type ChatParams = Omit<CreateChatCompletionRequest, "model" | "messages" | "extra"> & {
  extra?: Record<string, unknown>;
};

export type MessageLike = Message | string;

function findProtoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = resolve(dir, "proto");
    if (existsSync(join(candidate, "lowart", "v1", "chat.proto"))) return candidate;
    dir = resolve(dir, "..");
  }
  throw new Error("lowart proto files not found: pass protoDir or set LOWART_PROTO_DIR");
}

function loadPackage(protoDir: string): ChatProto & ModelsProto {
  const definition = protoLoader.loadSync(["lowart/v1/chat.proto", "lowart/v1/models.proto"], {
    ...LOADER_OPTIONS,
    includeDirs: [protoDir],
  });
  return grpc.loadPackageDefinition(definition) as unknown as ChatProto & ModelsProto;
}

/** A google.protobuf.Struct from a plain JSON object. */
export function toStruct(object: Record<string, unknown>): Struct {
  const fields: Record<string, Value> = {};
  for (const [key, value] of Object.entries(object)) fields[key] = toValue(value);
  return { fields };
}

function toValue(value: unknown): Value {
  if (value === null || value === undefined) return { nullValue: "NULL_VALUE" };
  if (typeof value === "number") return { numberValue: value };
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toValue) } };
  return { structValue: toStruct(value as Record<string, unknown>) };
}

function toMessages(messages: MessageLike | MessageLike[]): Message[] {
  const list = Array.isArray(messages) ? messages : [messages];
  return list.map((m) => (typeof m === "string" ? { role: "ROLE_USER", content: m } : m));
}

/** The text a stream message adds (all choices, in order). */
export function deltaText(message: StreamChatCompletionResponse__Output): string {
  return message.choices.map((c) => c.delta?.content ?? "").join("");
}

export class LowartClient {
  private readonly chatService: ChatServiceClient;
  private readonly modelService: ModelServiceClient;
  private readonly metadata: grpc.Metadata;
  private readonly timeoutSeconds: number;

  /** `target` is `host:port` or `unix:///path/to/lowart-grpc.sock`. */
  constructor(target: string, options: ClientOptions) {
    const protoDir = options.protoDir ?? process.env.LOWART_PROTO_DIR ?? findProtoDir();
    const v1 = loadPackage(protoDir).lowart.v1;
    const credentials = options.credentials ?? grpc.credentials.createInsecure();
    this.chatService = new v1.ChatService(target, credentials, CHANNEL_OPTIONS);
    this.modelService = new v1.ModelService(target, credentials, CHANNEL_OPTIONS);
    this.metadata = new grpc.Metadata();
    this.metadata.set("authorization", `Bearer ${options.apiKey}`);
    this.timeoutSeconds = options.timeoutSeconds ?? 600;
  }

  private callOptions(): grpc.CallOptions {
    return { deadline: new Date(Date.now() + this.timeoutSeconds * 1000) };
  }

  private request(model: string, messages: MessageLike | MessageLike[], params: ChatParams) {
    const { extra, ...fields } = params;
    return {
      ...fields,
      model,
      messages: toMessages(messages),
      ...(extra ? { extra: toStruct(extra) } : {}),
    };
  }

  /** One whole completion. Rejects with a grpc ServiceError (`code`, `details`). */
  chat(
    model: string,
    messages: MessageLike | MessageLike[],
    params: ChatParams = {},
  ): Promise<CreateChatCompletionResponse__Output> {
    const request: CreateChatCompletionRequest = this.request(model, messages, params);
    return new Promise((resolvePromise, reject) => {
      this.chatService.CreateChatCompletion(
        request,
        this.metadata,
        this.callOptions(),
        (error, reply) => (error || !reply ? reject(error) : resolvePromise(reply)),
      );
    });
  }

  /**
   * Stream the completion; the last message carries `usage`. Leaving the
   * `for await` loop early cancels the call (and the gateway's upstream call).
   */
  async *stream(
    model: string,
    messages: MessageLike | MessageLike[],
    params: ChatParams = {},
  ): AsyncGenerator<StreamChatCompletionResponse__Output> {
    const request: StreamChatCompletionRequest = this.request(model, messages, params);
    const call = this.chatService.StreamChatCompletion(request, this.metadata, this.callOptions());
    let finished = false;
    try {
      for await (const message of call) {
        yield message as StreamChatCompletionResponse__Output;
      }
      finished = true;
    } finally {
      if (!finished) call.cancel();
    }
  }

  /** The models this key may use. */
  listModels(): Promise<Model__Output[]> {
    return new Promise((resolvePromise, reject) => {
      this.modelService.ListModels({}, this.metadata, this.callOptions(), (error, reply) =>
        error || !reply ? reject(error) : resolvePromise(reply.models),
      );
    });
  }

  close(): void {
    this.chatService.close();
    this.modelService.close();
  }
}
