"""One script version, compiled once in its own sandboxed Lua runtime.

A runtime per script version (not per call, not shared between scripts): the
compiled functions are reused by every request, a hostile script can only
spoil its own runtime, and the per-runtime memory cap is then the per-call
cap, since a call never leaves anything behind.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import lupa
import orjson
from lupa import lua54

from lowart.accounting import count_text
from lowart.transforms._convert import EMPTY_ARRAY, ConversionError, LuaConverter
from lowart.transforms._limits import ScriptLimits
from lowart.transforms._sandbox_lua import SANDBOX_LUA

__all__ = ["PHASES", "SKIPPED", "CompiledScript", "ScriptError"]

log = logging.getLogger("lowart.transforms")

PHASES = ("request", "response", "chunk")
_ARRAYS_AS_ARGUMENTS = 64
_COUNT_PIECE = 8192  # characters: a few ms of tokenizer at worst
SKIPPED = object()  # the script does not define the phase: the payload passes unchanged
_LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class ScriptError(Exception):
    """A script failed to compile or failed a call; `phase` says where."""

    def __init__(self, phase: str, message: str) -> None:
        super().__init__(f"{phase}: {message}")
        self.phase = phase
        self.message = message


def _deny_attributes(obj: object, name: object, is_setting: bool) -> object:
    """lupa's attribute filter: no Python attribute is ever reachable from Lua."""
    raise AttributeError("access to Python objects is not allowed")


class _LogLimiter:
    """A token bucket so a chatty script cannot flood the gateway log."""

    __slots__ = ("_last", "_suppressed", "_tokens")
    BURST, PER_SECOND = 20.0, 5.0

    def __init__(self) -> None:
        self._tokens = self.BURST
        self._last = time.monotonic()
        self._suppressed = 0

    def allow(self) -> tuple[bool, int]:
        now = time.monotonic()
        self._tokens = min(self.BURST, self._tokens + (now - self._last) * self.PER_SECOND)
        self._last = now
        if self._tokens < 1:
            self._suppressed += 1
            return False, 0
        self._tokens -= 1
        suppressed, self._suppressed = self._suppressed, 0
        return True, suppressed


