import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ListModelsRequest as _lowart_v1_ListModelsRequest, ListModelsRequest__Output as _lowart_v1_ListModelsRequest__Output } from './lowart/v1/ListModelsRequest';
import type { ListModelsResponse as _lowart_v1_ListModelsResponse, ListModelsResponse__Output as _lowart_v1_ListModelsResponse__Output } from './lowart/v1/ListModelsResponse';
import type { Model as _lowart_v1_Model, Model__Output as _lowart_v1_Model__Output } from './lowart/v1/Model';
import type { ModelServiceClient as _lowart_v1_ModelServiceClient, ModelServiceDefinition as _lowart_v1_ModelServiceDefinition } from './lowart/v1/ModelService';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  lowart: {
    v1: {
      ListModelsRequest: MessageTypeDefinition<_lowart_v1_ListModelsRequest, _lowart_v1_ListModelsRequest__Output>
      ListModelsResponse: MessageTypeDefinition<_lowart_v1_ListModelsResponse, _lowart_v1_ListModelsResponse__Output>
      Model: MessageTypeDefinition<_lowart_v1_Model, _lowart_v1_Model__Output>
      ModelService: SubtypeConstructor<typeof grpc.Client, _lowart_v1_ModelServiceClient> & { service: _lowart_v1_ModelServiceDefinition }
    }
  }
}

