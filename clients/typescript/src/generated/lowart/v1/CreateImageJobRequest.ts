// Original file: ../../proto/lowart/v1/images.proto

import type { ImageSpec as _lowart_v1_ImageSpec, ImageSpec__Output as _lowart_v1_ImageSpec__Output } from '../../lowart/v1/ImageSpec';

export interface CreateImageJobRequest {
  'spec'?: (_lowart_v1_ImageSpec | null);
}

export interface CreateImageJobRequest__Output {
  'spec': (_lowart_v1_ImageSpec__Output | null);
}
