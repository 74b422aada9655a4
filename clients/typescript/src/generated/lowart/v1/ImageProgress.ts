// Original file: ../../proto/lowart/v1/images.proto

import type { ImageProgressState as _lowart_v1_ImageProgressState, ImageProgressState__Output as _lowart_v1_ImageProgressState__Output } from '../../lowart/v1/ImageProgressState';

export interface ImageProgress {
  'state'?: (_lowart_v1_ImageProgressState);
  'queuePosition'?: (number);
  'nodeId'?: (string);
  'nodeType'?: (string);
  'nodeIndex'?: (number);
  'nodeCount'?: (number);
  'step'?: (number);
  'stepCount'?: (number);
}

export interface ImageProgress__Output {
  'state': (_lowart_v1_ImageProgressState__Output);
  'queuePosition': (number);
  'nodeId': (string);
  'nodeType': (string);
  'nodeIndex': (number);
  'nodeCount': (number);
  'step': (number);
  'stepCount': (number);
}
