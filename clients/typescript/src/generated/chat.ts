import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ListValue as _google_protobuf_ListValue, ListValue__Output as _google_protobuf_ListValue__Output } from './google/protobuf/ListValue';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from './google/protobuf/Struct';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from './google/protobuf/Value';
import type { ChatServiceClient as _lowart_v1_ChatServiceClient, ChatServiceDefinition as _lowart_v1_ChatServiceDefinition } from './lowart/v1/ChatService';
import type { Choice as _lowart_v1_Choice, Choice__Output as _lowart_v1_Choice__Output } from './lowart/v1/Choice';
import type { ChoiceDelta as _lowart_v1_ChoiceDelta, ChoiceDelta__Output as _lowart_v1_ChoiceDelta__Output } from './lowart/v1/ChoiceDelta';
import type { ContentPart as _lowart_v1_ContentPart, ContentPart__Output as _lowart_v1_ContentPart__Output } from './lowart/v1/ContentPart';
import type { CreateChatCompletionRequest as _lowart_v1_CreateChatCompletionRequest, CreateChatCompletionRequest__Output as _lowart_v1_CreateChatCompletionRequest__Output } from './lowart/v1/CreateChatCompletionRequest';
import type { CreateChatCompletionResponse as _lowart_v1_CreateChatCompletionResponse, CreateChatCompletionResponse__Output as _lowart_v1_CreateChatCompletionResponse__Output } from './lowart/v1/CreateChatCompletionResponse';
import type { Delta as _lowart_v1_Delta, Delta__Output as _lowart_v1_Delta__Output } from './lowart/v1/Delta';
import type { FunctionCall as _lowart_v1_FunctionCall, FunctionCall__Output as _lowart_v1_FunctionCall__Output } from './lowart/v1/FunctionCall';
import type { FunctionDefinition as _lowart_v1_FunctionDefinition, FunctionDefinition__Output as _lowart_v1_FunctionDefinition__Output } from './lowart/v1/FunctionDefinition';
import type { ImageUrl as _lowart_v1_ImageUrl, ImageUrl__Output as _lowart_v1_ImageUrl__Output } from './lowart/v1/ImageUrl';
import type { JsonSchema as _lowart_v1_JsonSchema, JsonSchema__Output as _lowart_v1_JsonSchema__Output } from './lowart/v1/JsonSchema';
import type { Message as _lowart_v1_Message, Message__Output as _lowart_v1_Message__Output } from './lowart/v1/Message';
import type { ResponseFormat as _lowart_v1_ResponseFormat, ResponseFormat__Output as _lowart_v1_ResponseFormat__Output } from './lowart/v1/ResponseFormat';
import type { StreamChatCompletionRequest as _lowart_v1_StreamChatCompletionRequest, StreamChatCompletionRequest__Output as _lowart_v1_StreamChatCompletionRequest__Output } from './lowart/v1/StreamChatCompletionRequest';
import type { StreamChatCompletionResponse as _lowart_v1_StreamChatCompletionResponse, StreamChatCompletionResponse__Output as _lowart_v1_StreamChatCompletionResponse__Output } from './lowart/v1/StreamChatCompletionResponse';
import type { Tool as _lowart_v1_Tool, Tool__Output as _lowart_v1_Tool__Output } from './lowart/v1/Tool';
import type { ToolCall as _lowart_v1_ToolCall, ToolCall__Output as _lowart_v1_ToolCall__Output } from './lowart/v1/ToolCall';
import type { ToolCallDelta as _lowart_v1_ToolCallDelta, ToolCallDelta__Output as _lowart_v1_ToolCallDelta__Output } from './lowart/v1/ToolCallDelta';
import type { ToolChoice as _lowart_v1_ToolChoice, ToolChoice__Output as _lowart_v1_ToolChoice__Output } from './lowart/v1/ToolChoice';
import type { Usage as _lowart_v1_Usage, Usage__Output as _lowart_v1_Usage__Output } from './lowart/v1/Usage';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  google: {
    protobuf: {
      ListValue: MessageTypeDefinition<_google_protobuf_ListValue, _google_protobuf_ListValue__Output>
      NullValue: EnumTypeDefinition
      Struct: MessageTypeDefinition<_google_protobuf_Struct, _google_protobuf_Struct__Output>
      Value: MessageTypeDefinition<_google_protobuf_Value, _google_protobuf_Value__Output>
    }
  }
  lowart: {
    v1: {
      ChatService: SubtypeConstructor<typeof grpc.Client, _lowart_v1_ChatServiceClient> & { service: _lowart_v1_ChatServiceDefinition }
      Choice: MessageTypeDefinition<_lowart_v1_Choice, _lowart_v1_Choice__Output>
      ChoiceDelta: MessageTypeDefinition<_lowart_v1_ChoiceDelta, _lowart_v1_ChoiceDelta__Output>
      ContentPart: MessageTypeDefinition<_lowart_v1_ContentPart, _lowart_v1_ContentPart__Output>
      CreateChatCompletionRequest: MessageTypeDefinition<_lowart_v1_CreateChatCompletionRequest, _lowart_v1_CreateChatCompletionRequest__Output>
      CreateChatCompletionResponse: MessageTypeDefinition<_lowart_v1_CreateChatCompletionResponse, _lowart_v1_CreateChatCompletionResponse__Output>
      Delta: MessageTypeDefinition<_lowart_v1_Delta, _lowart_v1_Delta__Output>
      FinishReason: EnumTypeDefinition
      FunctionCall: MessageTypeDefinition<_lowart_v1_FunctionCall, _lowart_v1_FunctionCall__Output>
      FunctionDefinition: MessageTypeDefinition<_lowart_v1_FunctionDefinition, _lowart_v1_FunctionDefinition__Output>
      ImageDetail: EnumTypeDefinition
      ImageUrl: MessageTypeDefinition<_lowart_v1_ImageUrl, _lowart_v1_ImageUrl__Output>
      JsonSchema: MessageTypeDefinition<_lowart_v1_JsonSchema, _lowart_v1_JsonSchema__Output>
      Message: MessageTypeDefinition<_lowart_v1_Message, _lowart_v1_Message__Output>
      ResponseFormat: MessageTypeDefinition<_lowart_v1_ResponseFormat, _lowart_v1_ResponseFormat__Output>
      ResponseFormatType: EnumTypeDefinition
      Role: EnumTypeDefinition
      StreamChatCompletionRequest: MessageTypeDefinition<_lowart_v1_StreamChatCompletionRequest, _lowart_v1_StreamChatCompletionRequest__Output>
      StreamChatCompletionResponse: MessageTypeDefinition<_lowart_v1_StreamChatCompletionResponse, _lowart_v1_StreamChatCompletionResponse__Output>
      Tool: MessageTypeDefinition<_lowart_v1_Tool, _lowart_v1_Tool__Output>
      ToolCall: MessageTypeDefinition<_lowart_v1_ToolCall, _lowart_v1_ToolCall__Output>
      ToolCallDelta: MessageTypeDefinition<_lowart_v1_ToolCallDelta, _lowart_v1_ToolCallDelta__Output>
      ToolChoice: MessageTypeDefinition<_lowart_v1_ToolChoice, _lowart_v1_ToolChoice__Output>
      ToolChoiceMode: EnumTypeDefinition
      Usage: MessageTypeDefinition<_lowart_v1_Usage, _lowart_v1_Usage__Output>
    }
  }
}

