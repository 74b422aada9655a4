// Original file: ../../proto/lowart/v1/chat.proto

export const ToolChoiceMode = {
  TOOL_CHOICE_MODE_UNSPECIFIED: 'TOOL_CHOICE_MODE_UNSPECIFIED',
  TOOL_CHOICE_MODE_NONE: 'TOOL_CHOICE_MODE_NONE',
  TOOL_CHOICE_MODE_AUTO: 'TOOL_CHOICE_MODE_AUTO',
  TOOL_CHOICE_MODE_REQUIRED: 'TOOL_CHOICE_MODE_REQUIRED',
} as const;

export type ToolChoiceMode =
  | 'TOOL_CHOICE_MODE_UNSPECIFIED'
  | 0
  | 'TOOL_CHOICE_MODE_NONE'
  | 1
  | 'TOOL_CHOICE_MODE_AUTO'
  | 2
  | 'TOOL_CHOICE_MODE_REQUIRED'
  | 3

export type ToolChoiceMode__Output = typeof ToolChoiceMode[keyof typeof ToolChoiceMode]
