// Original file: ../../proto/lowart/v1/images.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CancelImageJobRequest as _lowart_v1_CancelImageJobRequest, CancelImageJobRequest__Output as _lowart_v1_CancelImageJobRequest__Output } from '../../lowart/v1/CancelImageJobRequest';
import type { CancelImageJobResponse as _lowart_v1_CancelImageJobResponse, CancelImageJobResponse__Output as _lowart_v1_CancelImageJobResponse__Output } from '../../lowart/v1/CancelImageJobResponse';
import type { CreateImageJobRequest as _lowart_v1_CreateImageJobRequest, CreateImageJobRequest__Output as _lowart_v1_CreateImageJobRequest__Output } from '../../lowart/v1/CreateImageJobRequest';
import type { CreateImageJobResponse as _lowart_v1_CreateImageJobResponse, CreateImageJobResponse__Output as _lowart_v1_CreateImageJobResponse__Output } from '../../lowart/v1/CreateImageJobResponse';
import type { GenerateImagesRequest as _lowart_v1_GenerateImagesRequest, GenerateImagesRequest__Output as _lowart_v1_GenerateImagesRequest__Output } from '../../lowart/v1/GenerateImagesRequest';
import type { GenerateImagesResponse as _lowart_v1_GenerateImagesResponse, GenerateImagesResponse__Output as _lowart_v1_GenerateImagesResponse__Output } from '../../lowart/v1/GenerateImagesResponse';
import type { GetImageJobRequest as _lowart_v1_GetImageJobRequest, GetImageJobRequest__Output as _lowart_v1_GetImageJobRequest__Output } from '../../lowart/v1/GetImageJobRequest';
import type { GetImageJobResponse as _lowart_v1_GetImageJobResponse, GetImageJobResponse__Output as _lowart_v1_GetImageJobResponse__Output } from '../../lowart/v1/GetImageJobResponse';
import type { ListImageJobsRequest as _lowart_v1_ListImageJobsRequest, ListImageJobsRequest__Output as _lowart_v1_ListImageJobsRequest__Output } from '../../lowart/v1/ListImageJobsRequest';
import type { ListImageJobsResponse as _lowart_v1_ListImageJobsResponse, ListImageJobsResponse__Output as _lowart_v1_ListImageJobsResponse__Output } from '../../lowart/v1/ListImageJobsResponse';

export interface ImageServiceClient extends grpc.Client {
  CancelImageJob(argument: _lowart_v1_CancelImageJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_CancelImageJobResponse__Output>): grpc.ClientUnaryCall;
  CancelImageJob(argument: _lowart_v1_CancelImageJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lowart_v1_CancelImageJobResponse__Output>): grpc.ClientUnaryCall;
  CancelImageJob(argument: _lowart_v1_CancelImageJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_CancelImageJobResponse__Output>): grpc.ClientUnaryCall;
  CancelImageJob(argument: _lowart_v1_CancelImageJobRequest, callback: grpc.requestCallback<_lowart_v1_CancelImageJobResponse__Output>): grpc.ClientUnaryCall;
  cancelImageJob(argument: _lowart_v1_CancelImageJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_CancelImageJobResponse__Output>): grpc.ClientUnaryCall;
  cancelImageJob(argument: _lowart_v1_CancelImageJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lowart_v1_CancelImageJobResponse__Output>): grpc.ClientUnaryCall;
  cancelImageJob(argument: _lowart_v1_CancelImageJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_CancelImageJobResponse__Output>): grpc.ClientUnaryCall;
  cancelImageJob(argument: _lowart_v1_CancelImageJobRequest, callback: grpc.requestCallback<_lowart_v1_CancelImageJobResponse__Output>): grpc.ClientUnaryCall;
  
  CreateImageJob(argument: _lowart_v1_CreateImageJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_CreateImageJobResponse__Output>): grpc.ClientUnaryCall;
  CreateImageJob(argument: _lowart_v1_CreateImageJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lowart_v1_CreateImageJobResponse__Output>): grpc.ClientUnaryCall;
  CreateImageJob(argument: _lowart_v1_CreateImageJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_CreateImageJobResponse__Output>): grpc.ClientUnaryCall;
  CreateImageJob(argument: _lowart_v1_CreateImageJobRequest, callback: grpc.requestCallback<_lowart_v1_CreateImageJobResponse__Output>): grpc.ClientUnaryCall;
  createImageJob(argument: _lowart_v1_CreateImageJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_CreateImageJobResponse__Output>): grpc.ClientUnaryCall;
  createImageJob(argument: _lowart_v1_CreateImageJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lowart_v1_CreateImageJobResponse__Output>): grpc.ClientUnaryCall;
  createImageJob(argument: _lowart_v1_CreateImageJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_CreateImageJobResponse__Output>): grpc.ClientUnaryCall;
  createImageJob(argument: _lowart_v1_CreateImageJobRequest, callback: grpc.requestCallback<_lowart_v1_CreateImageJobResponse__Output>): grpc.ClientUnaryCall;
  
