// Original file: ../../proto/lowart/v1/chat.proto

export const FinishReason = {
  FINISH_REASON_UNSPECIFIED: 'FINISH_REASON_UNSPECIFIED',
  FINISH_REASON_STOP: 'FINISH_REASON_STOP',
  FINISH_REASON_LENGTH: 'FINISH_REASON_LENGTH',
  FINISH_REASON_TOOL_CALLS: 'FINISH_REASON_TOOL_CALLS',
  FINISH_REASON_CONTENT_FILTER: 'FINISH_REASON_CONTENT_FILTER',
} as const;

export type FinishReason =
  | 'FINISH_REASON_UNSPECIFIED'
  | 0
  | 'FINISH_REASON_STOP'
  | 1
  | 'FINISH_REASON_LENGTH'
  | 2
  | 'FINISH_REASON_TOOL_CALLS'
  | 3
  | 'FINISH_REASON_CONTENT_FILTER'
  | 4

export type FinishReason__Output = typeof FinishReason[keyof typeof FinishReason]
