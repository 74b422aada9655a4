// Original file: ../../proto/lowart/v1/images.proto

import type { ImageJobStatus as _lowart_v1_ImageJobStatus, ImageJobStatus__Output as _lowart_v1_ImageJobStatus__Output } from '../../lowart/v1/ImageJobStatus';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { ImageProgress as _lowart_v1_ImageProgress, ImageProgress__Output as _lowart_v1_ImageProgress__Output } from '../../lowart/v1/ImageProgress';
import type { ImageOutput as _lowart_v1_ImageOutput, ImageOutput__Output as _lowart_v1_ImageOutput__Output } from '../../lowart/v1/ImageOutput';
import type { ImageJobError as _lowart_v1_ImageJobError, ImageJobError__Output as _lowart_v1_ImageJobError__Output } from '../../lowart/v1/ImageJobError';

export interface ImageJob {
  'id'?: (string);
  'model'?: (string);
  'status'?: (_lowart_v1_ImageJobStatus);
  'createTime'?: (_google_protobuf_Timestamp | null);
  'startTime'?: (_google_protobuf_Timestamp | null);
  'finishTime'?: (_google_protobuf_Timestamp | null);
  'progress'?: (_lowart_v1_ImageProgress | null);
  'outputs'?: (_lowart_v1_ImageOutput)[];
  'error'?: (_lowart_v1_ImageJobError | null);
}

export interface ImageJob__Output {
  'id': (string);
  'model': (string);
  'status': (_lowart_v1_ImageJobStatus__Output);
  'createTime': (_google_protobuf_Timestamp__Output | null);
  'startTime': (_google_protobuf_Timestamp__Output | null);
  'finishTime': (_google_protobuf_Timestamp__Output | null);
  'progress': (_lowart_v1_ImageProgress__Output | null);
  'outputs': (_lowart_v1_ImageOutput__Output)[];
  'error': (_lowart_v1_ImageJobError__Output | null);
}
