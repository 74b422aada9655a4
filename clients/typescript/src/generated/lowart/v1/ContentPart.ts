// Original file: ../../proto/lowart/v1/chat.proto

import type { ImageUrl as _lowart_v1_ImageUrl, ImageUrl__Output as _lowart_v1_ImageUrl__Output } from '../../lowart/v1/ImageUrl';

export interface ContentPart {
  'text'?: (string);
  'imageUrl'?: (_lowart_v1_ImageUrl | null);
  'part'?: "text"|"imageUrl";
}

export interface ContentPart__Output {
  'text'?: (string);
  'imageUrl'?: (_lowart_v1_ImageUrl__Output | null);
  'part'?: "text"|"imageUrl";
}
