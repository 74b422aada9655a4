// Original file: ../../proto/lowart/v1/chat.proto


export interface Usage {
  'promptTokens'?: (number);
  'completionTokens'?: (number);
  'totalTokens'?: (number);
}

export interface Usage__Output {
  'promptTokens': (number);
  'completionTokens': (number);
  'totalTokens': (number);
}
