// Original file: ../../proto/lowart/v1/images.proto

import type { ImageProgress as _lowart_v1_ImageProgress, ImageProgress__Output as _lowart_v1_ImageProgress__Output } from '../../lowart/v1/ImageProgress';
import type { ImageOutput as _lowart_v1_ImageOutput, ImageOutput__Output as _lowart_v1_ImageOutput__Output } from '../../lowart/v1/ImageOutput';
import type { ImageSummary as _lowart_v1_ImageSummary, ImageSummary__Output as _lowart_v1_ImageSummary__Output } from '../../lowart/v1/ImageSummary';

export interface GenerateImagesResponse {
  'jobId'?: (string);
  'model'?: (string);
  'progress'?: (_lowart_v1_ImageProgress | null);
  'image'?: (_lowart_v1_ImageOutput | null);
  'summary'?: (_lowart_v1_ImageSummary | null);
  'event'?: "progress"|"image"|"summary";
}

export interface GenerateImagesResponse__Output {
  'jobId': (string);
  'model': (string);
  'progress'?: (_lowart_v1_ImageProgress__Output | null);
  'image'?: (_lowart_v1_ImageOutput__Output | null);
  'summary'?: (_lowart_v1_ImageSummary__Output | null);
  'event'?: "progress"|"image"|"summary";
}
