// Original file: ../../proto/lowart/v1/chat.proto

import type { Role as _lowart_v1_Role, Role__Output as _lowart_v1_Role__Output } from '../../lowart/v1/Role';
import type { ContentPart as _lowart_v1_ContentPart, ContentPart__Output as _lowart_v1_ContentPart__Output } from '../../lowart/v1/ContentPart';
import type { ToolCall as _lowart_v1_ToolCall, ToolCall__Output as _lowart_v1_ToolCall__Output } from '../../lowart/v1/ToolCall';

export interface Message {
  'role'?: (_lowart_v1_Role);
  'content'?: (string);
  'parts'?: (_lowart_v1_ContentPart)[];
  'name'?: (string);
  'toolCalls'?: (_lowart_v1_ToolCall)[];
  'toolCallId'?: (string);
  'refusal'?: (string);
}

export interface Message__Output {
  'role': (_lowart_v1_Role__Output);
  'content': (string);
  'parts': (_lowart_v1_ContentPart__Output)[];
  'name': (string);
  'toolCalls': (_lowart_v1_ToolCall__Output)[];
  'toolCallId': (string);
  'refusal': (string);
}
