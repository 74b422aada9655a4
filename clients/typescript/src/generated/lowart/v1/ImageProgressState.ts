// Original file: ../../proto/lowart/v1/images.proto

export const ImageProgressState = {
  IMAGE_PROGRESS_STATE_UNSPECIFIED: 'IMAGE_PROGRESS_STATE_UNSPECIFIED',
  IMAGE_PROGRESS_STATE_QUEUED: 'IMAGE_PROGRESS_STATE_QUEUED',
  IMAGE_PROGRESS_STATE_RUNNING: 'IMAGE_PROGRESS_STATE_RUNNING',
} as const;

export type ImageProgressState =
  | 'IMAGE_PROGRESS_STATE_UNSPECIFIED'
  | 0
  | 'IMAGE_PROGRESS_STATE_QUEUED'
  | 1
  | 'IMAGE_PROGRESS_STATE_RUNNING'
  | 2

export type ImageProgressState__Output = typeof ImageProgressState[keyof typeof ImageProgressState]
