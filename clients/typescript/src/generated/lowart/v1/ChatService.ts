// Original file: ../../proto/lowart/v1/chat.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CreateChatCompletionRequest as _lowart_v1_CreateChatCompletionRequest, CreateChatCompletionRequest__Output as _lowart_v1_CreateChatCompletionRequest__Output } from '../../lowart/v1/CreateChatCompletionRequest';
import type { CreateChatCompletionResponse as _lowart_v1_CreateChatCompletionResponse, CreateChatCompletionResponse__Output as _lowart_v1_CreateChatCompletionResponse__Output } from '../../lowart/v1/CreateChatCompletionResponse';
import type { StreamChatCompletionRequest as _lowart_v1_StreamChatCompletionRequest, StreamChatCompletionRequest__Output as _lowart_v1_StreamChatCompletionRequest__Output } from '../../lowart/v1/StreamChatCompletionRequest';
import type { StreamChatCompletionResponse as _lowart_v1_StreamChatCompletionResponse, StreamChatCompletionResponse__Output as _lowart_v1_StreamChatCompletionResponse__Output } from '../../lowart/v1/StreamChatCompletionResponse';

export interface ChatServiceClient extends grpc.Client {
  CreateChatCompletion(argument: _lowart_v1_CreateChatCompletionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_CreateChatCompletionResponse__Output>): grpc.ClientUnaryCall;
  CreateChatCompletion(argument: _lowart_v1_CreateChatCompletionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lowart_v1_CreateChatCompletionResponse__Output>): grpc.ClientUnaryCall;
  CreateChatCompletion(argument: _lowart_v1_CreateChatCompletionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_CreateChatCompletionResponse__Output>): grpc.ClientUnaryCall;
  CreateChatCompletion(argument: _lowart_v1_CreateChatCompletionRequest, callback: grpc.requestCallback<_lowart_v1_CreateChatCompletionResponse__Output>): grpc.ClientUnaryCall;
  createChatCompletion(argument: _lowart_v1_CreateChatCompletionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_CreateChatCompletionResponse__Output>): grpc.ClientUnaryCall;
  createChatCompletion(argument: _lowart_v1_CreateChatCompletionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lowart_v1_CreateChatCompletionResponse__Output>): grpc.ClientUnaryCall;
  createChatCompletion(argument: _lowart_v1_CreateChatCompletionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_CreateChatCompletionResponse__Output>): grpc.ClientUnaryCall;
  createChatCompletion(argument: _lowart_v1_CreateChatCompletionRequest, callback: grpc.requestCallback<_lowart_v1_CreateChatCompletionResponse__Output>): grpc.ClientUnaryCall;
  
  StreamChatCompletion(argument: _lowart_v1_StreamChatCompletionRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_lowart_v1_StreamChatCompletionResponse__Output>;
  StreamChatCompletion(argument: _lowart_v1_StreamChatCompletionRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_lowart_v1_StreamChatCompletionResponse__Output>;
  streamChatCompletion(argument: _lowart_v1_StreamChatCompletionRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_lowart_v1_StreamChatCompletionResponse__Output>;
  streamChatCompletion(argument: _lowart_v1_StreamChatCompletionRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_lowart_v1_StreamChatCompletionResponse__Output>;
  
}

export interface ChatServiceHandlers extends grpc.UntypedServiceImplementation {
  CreateChatCompletion: grpc.handleUnaryCall<_lowart_v1_CreateChatCompletionRequest__Output, _lowart_v1_CreateChatCompletionResponse>;
  
  StreamChatCompletion: grpc.handleServerStreamingCall<_lowart_v1_StreamChatCompletionRequest__Output, _lowart_v1_StreamChatCompletionResponse>;
  
}

export interface ChatServiceDefinition extends grpc.ServiceDefinition {
  CreateChatCompletion: MethodDefinition<_lowart_v1_CreateChatCompletionRequest, _lowart_v1_CreateChatCompletionResponse, _lowart_v1_CreateChatCompletionRequest__Output, _lowart_v1_CreateChatCompletionResponse__Output>
  StreamChatCompletion: MethodDefinition<_lowart_v1_StreamChatCompletionRequest, _lowart_v1_StreamChatCompletionResponse, _lowart_v1_StreamChatCompletionRequest__Output, _lowart_v1_StreamChatCompletionResponse__Output>
}
