// Original file: ../../proto/lowart/v1/chat.proto

export const ImageDetail = {
  IMAGE_DETAIL_UNSPECIFIED: 'IMAGE_DETAIL_UNSPECIFIED',
  IMAGE_DETAIL_AUTO: 'IMAGE_DETAIL_AUTO',
  IMAGE_DETAIL_LOW: 'IMAGE_DETAIL_LOW',
  IMAGE_DETAIL_HIGH: 'IMAGE_DETAIL_HIGH',
} as const;

export type ImageDetail =
  | 'IMAGE_DETAIL_UNSPECIFIED'
  | 0
  | 'IMAGE_DETAIL_AUTO'
  | 1
  | 'IMAGE_DETAIL_LOW'
  | 2
  | 'IMAGE_DETAIL_HIGH'
  | 3

export type ImageDetail__Output = typeof ImageDetail[keyof typeof ImageDetail]
