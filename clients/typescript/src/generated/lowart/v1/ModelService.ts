// Original file: ../../proto/lowart/v1/models.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ListModelsRequest as _lowart_v1_ListModelsRequest, ListModelsRequest__Output as _lowart_v1_ListModelsRequest__Output } from '../../lowart/v1/ListModelsRequest';
import type { ListModelsResponse as _lowart_v1_ListModelsResponse, ListModelsResponse__Output as _lowart_v1_ListModelsResponse__Output } from '../../lowart/v1/ListModelsResponse';

export interface ModelServiceClient extends grpc.Client {
  ListModels(argument: _lowart_v1_ListModelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _lowart_v1_ListModelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lowart_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _lowart_v1_ListModelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _lowart_v1_ListModelsRequest, callback: grpc.requestCallback<_lowart_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _lowart_v1_ListModelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _lowart_v1_ListModelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lowart_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _lowart_v1_ListModelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _lowart_v1_ListModelsRequest, callback: grpc.requestCallback<_lowart_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ModelServiceHandlers extends grpc.UntypedServiceImplementation {
  ListModels: grpc.handleUnaryCall<_lowart_v1_ListModelsRequest__Output, _lowart_v1_ListModelsResponse>;
  
}

export interface ModelServiceDefinition extends grpc.ServiceDefinition {
  ListModels: MethodDefinition<_lowart_v1_ListModelsRequest, _lowart_v1_ListModelsResponse, _lowart_v1_ListModelsRequest__Output, _lowart_v1_ListModelsResponse__Output>
}
