// Original file: ../../proto/lowart/v1/chat.proto

import type { Message as _lowart_v1_Message, Message__Output as _lowart_v1_Message__Output } from '../../lowart/v1/Message';
import type { FinishReason as _lowart_v1_FinishReason, FinishReason__Output as _lowart_v1_FinishReason__Output } from '../../lowart/v1/FinishReason';

export interface Choice {
  'index'?: (number);
  'message'?: (_lowart_v1_Message | null);
  'finishReason'?: (_lowart_v1_FinishReason);
}

export interface Choice__Output {
  'index': (number);
  'message': (_lowart_v1_Message__Output | null);
  'finishReason': (_lowart_v1_FinishReason__Output);
}
