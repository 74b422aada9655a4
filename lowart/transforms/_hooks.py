"""A compiled script applied to one call: the `VendorHooks` the adapter base class applies."""

from __future__ import annotations

import logging
import time
from typing import Any, NoReturn

from lowart.errors import TransformFailed
from lowart.telemetry import NO_SPAN, Metrics, Span
from lowart.transforms._script import SKIPPED, CompiledScript, ScriptError

__all__ = ["FailedHooks", "ScriptHooks", "run_phase"]

log = logging.getLogger("lowart.transforms")


def run_phase(script: CompiledScript, phase: str, payload: dict[str, Any], ctx: Any) -> Any:
    """Run one phase and check the shape of its result; raises ScriptError.

    `request` and `response` must return an object; `chunk` returns an object
    or nil (drop the event). A phase the script lacks returns the payload.
    """
    result = script.call(phase, payload, ctx)
    if result is SKIPPED:
        return payload
    if isinstance(result, dict) or (result is None and phase == "chunk"):
        return result
    wanted = "a table or nil" if phase == "chunk" else "a table"
    got = "nil" if result is None else "an array" if isinstance(result, list) else "a value"
    raise ScriptError(phase, f"{phase}() must return {wanted}, it returned {got}")


class ScriptHooks:
    """The script version this attempt started with, and its read-only `ctx`.

    `ScriptRegistry.hooks_for` makes one per attempt: the Router asks for it
    before each try of a deployment (so a fallback runs its own route's script)
    and passes it to the adapter's `complete`/`stream`, or to the image engine for
    each attempt to hand a job to a deployment (the same `Router.run`). A stream
    keeps the object it started with, so a script updated mid-stream does not
    change the rest of it.
    """

    __slots__ = ("_ctx", "_fields", "_metrics", "_route", "_script", "_span")

    def __init__(
        self,
        route: str,
        script: CompiledScript,
        fields: dict[str, Any],
        metrics: Metrics | None = None,
        span: Span = NO_SPAN,
    ) -> None:
        self._route = route
        self._script = script
        self._fields = fields
        self._ctx: Any = None
        self._metrics = metrics or Metrics.disabled()
        self._span = span
        """The attempt's span: request and response calls get a child span each (a chunk
        call, one per stream event, is counted in the metrics but not traced)."""

    # `run_phase` checked the shape: an object, or nil only for a chunk.
    def request(self, payload: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._run("request", payload)
        return result

    def response(self, payload: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._run("response", payload)
        return result

    def event(self, event: dict[str, Any]) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self._run("chunk", event)
        return result

    def _run(self, phase: str, payload: dict[str, Any]) -> Any:
        if phase not in self._script.phases:
            return payload
        span = (
            self._span.child(f"lua {phase}", {"lowart.route": self._route, "lowart.phase": phase})
            if self._span.recording and phase != "chunk"
            else NO_SPAN
        )
        started = time.perf_counter()
        try:
            if self._ctx is None:
                self._ctx = self._script.context(self._fields)
            result = run_phase(self._script, phase, payload, self._ctx)
        except ScriptError as exc:
            self._metrics.lua_call(self._route, phase, time.perf_counter() - started, True)
            span.fail("lua_error", exc.message)
            span.end()
            log.warning("script of model %r failed in %s: %s", self._route, phase, exc.message)
            raise TransformFailed(
                f"The script of model '{self._route}' failed in {phase}: {exc.message}"
            ) from None
        self._metrics.lua_call(self._route, phase, time.perf_counter() - started, False)
        span.end()
        return result


class FailedHooks:
    """Stands in for a script that no longer compiles: every call fails the request."""

    __slots__ = ("_message", "_route")

    def __init__(self, route: str, message: str) -> None:
        self._route = route
        self._message = message

    def _fail(self) -> NoReturn:
        raise TransformFailed(f"The script of model '{self._route}' {self._message}")

    def request(self, payload: dict[str, Any]) -> dict[str, Any]:
        self._fail()

    def response(self, payload: dict[str, Any]) -> dict[str, Any]:
        self._fail()

    def event(self, event: dict[str, Any]) -> dict[str, Any] | None:
        self._fail()
