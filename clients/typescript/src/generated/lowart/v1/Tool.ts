// Original file: ../../proto/lowart/v1/chat.proto

import type { FunctionDefinition as _lowart_v1_FunctionDefinition, FunctionDefinition__Output as _lowart_v1_FunctionDefinition__Output } from '../../lowart/v1/FunctionDefinition';

export interface Tool {
  'function'?: (_lowart_v1_FunctionDefinition | null);
}

export interface Tool__Output {
  'function': (_lowart_v1_FunctionDefinition__Output | null);
}
