// Original file: ../../proto/lowart/v1/images.proto

import type { Long } from '@grpc/proto-loader';

export interface ImageOutput {
  'index'?: (number);
  'fileId'?: (string);
  'url'?: (string);
  'contentType'?: (string);
  'sizeBytes'?: (number | string | Long);
  'data'?: (Buffer | Uint8Array | string);
}

export interface ImageOutput__Output {
  'index': (number);
  'fileId': (string);
  'url': (string);
  'contentType': (string);
  'sizeBytes': (string);
  'data': (Buffer);
}
