"""The client tests reuse the live gRPC gateway fixtures."""

from tests.frontends.grpc.conftest import grpc_gateway, short_dir

__all__ = ["grpc_gateway", "short_dir"]
