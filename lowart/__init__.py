"""lowart: an AI API gateway with one engine behind HTTP/SSE, gRPC and MCP."""

__version__ = "0.1.0"
