// Original file: ../../proto/lowart/v1/chat.proto

import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct';

export interface FunctionDefinition {
  'name'?: (string);
  'description'?: (string);
  'parameters'?: (_google_protobuf_Struct | null);
  'strict'?: (boolean);
  '_strict'?: "strict";
}

export interface FunctionDefinition__Output {
  'name': (string);
  'description': (string);
  'parameters': (_google_protobuf_Struct__Output | null);
  'strict'?: (boolean);
  '_strict'?: "strict";
}
