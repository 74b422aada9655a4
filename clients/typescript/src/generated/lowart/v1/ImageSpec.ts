// Original file: ../../proto/lowart/v1/images.proto

import type { InputImage as _lowart_v1_InputImage, InputImage__Output as _lowart_v1_InputImage__Output } from '../../lowart/v1/InputImage';
import type { Long } from '@grpc/proto-loader';

export interface ImageSpec {
  'model'?: (string);
  'prompt'?: (string);
  'negativePrompt'?: (string);
  'n'?: (number);
  'width'?: (number);
  'height'?: (number);
  'seed'?: (number | string | Long);
  'steps'?: (number);
  'cfg'?: (number | string);
  'image'?: (_lowart_v1_InputImage | null);
  '_negativePrompt'?: "negativePrompt";
  '_n'?: "n";
  '_width'?: "width";
  '_height'?: "height";
  '_seed'?: "seed";
  '_steps'?: "steps";
  '_cfg'?: "cfg";
}

export interface ImageSpec__Output {
  'model': (string);
  'prompt': (string);
  'negativePrompt'?: (string);
  'n'?: (number);
  'width'?: (number);
  'height'?: (number);
  'seed'?: (string);
  'steps'?: (number);
  'cfg'?: (number);
  'image': (_lowart_v1_InputImage__Output | null);
  '_negativePrompt'?: "negativePrompt";
  '_n'?: "n";
  '_width'?: "width";
  '_height'?: "height";
  '_seed'?: "seed";
  '_steps'?: "steps";
  '_cfg'?: "cfg";
}
