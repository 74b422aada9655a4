// Original file: ../../proto/lowart/v1/chat.proto

import type { ResponseFormatType as _lowart_v1_ResponseFormatType, ResponseFormatType__Output as _lowart_v1_ResponseFormatType__Output } from '../../lowart/v1/ResponseFormatType';
import type { JsonSchema as _lowart_v1_JsonSchema, JsonSchema__Output as _lowart_v1_JsonSchema__Output } from '../../lowart/v1/JsonSchema';

export interface ResponseFormat {
  'type'?: (_lowart_v1_ResponseFormatType);
  'jsonSchema'?: (_lowart_v1_JsonSchema | null);
}

export interface ResponseFormat__Output {
  'type': (_lowart_v1_ResponseFormatType__Output);
  'jsonSchema': (_lowart_v1_JsonSchema__Output | null);
}
