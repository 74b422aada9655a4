// Original file: ../../proto/lowart/v1/chat.proto

import type { Delta as _lowart_v1_Delta, Delta__Output as _lowart_v1_Delta__Output } from '../../lowart/v1/Delta';
import type { FinishReason as _lowart_v1_FinishReason, FinishReason__Output as _lowart_v1_FinishReason__Output } from '../../lowart/v1/FinishReason';

export interface ChoiceDelta {
  'index'?: (number);
  'delta'?: (_lowart_v1_Delta | null);
  'finishReason'?: (_lowart_v1_FinishReason);
}

export interface ChoiceDelta__Output {
  'index': (number);
  'delta': (_lowart_v1_Delta__Output | null);
  'finishReason': (_lowart_v1_FinishReason__Output);
}
