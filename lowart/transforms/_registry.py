"""Compiled scripts per route, replaced when the route's script version moves."""

from __future__ import annotations

import logging

from lowart.telemetry import Metrics
from lowart.transforms._hooks import FailedHooks, ScriptHooks
from lowart.transforms._limits import ScriptLimits
from lowart.transforms._script import CompiledScript, ScriptError
from lowart.types import CallContext, Route, VendorHooks

__all__ = ["ScriptRegistry"]

log = logging.getLogger("lowart.transforms")


class ScriptRegistry:
    """Compiles each (route, script_version) once, on its first request.

    Hot reload falls out of this: the model cache refreshes the route, the
    next request sees a new version and compiles it, and requests already in
    flight keep the hooks (and so the compiled script) they started with.
    """

    def __init__(self, limits: ScriptLimits, metrics: Metrics | None = None) -> None:
        self._metrics = metrics or Metrics.disabled()
        self._limits = limits
        self._compiled: dict[int, tuple[int, str, CompiledScript | str]] = {}

    def hooks_for(self, route: Route, ctx: CallContext) -> VendorHooks | None:
        """The Gateway's hook factory; never raises, so the request is still recorded."""
        if not route.script:
            return None
        compiled = self._compiled_for(route)
        if isinstance(compiled, str):
            return FailedHooks(route.name, compiled)
        fields = {
            "route": route.name,
            "vendor": route.vendor,
            "upstream_model": route.upstream_model,
            "interface": ctx.interface,
            "key_name": ctx.key_name,
            "request_id": ctx.request_id,
        }
        return ScriptHooks(route.name, compiled, fields, self._metrics, ctx.attempt_span)

    def _compiled_for(self, route: Route) -> CompiledScript | str:
        source = route.script or ""
        cached = self._compiled.get(route.id)
        # The source is compared too: a removed route's id (and version 1) can come back.
        if cached is not None and cached[0] == route.script_version and cached[1] == source:
            return cached[2]
        try:
            compiled: CompiledScript | str = CompiledScript(
                source, self._limits, label=route.name, model=route.upstream_model
            )
        except ScriptError as exc:
            log.error("script of model %r does not load: %s", route.name, exc)
            compiled = f"does not load: {exc}"
        except Exception:  # never let a request escape unrecorded
            log.exception("script of model %r could not be prepared", route.name)
            compiled = "could not be prepared (see the gateway log)"
        self._compiled[route.id] = (route.script_version, source, compiled)
        return compiled
