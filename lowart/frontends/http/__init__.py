"""The HTTP frontend: OpenAI and Anthropic APIs and the admin API, over TCP and a Unix socket."""

from lowart.frontends.http._app import AppExtension, HttpListener, create_app

__all__ = ["AppExtension", "HttpListener", "create_app"]
