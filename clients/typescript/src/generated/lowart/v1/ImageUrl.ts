// Original file: ../../proto/lowart/v1/chat.proto

import type { ImageDetail as _lowart_v1_ImageDetail, ImageDetail__Output as _lowart_v1_ImageDetail__Output } from '../../lowart/v1/ImageDetail';

export interface ImageUrl {
  'url'?: (string);
  'detail'?: (_lowart_v1_ImageDetail);
}

export interface ImageUrl__Output {
  'url': (string);
  'detail': (_lowart_v1_ImageDetail__Output);
}
