import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';
import type { CancelImageJobRequest as _lowart_v1_CancelImageJobRequest, CancelImageJobRequest__Output as _lowart_v1_CancelImageJobRequest__Output } from './lowart/v1/CancelImageJobRequest';
import type { CancelImageJobResponse as _lowart_v1_CancelImageJobResponse, CancelImageJobResponse__Output as _lowart_v1_CancelImageJobResponse__Output } from './lowart/v1/CancelImageJobResponse';
import type { CreateImageJobRequest as _lowart_v1_CreateImageJobRequest, CreateImageJobRequest__Output as _lowart_v1_CreateImageJobRequest__Output } from './lowart/v1/CreateImageJobRequest';
import type { CreateImageJobResponse as _lowart_v1_CreateImageJobResponse, CreateImageJobResponse__Output as _lowart_v1_CreateImageJobResponse__Output } from './lowart/v1/CreateImageJobResponse';
import type { GenerateImagesRequest as _lowart_v1_GenerateImagesRequest, GenerateImagesRequest__Output as _lowart_v1_GenerateImagesRequest__Output } from './lowart/v1/GenerateImagesRequest';
import type { GenerateImagesResponse as _lowart_v1_GenerateImagesResponse, GenerateImagesResponse__Output as _lowart_v1_GenerateImagesResponse__Output } from './lowart/v1/GenerateImagesResponse';
import type { GetImageJobRequest as _lowart_v1_GetImageJobRequest, GetImageJobRequest__Output as _lowart_v1_GetImageJobRequest__Output } from './lowart/v1/GetImageJobRequest';
import type { GetImageJobResponse as _lowart_v1_GetImageJobResponse, GetImageJobResponse__Output as _lowart_v1_GetImageJobResponse__Output } from './lowart/v1/GetImageJobResponse';
import type { ImageJob as _lowart_v1_ImageJob, ImageJob__Output as _lowart_v1_ImageJob__Output } from './lowart/v1/ImageJob';
import type { ImageJobError as _lowart_v1_ImageJobError, ImageJobError__Output as _lowart_v1_ImageJobError__Output } from './lowart/v1/ImageJobError';
import type { ImageOutput as _lowart_v1_ImageOutput, ImageOutput__Output as _lowart_v1_ImageOutput__Output } from './lowart/v1/ImageOutput';
import type { ImageProgress as _lowart_v1_ImageProgress, ImageProgress__Output as _lowart_v1_ImageProgress__Output } from './lowart/v1/ImageProgress';
import type { ImageServiceClient as _lowart_v1_ImageServiceClient, ImageServiceDefinition as _lowart_v1_ImageServiceDefinition } from './lowart/v1/ImageService';
import type { ImageSpec as _lowart_v1_ImageSpec, ImageSpec__Output as _lowart_v1_ImageSpec__Output } from './lowart/v1/ImageSpec';
import type { ImageSummary as _lowart_v1_ImageSummary, ImageSummary__Output as _lowart_v1_ImageSummary__Output } from './lowart/v1/ImageSummary';
import type { InputImage as _lowart_v1_InputImage, InputImage__Output as _lowart_v1_InputImage__Output } from './lowart/v1/InputImage';
import type { ListImageJobsRequest as _lowart_v1_ListImageJobsRequest, ListImageJobsRequest__Output as _lowart_v1_ListImageJobsRequest__Output } from './lowart/v1/ListImageJobsRequest';
import type { ListImageJobsResponse as _lowart_v1_ListImageJobsResponse, ListImageJobsResponse__Output as _lowart_v1_ListImageJobsResponse__Output } from './lowart/v1/ListImageJobsResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  google: {
    protobuf: {
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
  lowart: {
    v1: {
      CancelImageJobRequest: MessageTypeDefinition<_lowart_v1_CancelImageJobRequest, _lowart_v1_CancelImageJobRequest__Output>
      CancelImageJobResponse: MessageTypeDefinition<_lowart_v1_CancelImageJobResponse, _lowart_v1_CancelImageJobResponse__Output>
      CreateImageJobRequest: MessageTypeDefinition<_lowart_v1_CreateImageJobRequest, _lowart_v1_CreateImageJobRequest__Output>
      CreateImageJobResponse: MessageTypeDefinition<_lowart_v1_CreateImageJobResponse, _lowart_v1_CreateImageJobResponse__Output>
      GenerateImagesRequest: MessageTypeDefinition<_lowart_v1_GenerateImagesRequest, _lowart_v1_GenerateImagesRequest__Output>
      GenerateImagesResponse: MessageTypeDefinition<_lowart_v1_GenerateImagesResponse, _lowart_v1_GenerateImagesResponse__Output>
      GetImageJobRequest: MessageTypeDefinition<_lowart_v1_GetImageJobRequest, _lowart_v1_GetImageJobRequest__Output>
      GetImageJobResponse: MessageTypeDefinition<_lowart_v1_GetImageJobResponse, _lowart_v1_GetImageJobResponse__Output>
      ImageDelivery: EnumTypeDefinition
      ImageJob: MessageTypeDefinition<_lowart_v1_ImageJob, _lowart_v1_ImageJob__Output>
      ImageJobError: MessageTypeDefinition<_lowart_v1_ImageJobError, _lowart_v1_ImageJobError__Output>
      ImageJobStatus: EnumTypeDefinition
      ImageOutput: MessageTypeDefinition<_lowart_v1_ImageOutput, _lowart_v1_ImageOutput__Output>
      ImageProgress: MessageTypeDefinition<_lowart_v1_ImageProgress, _lowart_v1_ImageProgress__Output>
      ImageProgressState: EnumTypeDefinition
      ImageService: SubtypeConstructor<typeof grpc.Client, _lowart_v1_ImageServiceClient> & { service: _lowart_v1_ImageServiceDefinition }
      ImageSpec: MessageTypeDefinition<_lowart_v1_ImageSpec, _lowart_v1_ImageSpec__Output>
      ImageSummary: MessageTypeDefinition<_lowart_v1_ImageSummary, _lowart_v1_ImageSummary__Output>
      InputImage: MessageTypeDefinition<_lowart_v1_InputImage, _lowart_v1_InputImage__Output>
      ListImageJobsRequest: MessageTypeDefinition<_lowart_v1_ListImageJobsRequest, _lowart_v1_ListImageJobsRequest__Output>
      ListImageJobsResponse: MessageTypeDefinition<_lowart_v1_ListImageJobsResponse, _lowart_v1_ListImageJobsResponse__Output>
    }
  }
}

