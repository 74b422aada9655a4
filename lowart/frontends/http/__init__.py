"""The HTTP frontend: OpenAI-compatible API, admin API, over TCP and a Unix socket."""

from lowart.frontends.http._app import HttpListener, create_app, prepare_unix_socket_path

__all__ = ["HttpListener", "create_app", "prepare_unix_socket_path"]
