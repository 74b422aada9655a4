// Original file: ../../proto/lowart/v1/images.proto

export const ImageDelivery = {
  IMAGE_DELIVERY_UNSPECIFIED: 'IMAGE_DELIVERY_UNSPECIFIED',
  IMAGE_DELIVERY_BYTES: 'IMAGE_DELIVERY_BYTES',
  IMAGE_DELIVERY_REFERENCE: 'IMAGE_DELIVERY_REFERENCE',
} as const;

export type ImageDelivery =
  | 'IMAGE_DELIVERY_UNSPECIFIED'
  | 0
  | 'IMAGE_DELIVERY_BYTES'
  | 1
  | 'IMAGE_DELIVERY_REFERENCE'
  | 2

export type ImageDelivery__Output = typeof ImageDelivery[keyof typeof ImageDelivery]
