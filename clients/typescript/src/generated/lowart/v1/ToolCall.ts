// Original file: ../../proto/lowart/v1/chat.proto

import type { FunctionCall as _lowart_v1_FunctionCall, FunctionCall__Output as _lowart_v1_FunctionCall__Output } from '../../lowart/v1/FunctionCall';

export interface ToolCall {
  'id'?: (string);
  'function'?: (_lowart_v1_FunctionCall | null);
}

export interface ToolCall__Output {
  'id': (string);
  'function': (_lowart_v1_FunctionCall__Output | null);
}
