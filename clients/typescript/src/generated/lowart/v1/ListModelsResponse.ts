// Original file: ../../proto/lowart/v1/models.proto

import type { Model as _lowart_v1_Model, Model__Output as _lowart_v1_Model__Output } from '../../lowart/v1/Model';

export interface ListModelsResponse {
  'models'?: (_lowart_v1_Model)[];
}

export interface ListModelsResponse__Output {
  'models': (_lowart_v1_Model__Output)[];
}
