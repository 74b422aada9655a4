"""Values that satisfy a JSON Schema, made up deterministically for the mock model.

The mock must call tools with arguments their schema accepts and answer
structured-output requests with JSON their schema accepts, the way a real model
would, so clients can be tested against lowart alone. A value is built from the
schema itself: `const`, then `default`, then `enum`, then the type (objects with
their required properties, arrays of `minItems` (at least one) items, strings
fitted to `minLength`/`maxLength`/`format`, numbers within their bounds).
Strings come from the caller's own text (what a model would echo back), and a
JSON object found in that text may give any property's value outright.

Everything is bounded (nesting, array sizes, string sizes, the number of values):
a schema beyond the bounds is the caller's error, a 400 naming the bound.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from lowart.errors import InvalidRequest

__all__ = ["MAX_SCHEMA_DEPTH", "SchemaValues"]

MAX_SCHEMA_DEPTH = 32
"""Nesting (objects, arrays, `$ref`s, combinators) a schema may need; beyond: 400."""
_MAX_VALUES = 5000  # values one answer may hold in all
_MAX_ITEMS = 256  # the largest `minItems` honoured
_MAX_STRING = 10_000  # the largest `minLength` honoured
_STRING_CAP = 200  # a string made from the caller's text is at most this long
_SHALLOW = 6  # below this depth arrays get only their `minItems` (recursive schemas end)

_FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00Z",
    "duration": "P1D",
    "email": "mock@example.com",
    "idn-email": "mock@example.com",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "iri": "https://example.com/",
    "uri-reference": "https://example.com/",
}


class SchemaValues:
    """Makes values for one answer; `text` is the caller's words, `given` values
    the caller spelled out (a JSON object in its text) by property name."""

    def __init__(self, text: str, given: dict[str, Any] | None = None) -> None:
        words = " ".join(text.split())[:_STRING_CAP]
        self._text = words or "mock"
        self._given = given or {}
        self._made = 0

    def value(self, schema: Any, root: Any = None, depth: int = 0, name: str = "") -> Any:
        """A value `schema` accepts (`root` resolves `$ref`s; the schema itself by default)."""
        if depth > MAX_SCHEMA_DEPTH:
            raise InvalidRequest(
                f"The JSON schema nests deeper than {MAX_SCHEMA_DEPTH} levels "
                "(or refers to itself without end); the mock model cannot answer it."
            )
        self._made += 1
        if self._made > _MAX_VALUES:
            raise InvalidRequest(
                f"The JSON schema asks for more than {_MAX_VALUES} values; "
                "the mock model cannot answer it."
            )
        root = schema if root is None else root
        if schema is True or not isinstance(schema, dict):
            return self._string({}, name)
        if "$ref" in schema:
            return self.value(_resolve(root, schema["$ref"]), root, depth + 1, name)
        if "const" in schema:
            return schema["const"]
        if "default" in schema:
            return schema["default"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return self._enum(enum)
        for combinator in ("anyOf", "oneOf"):
            options = schema.get(combinator)
            if isinstance(options, list) and options:
                return self.value(_first_not_null(options), root, depth + 1, name)
        if isinstance(schema.get("allOf"), list):
            return self.value(_merged(schema, root), root, depth + 1, name)
        return self._typed(schema, root, depth, name)

    def _typed(self, schema: dict[str, Any], root: Any, depth: int, name: str) -> Any:
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else None
        if kind == "object":
            return self._object(schema, root, depth)
        if kind == "array":
            return self._array(schema, root, depth, name)
        if kind == "integer":
            return int(_number(schema, integer=True))
        if kind == "number":
            return _number(schema, integer=False)
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return self._string(schema, name)

    def _object(self, schema: dict[str, Any], root: Any, depth: int) -> dict[str, Any]:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        required = schema.get("required")
        names = [n for n in required if isinstance(n, str)] if isinstance(required, list) else []
        names += [n for n in properties if n in self._given and n not in names]
        out: dict[str, Any] = {}
        for prop in names:
            if prop in self._given:
                out[prop] = self._given[prop]
            else:
                out[prop] = self.value(properties.get(prop, {}), root, depth + 1, prop)
        return out

    def _array(self, schema: dict[str, Any], root: Any, depth: int, name: str) -> list[Any]:
        low = _bound(schema, "minItems", 0, _MAX_ITEMS)
        high = schema.get("maxItems")
        count = max(low, 1 if depth < _SHALLOW else 0)
        if isinstance(high, int) and not isinstance(high, bool):
            count = min(count, max(high, low))
        prefix = schema.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        items = schema.get("items", {})
        out = []
        for index in range(max(count, len(prefix))):
            item = prefix[index] if index < len(prefix) else items
            value = self.value(item, root, depth + 1, name)
            if schema.get("uniqueItems") and value in out:
                value = _distinct(value, index)
            out.append(value)
        return out

    def _enum(self, options: list[Any]) -> Any:
        """The option the caller's text names, else the first."""
        lowered = self._text.lower()
        for option in options:
            if isinstance(option, str) and option and option.lower() in lowered:
                return option
        return options[0]

    def _string(self, schema: dict[str, Any], name: str) -> str:
        fmt = schema.get("format")
        if fmt == "uuid":
            return str(uuid.uuid5(uuid.NAMESPACE_URL, self._text))
        text = _FORMATS.get(fmt, self._text) if isinstance(fmt, str) else self._text
        low = _bound(schema, "minLength", 0, _MAX_STRING)
        high = schema.get("maxLength")
        if len(text) < low:
            text = (text + " ") * (low // (len(text) + 1) + 1)
            text = text[: max(low, 1)]
        if isinstance(high, int) and not isinstance(high, bool) and len(text) > high >= low:
            text = text[:high]
        return text


def _resolve(root: Any, ref: Any) -> Any:
    """A local `$ref` (`#`, `#/$defs/X`, `#/definitions/X`, any JSON pointer into the root)."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise InvalidRequest(f"The JSON schema refers to {ref!r}; only local '#/...' refs work.")
    node = root
    for raw in ref[1:].split("/")[1:]:
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            raise InvalidRequest(f"The JSON schema refers to {ref!r}, which it does not define.")
    return node


def _first_not_null(options: list[Any]) -> Any:
    for option in options:
        if not (isinstance(option, dict) and option.get("type") == "null"):
            return option
    return options[0]


def _merged(schema: dict[str, Any], root: Any) -> dict[str, Any]:
    """`allOf` as one schema: the parts' properties, required names and other keywords."""
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    properties: dict[str, Any] = dict(merged.get("properties") or {})
    required: list[Any] = list(merged.get("required") or [])
    for part in schema["allOf"][:64]:
        if isinstance(part, dict) and "$ref" in part:
            part = _resolve(root, part["$ref"])
        if not isinstance(part, dict):
            continue
        properties.update(part.get("properties") or {})
        required += [r for r in part.get("required") or () if r not in required]
        for key, value in part.items():
            merged.setdefault(key, value)
    merged.pop("allOf", None)
    if properties:
        merged["properties"] = properties
    if required:
        merged["required"] = required
    return merged


def _bound(schema: dict[str, Any], keyword: str, default: int, cap: int) -> int:
    value = schema.get(keyword, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return default
    if value > cap:
        raise InvalidRequest(
            f"The JSON schema asks for '{keyword}' {value}; the mock model makes at most {cap}."
        )
    return value


def _number(schema: dict[str, Any], *, integer: bool) -> float:
    """1 when the bounds allow it, else the smallest allowed (a multiple of `multipleOf`)."""
    step = 1 if integer else 0.5
    low, high = _finite(schema, "minimum", -math.inf), _finite(schema, "maximum", math.inf)
    low = max(low, _finite(schema, "exclusiveMinimum", -math.inf) + step)
    high = min(high, _finite(schema, "exclusiveMaximum", math.inf) - step)
    value = 1.0 if low <= 1 <= high else (low if low != -math.inf else high)
    if integer:
        value = float(math.ceil(value) if value == low else math.floor(value))
    multiple = _finite(schema, "multipleOf", 0.0)
    if multiple > 0:
        value = math.ceil(value / multiple) * multiple
    return value


def _finite(schema: dict[str, Any], keyword: str, default: float) -> float:
    value = schema.get(keyword)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return default


def _distinct(value: Any, index: int) -> Any:
    if isinstance(value, str):
        return f"{value} {index}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value + index
    return value
