"""The gRPC binding: the SDK's A2AService on lowart's gRPC server (TCP and Unix socket).

The route is the request's `tenant` (the route cards' gRPC interfaces set it);
the key is the call's `authorization: Bearer KEY` (or `x-api-key`) metadata,
checked by the admitting handler as on lowart's other gRPC services.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import grpc
from a2a.server.context import ServerCallContext
from a2a.server.request_handlers import GrpcHandler, GrpcServerCallContextBuilder
from a2a.types import a2a_pb2, a2a_pb2_grpc

from lowart.frontends._grpc_key import grpc_presented_key
from lowart.frontends.a2a._caller import PRESENTED_KEY, REQUEST_ID
from lowart.frontends.a2a._service import A2aAgents

__all__ = ["A2A_SERVICE_NAME", "add_a2a_service"]

A2A_SERVICE_NAME: str = a2a_pb2.DESCRIPTOR.services_by_name["A2AService"].full_name


class _MetadataContext(GrpcServerCallContextBuilder):
    def build(self, context: grpc.aio.ServicerContext[Any, Any]) -> ServerCallContext:
        return ServerCallContext(
            state={
                "grpc_context": context,
                PRESENTED_KEY: grpc_presented_key(context),
                REQUEST_ID: uuid.uuid4().hex,
            }
        )


def add_a2a_service(agents: A2aAgents, server: grpc.aio.Server) -> Sequence[str]:
    """Register A2AService; returns its name (for health and reflection)."""
    servicer = GrpcHandler(agents.handler, context_builder=_MetadataContext())
    a2a_pb2_grpc.add_A2AServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
    return (A2A_SERVICE_NAME,)