  GenerateImages(argument: _lowart_v1_GenerateImagesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_lowart_v1_GenerateImagesResponse__Output>;
  GenerateImages(argument: _lowart_v1_GenerateImagesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_lowart_v1_GenerateImagesResponse__Output>;
  generateImages(argument: _lowart_v1_GenerateImagesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_lowart_v1_GenerateImagesResponse__Output>;
  generateImages(argument: _lowart_v1_GenerateImagesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_lowart_v1_GenerateImagesResponse__Output>;
  
  GetImageJob(argument: _lowart_v1_GetImageJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_GetImageJobResponse__Output>): grpc.ClientUnaryCall;
  GetImageJob(argument: _lowart_v1_GetImageJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lowart_v1_GetImageJobResponse__Output>): grpc.ClientUnaryCall;
  GetImageJob(argument: _lowart_v1_GetImageJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_GetImageJobResponse__Output>): grpc.ClientUnaryCall;
  GetImageJob(argument: _lowart_v1_GetImageJobRequest, callback: grpc.requestCallback<_lowart_v1_GetImageJobResponse__Output>): grpc.ClientUnaryCall;
  getImageJob(argument: _lowart_v1_GetImageJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_GetImageJobResponse__Output>): grpc.ClientUnaryCall;
  getImageJob(argument: _lowart_v1_GetImageJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lowart_v1_GetImageJobResponse__Output>): grpc.ClientUnaryCall;
  getImageJob(argument: _lowart_v1_GetImageJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_GetImageJobResponse__Output>): grpc.ClientUnaryCall;
  getImageJob(argument: _lowart_v1_GetImageJobRequest, callback: grpc.requestCallback<_lowart_v1_GetImageJobResponse__Output>): grpc.ClientUnaryCall;
  
  ListImageJobs(argument: _lowart_v1_ListImageJobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_ListImageJobsResponse__Output>): grpc.ClientUnaryCall;
  ListImageJobs(argument: _lowart_v1_ListImageJobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lowart_v1_ListImageJobsResponse__Output>): grpc.ClientUnaryCall;
  ListImageJobs(argument: _lowart_v1_ListImageJobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_ListImageJobsResponse__Output>): grpc.ClientUnaryCall;
  ListImageJobs(argument: _lowart_v1_ListImageJobsRequest, callback: grpc.requestCallback<_lowart_v1_ListImageJobsResponse__Output>): grpc.ClientUnaryCall;
  listImageJobs(argument: _lowart_v1_ListImageJobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_ListImageJobsResponse__Output>): grpc.ClientUnaryCall;
  listImageJobs(argument: _lowart_v1_ListImageJobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lowart_v1_ListImageJobsResponse__Output>): grpc.ClientUnaryCall;
  listImageJobs(argument: _lowart_v1_ListImageJobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lowart_v1_ListImageJobsResponse__Output>): grpc.ClientUnaryCall;
  listImageJobs(argument: _lowart_v1_ListImageJobsRequest, callback: grpc.requestCallback<_lowart_v1_ListImageJobsResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ImageServiceHandlers extends grpc.UntypedServiceImplementation {
  CancelImageJob: grpc.handleUnaryCall<_lowart_v1_CancelImageJobRequest__Output, _lowart_v1_CancelImageJobResponse>;
  
  CreateImageJob: grpc.handleUnaryCall<_lowart_v1_CreateImageJobRequest__Output, _lowart_v1_CreateImageJobResponse>;
  
  GenerateImages: grpc.handleServerStreamingCall<_lowart_v1_GenerateImagesRequest__Output, _lowart_v1_GenerateImagesResponse>;
  
  GetImageJob: grpc.handleUnaryCall<_lowart_v1_GetImageJobRequest__Output, _lowart_v1_GetImageJobResponse>;
  
  ListImageJobs: grpc.handleUnaryCall<_lowart_v1_ListImageJobsRequest__Output, _lowart_v1_ListImageJobsResponse>;
  
}

export interface ImageServiceDefinition extends grpc.ServiceDefinition {
  CancelImageJob: MethodDefinition<_lowart_v1_CancelImageJobRequest, _lowart_v1_CancelImageJobResponse, _lowart_v1_CancelImageJobRequest__Output, _lowart_v1_CancelImageJobResponse__Output>
  CreateImageJob: MethodDefinition<_lowart_v1_CreateImageJobRequest, _lowart_v1_CreateImageJobResponse, _lowart_v1_CreateImageJobRequest__Output, _lowart_v1_CreateImageJobResponse__Output>
  GenerateImages: MethodDefinition<_lowart_v1_GenerateImagesRequest, _lowart_v1_GenerateImagesResponse, _lowart_v1_GenerateImagesRequest__Output, _lowart_v1_GenerateImagesResponse__Output>
  GetImageJob: MethodDefinition<_lowart_v1_GetImageJobRequest, _lowart_v1_GetImageJobResponse, _lowart_v1_GetImageJobRequest__Output, _lowart_v1_GetImageJobResponse__Output>
  ListImageJobs: MethodDefinition<_lowart_v1_ListImageJobsRequest, _lowart_v1_ListImageJobsResponse, _lowart_v1_ListImageJobsRequest__Output, _lowart_v1_ListImageJobsResponse__Output>
}
