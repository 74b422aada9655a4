"""Typed gRPC client for the lowart AI gateway.

from lowart_client import LowartClient

with LowartClient("unix:///run/lowart/lowart-grpc.sock", api_key="la-...") as client:
    print(client.chat("mock", "Hello").choices[0].message.content)
"""

from lowart_client._client import AsyncLowartClient, LowartClient
from lowart_client._images import event_kind
from lowart_client._messages import MessageLike, delta_text, to_message
from lowart_client._proto import chat_pb2, images_pb2, models_pb2

__all__ = [
    "AsyncLowartClient",
    "LowartClient",
    "MessageLike",
    "chat_pb2",
    "delta_text",
    "event_kind",
    "images_pb2",
    "models_pb2",
    "to_message",
]
