// Original file: ../../proto/lowart/v1/images.proto

import type { ImageJob as _lowart_v1_ImageJob, ImageJob__Output as _lowart_v1_ImageJob__Output } from '../../lowart/v1/ImageJob';

export interface CancelImageJobResponse {
  'job'?: (_lowart_v1_ImageJob | null);
}

export interface CancelImageJobResponse__Output {
  'job': (_lowart_v1_ImageJob__Output | null);
}
