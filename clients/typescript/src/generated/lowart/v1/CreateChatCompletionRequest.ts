// Original file: ../../proto/lowart/v1/chat.proto

import type { Message as _lowart_v1_Message, Message__Output as _lowart_v1_Message__Output } from '../../lowart/v1/Message';
import type { ResponseFormat as _lowart_v1_ResponseFormat, ResponseFormat__Output as _lowart_v1_ResponseFormat__Output } from '../../lowart/v1/ResponseFormat';
import type { Tool as _lowart_v1_Tool, Tool__Output as _lowart_v1_Tool__Output } from '../../lowart/v1/Tool';
import type { ToolChoice as _lowart_v1_ToolChoice, ToolChoice__Output as _lowart_v1_ToolChoice__Output } from '../../lowart/v1/ToolChoice';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct';
import type { Long } from '@grpc/proto-loader';

export interface CreateChatCompletionRequest {
  'model'?: (string);
  'messages'?: (_lowart_v1_Message)[];
  'temperature'?: (number | string);
  'topP'?: (number | string);
  'maxTokens'?: (number);
  'stop'?: (string)[];
  'seed'?: (number | string | Long);
  'n'?: (number);
  'responseFormat'?: (_lowart_v1_ResponseFormat | null);
  'tools'?: (_lowart_v1_Tool)[];
  'toolChoice'?: (_lowart_v1_ToolChoice | null);
  'user'?: (string);
  'presencePenalty'?: (number | string);
  'frequencyPenalty'?: (number | string);
  'extra'?: (_google_protobuf_Struct | null);
  '_temperature'?: "temperature";
  '_topP'?: "topP";
  '_maxTokens'?: "maxTokens";
  '_seed'?: "seed";
  '_n'?: "n";
  '_presencePenalty'?: "presencePenalty";
  '_frequencyPenalty'?: "frequencyPenalty";
}

export interface CreateChatCompletionRequest__Output {
  'model': (string);
  'messages': (_lowart_v1_Message__Output)[];
  'temperature'?: (number);
  'topP'?: (number);
  'maxTokens'?: (number);
  'stop': (string)[];
  'seed'?: (string);
  'n'?: (number);
  'responseFormat': (_lowart_v1_ResponseFormat__Output | null);
  'tools': (_lowart_v1_Tool__Output)[];
  'toolChoice': (_lowart_v1_ToolChoice__Output | null);
  'user': (string);
  'presencePenalty'?: (number);
  'frequencyPenalty'?: (number);
  'extra': (_google_protobuf_Struct__Output | null);
  '_temperature'?: "temperature";
  '_topP'?: "topP";
  '_maxTokens'?: "maxTokens";
  '_seed'?: "seed";
  '_n'?: "n";
  '_presencePenalty'?: "presencePenalty";
  '_frequencyPenalty'?: "frequencyPenalty";
}
