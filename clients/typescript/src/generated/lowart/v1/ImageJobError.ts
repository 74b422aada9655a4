// Original file: ../../proto/lowart/v1/images.proto


export interface ImageJobError {
  'code'?: (string);
  'message'?: (string);
}

export interface ImageJobError__Output {
  'code': (string);
  'message': (string);
}
