"""Payloads across the Lua boundary: plain tables in, plain dicts and lists out.

No Python object ever reaches a script: dicts become tables, lists become
tables marked as arrays, None becomes `json.null`. On the way back a table is a
list when its keys are exactly 1..n or it is an empty table carrying the array
mark (every list that came in has it; `json.array()` adds it), otherwise an
object, so an empty table a script makes itself is `{}`.

Calls into Lua cost microseconds each, so the host makes none while
converting: arrays are marked by the sandbox in one pass, and the sandbox
replaces nulls and empty arrays in a result with Python markers before the
host reads it (`EMPTY_ARRAY`, and lupa's own None).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from lupa import lua54

__all__ = ["EMPTY_ARRAY", "ConversionError", "LuaConverter"]

MAX_DEPTH = 200
_SCALARS = frozenset((str, int, float, bool))
_lua_type = lua54.lua_type


class _EmptyArray:
    __slots__ = ()

    def __repr__(self) -> str:
        return "EMPTY_ARRAY"


EMPTY_ARRAY = _EmptyArray()


class ConversionError(Exception):
    """A payload or a script's result is not JSON-shaped."""


class LuaConverter:
    """Converts for one Lua runtime (tables belong to the runtime that made them).

    Written as flat loops with inline type checks: this runs for every stream
    chunk, and lupa's table iteration is already most of the cost.
    """

    __slots__ = ("_null", "_table_from")

    def __init__(self, table_from: Callable[..., Any], null: Any) -> None:
        self._table_from = table_from
        self._null = null

    def to_lua(self, value: Any, arrays: list[Any], depth: int = 0) -> Any:
        """A Lua table for a dict or list; every list's table is added to `arrays`
        (the sandbox marks them). Scalars pass as they are, None as json.null."""
        kind = type(value)
        if kind is dict:
            return self._object(value, arrays, depth)
        if kind is list or kind is tuple:
            return self._array(value, arrays, depth)
        if value is None:
            return self._null
        if kind in _SCALARS:
            return value
        raise ConversionError(f"cannot pass a {kind.__name__} to a script")

    def _object(self, value: dict[Any, Any], arrays: list[Any], depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise ConversionError("the payload is nested too deeply")
        out = {}
        for key, item in value.items():
            kind = type(item)
            if kind is dict:
                item = self._object(item, arrays, depth + 1)
            elif kind is list:
                item = self._array(item, arrays, depth + 1)
            elif item is None:
                item = self._null
            elif kind not in _SCALARS:
                item = self.to_lua(item, arrays, depth + 1)
            out[key if type(key) is str else str(key)] = item
        return self._table_from(out)

    def _array(self, value: list[Any] | tuple[Any, ...], arrays: list[Any], depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise ConversionError("the payload is nested too deeply")
        out = []
        for item in value:
            kind = type(item)
            if kind is dict:
                item = self._object(item, arrays, depth + 1)
            elif kind is list:
                item = self._array(item, arrays, depth + 1)
            elif item is None:
                item = self._null
            elif kind not in _SCALARS:
                item = self.to_lua(item, arrays, depth + 1)
            out.append(item)
        table = self._table_from(out)
        arrays.append(table)
        return table

    def from_lua(self, value: Any, depth: int = 0) -> Any:
        """Plain Python for what the sandbox's `export` handed back."""
        if _lua_type(value) == "table":
            if depth > MAX_DEPTH:
                raise ConversionError("a script returned a cyclic or too deeply nested table")
            return self._table(value, depth)
        kind = type(value)
        if kind in _SCALARS or value is None:
            return value
        if value is EMPTY_ARRAY:
            return []
        if kind is bytes:  # a Lua string that is not valid UTF-8
            return value.decode("utf-8", "replace")
        raise ConversionError(f"a script returned a {_lua_type(value) or kind.__name__}")

    def _table(self, table: Any, depth: int) -> Any:
        items = list(table.items())
        if not items:
            return {}
        from_lua = self.from_lua
        if _is_sequence(items):
            return [
                item if type(item) in _SCALARS else from_lua(item, depth + 1) for _, item in items
            ]
        out = {}
        for key, item in items:
            out[key if type(key) is str else _key(key)] = (
                item if type(item) in _SCALARS else from_lua(item, depth + 1)
            )
        return out


def _is_sequence(items: list[tuple[Any, Any]]) -> bool:
    """Keys exactly 1..n; sorts `items` in place when they are but came out of order.

    Lua's `next` walks a table's array part in order, so the first loop
    almost always decides.
    """
    position = 1
    for key, _ in items:
        if type(key) is not int or key != position:
            break
        position += 1
    else:
        return True
    if not all(type(key) is int for key, _ in items):
        return False
    items.sort(key=lambda item: item[0])
    return all(key == index for index, (key, _) in enumerate(items, 1))


def _key(key: Any) -> str:
    kind = type(key)
    if kind is str:
        return cast(str, key)
    if kind is int:
        return str(key)
    if kind is float:
        return str(int(key)) if key.is_integer() else str(key)
    if kind is bytes:
        return cast(bytes, key).decode("utf-8", "replace")
    raise ConversionError("a script returned a table key that is not a string or number")
