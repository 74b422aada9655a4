// Original file: ../../proto/lowart/v1/chat.proto

import type { Choice as _lowart_v1_Choice, Choice__Output as _lowart_v1_Choice__Output } from '../../lowart/v1/Choice';
import type { Usage as _lowart_v1_Usage, Usage__Output as _lowart_v1_Usage__Output } from '../../lowart/v1/Usage';
import type { Long } from '@grpc/proto-loader';

export interface CreateChatCompletionResponse {
  'id'?: (string);
  'model'?: (string);
  'created'?: (number | string | Long);
  'choices'?: (_lowart_v1_Choice)[];
  'usage'?: (_lowart_v1_Usage | null);
  'systemFingerprint'?: (string);
}

export interface CreateChatCompletionResponse__Output {
  'id': (string);
  'model': (string);
  'created': (string);
  'choices': (_lowart_v1_Choice__Output)[];
  'usage': (_lowart_v1_Usage__Output | null);
  'systemFingerprint': (string);
}
