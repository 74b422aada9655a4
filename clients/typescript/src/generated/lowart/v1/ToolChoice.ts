// Original file: ../../proto/lowart/v1/chat.proto

import type { ToolChoiceMode as _lowart_v1_ToolChoiceMode, ToolChoiceMode__Output as _lowart_v1_ToolChoiceMode__Output } from '../../lowart/v1/ToolChoiceMode';

export interface ToolChoice {
  'mode'?: (_lowart_v1_ToolChoiceMode);
  'functionName'?: (string);
  'choice'?: "mode"|"functionName";
}

export interface ToolChoice__Output {
  'mode'?: (_lowart_v1_ToolChoiceMode__Output);
  'functionName'?: (string);
  'choice'?: "mode"|"functionName";
}
