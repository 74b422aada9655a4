"""The grpc.aio server, on TCP and/or a Unix socket, in the gateway's event loop."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from lowart._proto import (
    chat_pb2,
    chat_pb2_grpc,
    images_pb2,
    images_pb2_grpc,
    models_pb2,
    models_pb2_grpc,
)
from lowart.config import Settings
from lowart.frontends._sockets import prepare_unix_socket_path
from lowart.frontends.grpc._services import ChatServicer, ImageServicer, ModelServicer
from lowart.gateway import Gateway

__all__ = ["GrpcExtension", "GrpcListener", "server_options"]

GrpcExtension = Callable[[grpc.aio.Server], Sequence[str]]
"""Adds services to the server (A2A, from the composition root); returns their names."""

SERVICE_NAMES = (
    chat_pb2.DESCRIPTOR.services_by_name["ChatService"].full_name,
    models_pb2.DESCRIPTOR.services_by_name["ModelService"].full_name,
    images_pb2.DESCRIPTOR.services_by_name["ImageService"].full_name,
)


def server_options(settings: Settings) -> list[tuple[str, int]]:
    """Message sizes follow the HTTP body limit; keepalive finds dead peers of long streams.

    Connections are bounded like HTTP ones: a new connection has the request-head
    timeout to finish its handshake (the client's HTTP/2 preface and SETTINGS), and
    one with no call in progress is closed after a few idle minutes.
    """
    handshake_ms = int(settings.http_head_timeout * 1000) if settings.http_head_timeout > 0 else 0
    return [
        # A client that opens a connection and never completes the HTTP/2 handshake
        # (slow-loris) is dropped after the head timeout instead of grpc's 120 s.
        *([("grpc.server_handshake_timeout_ms", handshake_ms)] if handshake_ms else []),
        # A connection with no call for 5 minutes gets a GOAWAY and is closed (grpc's
        # default: never). Streams in progress are calls, so they are never idle;
        # clients reconnect transparently. No max_connection_age: its grace would
        # either cut long streams or, unbounded, not close anything; dead peers of
        # long streams are found by the keepalive pings below.
        ("grpc.max_connection_idle_ms", 300_000),
        ("grpc.max_receive_message_length", settings.max_body_bytes),
        ("grpc.max_send_message_length", settings.max_body_bytes),
        # Ping an idle connection every 60 s and drop it if no answer within 20 s,
        # so a vanished client's stream is cancelled instead of held open.
        ("grpc.keepalive_time_ms", 60_000),
        ("grpc.keepalive_timeout_ms", 20_000),
        # Let clients keep connections warm with pings every 10 s or more.
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
        ("grpc.http2.max_ping_strikes", 2),
        # Never share a port with another process (grpc's default on Linux would).
        ("grpc.so_reuseport", 0),
    ]


class GrpcListener:
    """ChatService, ModelService, health and reflection; the socket file is owner-only."""

    def __init__(
        self,
        gateway: Gateway,
        settings: Settings,
        *,
        address: str | None,
        uds: str | None,
        extensions: Sequence[GrpcExtension] = (),
    ) -> None:
        self._gateway = gateway
        self._extensions = extensions
        self._settings = settings
        self._address = address
        self._uds = os.path.abspath(uds) if uds else None
        self._server: grpc.aio.Server | None = None
        self._health = health.aio.HealthServicer()
        self.port: int | None = None

    @classmethod
    def from_settings(
        cls, gateway: Gateway, settings: Settings, extensions: Sequence[GrpcExtension] = ()
    ) -> GrpcListener | None:
        if not settings.grpc or not (settings.grpc_addr or settings.grpc_uds):
            return None
        return cls(
            gateway,
            settings,
            address=settings.grpc_addr,
            uds=settings.grpc_uds,
            extensions=extensions,
        )

    @property
    def addresses(self) -> list[str]:
        found = []
        if self._address and self.port is not None:
            host = self._address.rsplit(":", 1)[0]
            found.append(f"grpc://{host}:{self.port}")
        if self._uds:
            found.append(f"grpc+unix://{self._uds}")
        return found

    @property
    def targets(self) -> list[str]:
        """The listening addresses as gRPC channel targets (`host:port`, `unix:/path`)."""
        found = []
        if self._address and self.port is not None:
            found.append(f"{self._address.rsplit(':', 1)[0]}:{self.port}")
        if self._uds:
            found.append(f"unix:{self._uds}")
        return found

    @property
    def uds(self) -> str | None:
        return self._uds

    async def start(self) -> None:
        server = grpc.aio.server(options=server_options(self._settings))
        gateway = self._gateway
        chat_pb2_grpc.add_ChatServiceServicer_to_server(ChatServicer(gateway), server)
        models_pb2_grpc.add_ModelServiceServicer_to_server(ModelServicer(gateway), server)
        images_pb2_grpc.add_ImageServiceServicer_to_server(ImageServicer(gateway), server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        names = list(SERVICE_NAMES)
        for extend in self._extensions:
            names.extend(extend(server))
        reflection.enable_server_reflection(
            (*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
        self._server = server
        if self._address:
            self.port = server.add_insecure_port(self._address)
        if self._uds:
            prepare_unix_socket_path(self._uds)
            old_umask = os.umask(0o177)  # the socket is born 0600: no window for other users
            try:
                server.add_insecure_port(f"unix:{self._uds}")
                await server.start()
            finally:
                os.umask(old_umask)
            os.chmod(self._uds, 0o600)
        else:
            await server.start()
        for name in names:
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self) -> None:
        """Report NOT_SERVING, refuse new calls, let streams finish within the grace."""
        if self._server is None:
            return
        await self._health.enter_graceful_shutdown()
        await self._server.stop(self._settings.shutdown_grace)
        self._server = None
        if self._uds:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._uds)
