// Original file: ../../proto/lowart/v1/images.proto


export interface GetImageJobRequest {
  'id'?: (string);
}

export interface GetImageJobRequest__Output {
  'id': (string);
}
