// Original file: ../../proto/lowart/v1/images.proto

import type { Long } from '@grpc/proto-loader';

export interface ImageSummary {
  'imageCount'?: (number);
  'durationMs'?: (number | string | Long);
}

export interface ImageSummary__Output {
  'imageCount': (number);
  'durationMs': (string);
}
