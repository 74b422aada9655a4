export { LowartClient, deltaText, toStruct } from "./client.js";
export type { ChatParams, ClientOptions, MessageLike } from "./client.js";
export type { CreateChatCompletionResponse__Output as ChatCompletion } from "./generated/lowart/v1/CreateChatCompletionResponse";
export type { StreamChatCompletionResponse__Output as ChatCompletionChunk } from "./generated/lowart/v1/StreamChatCompletionResponse";
export type { Message } from "./generated/lowart/v1/Message";
