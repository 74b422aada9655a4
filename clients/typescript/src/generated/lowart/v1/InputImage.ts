// Original file: ../../proto/lowart/v1/images.proto


export interface InputImage {
  'data'?: (Buffer | Uint8Array | string);
  'contentType'?: (string);
}

export interface InputImage__Output {
  'data': (Buffer);
  'contentType': (string);
}