class CompiledScript:
    """Compile a script (raises ScriptError with the Lua message and line) and run its phases."""

    def __init__(
        self, source: str, limits: ScriptLimits, *, label: str = "script", model: str = "gpt-4o"
    ) -> None:
        self.label = label
        self._limits = limits
        self._model = model
        self._log_limiter = _LogLimiter()
        # types-lupa lists only `unpack_returned_tuples`; lupa's LuaRuntime takes all of these.
        runtime = lua54.LuaRuntime(  # type: ignore[call-arg]
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
            attribute_filter=_deny_attributes,
            max_memory=limits.memory_bytes + 8 * 1024 * 1024,
        )
        # The sandbox chunk returns its table of functions; Lua values are untyped (Any in lupa).
        exports: Any = runtime.execute(
            SANDBOX_LUA,
            time.perf_counter,
            self._encode,
            self._decode,
            self._count,
            self._log,
            EMPTY_ARRAY,
            limits.memory_bytes,
        )
        self._make_ctx = exports["make_ctx"]
        self._table_from = runtime.table_from
        self._convert = LuaConverter(runtime.table_from, exports["null"])
        try:
            ok, made = exports["compile"](source, limits.instructions, limits.seconds)
            if not ok:
                raise ScriptError("compile", str(made))
            ok, found = exports["phases"](made, limits.instructions, limits.seconds)
            if not ok:
                raise ScriptError("load", str(found))
        except lupa.LuaMemoryError:
            raise ScriptError("compile", "memory limit exceeded") from None
        except lupa.LuaError as exc:
            raise ScriptError("compile", _first_line(exc)) from None
        self._run = exports["runner"](made, limits.instructions)
        self.phases = frozenset(found.split(",")) - {""}
        runtime.gccollect()
        # Everything above the baseline belongs to the call in progress.
        runtime.set_max_memory(runtime.get_memory_used() + limits.memory_bytes)
        self._runtime = runtime

    def context(self, fields: dict[str, Any]) -> Any:
        """A read-only `ctx` table for one request (strings only, never a secret)."""
        return self._make_ctx(self._table_from({k: v for k, v in fields.items() if v is not None}))

    def call(self, phase: str, payload: Any, ctx: Any) -> Any:
        """Run `phase` on a JSON-shaped payload; SKIPPED if the script does not define it.

        Returns plain dicts/lists (None when a chunk is dropped); raises ScriptError.
        """
        if phase not in self.phases:
            return SKIPPED
        try:
            arrays: list[Any] = []
            table = self._convert.to_lua(payload, arrays)
            deadline = time.perf_counter() + self._limits.seconds
            if len(arrays) <= _ARRAYS_AS_ARGUMENTS:  # saves a conversion on the hot path
                result = self._run(phase, table, ctx, deadline, None, *arrays)
            else:
                result = self._run(phase, table, ctx, deadline, self._table_from(arrays))
            if not result[0]:
                self._runtime.gccollect()  # a failed call may leave a lot behind
                raise ScriptError(phase, str(result[1]))
            if result[1] == "skip":
                return SKIPPED
            return self._convert.from_lua(result[2])
        except ScriptError:
            raise
        except ConversionError as exc:
            raise ScriptError(phase, str(exc)) from None
        except lupa.LuaMemoryError:
            raise ScriptError(phase, "memory limit exceeded") from None
        except lupa.LuaError as exc:
            raise ScriptError(phase, _first_line(exc)) from None
        except MemoryError:
            raise ScriptError(phase, "memory limit exceeded") from None
        except Exception as exc:  # a host helper broke: never show its traceback to a client
            log.exception("script of %s: internal error in %s", self.label, phase)
            raise ScriptError(phase, f"internal error ({type(exc).__name__})") from None

    # Host functions the sandbox wraps; scripts never hold these Python objects.

    def _encode(self, value: Any) -> Any:
        try:
            return True, orjson.dumps(self._convert.from_lua(value)).decode()
        except (ConversionError, orjson.JSONEncodeError) as exc:
            return False, f"json.encode: {exc}"

    def _decode(self, text: str | bytes) -> Any:
        try:
            arrays: list[Any] = []
            value = self._convert.to_lua(orjson.loads(text), arrays)
            return True, value, self._table_from(arrays)
        except orjson.JSONDecodeError as exc:
            return False, f"json.decode: {exc}"
        except ConversionError as exc:
            return False, f"json.decode: {exc}"

    def _count(self, text: str | bytes, deadline: float) -> int | None:
        """Tokens in `text`; None once `deadline` passes.

        The tokenizer is one uninterruptible call whose cost grows faster than
        the text (a long run without spaces is its worst case), so long text is
        counted in pieces of at most _COUNT_PIECE characters, cut before a space
        where there is one (exact for ordinary text), with the clock checked
        between pieces.
        """
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        if len(text) <= _COUNT_PIECE:
            return count_text(text, self._model)
        total, start, end = 0, 0, len(text)
        while start < end:
            if time.perf_counter() > deadline:
                return None
            stop = start + _COUNT_PIECE
            if stop < end:
                space = text.rfind(" ", start + _COUNT_PIECE // 2, stop)
                stop = space if space > start else stop
            else:
                stop = end
            total += count_text(text[start:stop], self._model)
            start = stop
        return total

    def _log(self, level: str, message: str) -> None:
        allowed, suppressed = self._log_limiter.allow()
        if not allowed:
            return
        note = f" ({suppressed} earlier lines suppressed)" if suppressed else ""
        log.log(
            _LOG_LEVELS.get(level.lower(), logging.INFO),
            "script of %s: %s%s",
            self.label,
            message[:1000],
            note,
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
