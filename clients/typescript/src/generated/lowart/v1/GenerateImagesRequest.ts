// Original file: ../../proto/lowart/v1/images.proto

import type { ImageSpec as _lowart_v1_ImageSpec, ImageSpec__Output as _lowart_v1_ImageSpec__Output } from '../../lowart/v1/ImageSpec';
import type { ImageDelivery as _lowart_v1_ImageDelivery, ImageDelivery__Output as _lowart_v1_ImageDelivery__Output } from '../../lowart/v1/ImageDelivery';

export interface GenerateImagesRequest {
  'spec'?: (_lowart_v1_ImageSpec | null);
  'delivery'?: (_lowart_v1_ImageDelivery);
}

export interface GenerateImagesRequest__Output {
  'spec': (_lowart_v1_ImageSpec__Output | null);
  'delivery': (_lowart_v1_ImageDelivery__Output);
}
