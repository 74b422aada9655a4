// Original file: ../../proto/lowart/v1/chat.proto

import type { Role as _lowart_v1_Role, Role__Output as _lowart_v1_Role__Output } from '../../lowart/v1/Role';
import type { ToolCallDelta as _lowart_v1_ToolCallDelta, ToolCallDelta__Output as _lowart_v1_ToolCallDelta__Output } from '../../lowart/v1/ToolCallDelta';

export interface Delta {
  'role'?: (_lowart_v1_Role);
  'content'?: (string);
  'toolCalls'?: (_lowart_v1_ToolCallDelta)[];
  'refusal'?: (string);
}

export interface Delta__Output {
  'role': (_lowart_v1_Role__Output);
  'content': (string);
  'toolCalls': (_lowart_v1_ToolCallDelta__Output)[];
  'refusal': (string);
}
