// Original file: ../../proto/lowart/v1/images.proto


export interface CancelImageJobRequest {
  'id'?: (string);
}

export interface CancelImageJobRequest__Output {
  'id': (string);
}
