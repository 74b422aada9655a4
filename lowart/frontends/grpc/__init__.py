"""The gRPC frontend: lowart.v1 ChatService and ModelService, health and reflection."""

from lowart.frontends.grpc._listener import GrpcExtension, GrpcListener, server_options
from lowart.frontends.grpc._rpc import status_for

__all__ = ["GrpcExtension", "GrpcListener", "server_options", "status_for"]
