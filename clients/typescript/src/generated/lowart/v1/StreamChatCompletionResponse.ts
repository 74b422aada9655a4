// Original file: ../../proto/lowart/v1/chat.proto

import type { ChoiceDelta as _lowart_v1_ChoiceDelta, ChoiceDelta__Output as _lowart_v1_ChoiceDelta__Output } from '../../lowart/v1/ChoiceDelta';
import type { Usage as _lowart_v1_Usage, Usage__Output as _lowart_v1_Usage__Output } from '../../lowart/v1/Usage';
import type { Long } from '@grpc/proto-loader';

export interface StreamChatCompletionResponse {
  'id'?: (string);
  'model'?: (string);
  'created'?: (number | string | Long);
  'choices'?: (_lowart_v1_ChoiceDelta)[];
  'usage'?: (_lowart_v1_Usage | null);
}

export interface StreamChatCompletionResponse__Output {
  'id': (string);
  'model': (string);
  'created': (string);
  'choices': (_lowart_v1_ChoiceDelta__Output)[];
  'usage': (_lowart_v1_Usage__Output | null);
}
