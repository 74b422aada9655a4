"""GET /metrics: this process's Prometheus metrics, for whoever LOWART_METRICS allows.

`admin` (the default): an admin key, or the dedicated scrape token
(LOWART_METRICS_TOKEN) as a Bearer token, so a Prometheus server needs no key
that could also change the configuration. `public`: anyone who can reach the
listener. `off`: no route at all (404).
"""

from __future__ import annotations

import hmac

from aiohttp import web

from lowart.frontends._web import call_context, presented_key
from lowart.frontends.http._state import ADMIN, GATEWAY

__all__ = ["add_metrics_route"]

_ACCESS: web.AppKey[tuple[str, str | None]] = web.AppKey("metrics_access", tuple)


def add_metrics_route(app: web.Application, mode: str, token: str | None) -> None:
    """Serve /metrics on `app` as `mode` allows (nothing for `off`)."""
    if mode == "off":
        return
    app[_ACCESS] = (mode, token)
    app.router.add_get("/metrics", _metrics)


async def _metrics(request: web.Request) -> web.Response:
    mode, token = request.app[_ACCESS]
    gateway = request.app[GATEWAY]
    if mode != "public":
        presented = presented_key(request)
        if not (token and presented and hmac.compare_digest(presented, token)):
            principal = await gateway.authenticate(presented)  # 401 without a valid key
            request.app[ADMIN].require_admin(principal)  # 403 for other keys
            call_context(request).attribute(principal.name)
    body, content_type = gateway.metrics.exposition()
    response = web.Response(body=body)
    response.headers["Content-Type"] = content_type
    return response
