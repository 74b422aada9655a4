// Original file: ../../proto/lowart/v1/images.proto


export interface ListImageJobsRequest {
  'limit'?: (number);
}

export interface ListImageJobsRequest__Output {
  'limit': (number);
}
