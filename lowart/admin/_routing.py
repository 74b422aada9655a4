"""Routing configuration operations: deployments, fallback chains, aliases, circuit states.

Part of `Admin` (as `admin.routing`), shared by the CLI and the admin API; like
the rest of `Admin`, a write applies itself to this process (`changed`).
Fallback chains are checked for cycles here, when they are configured, so a
request can never be sent round in circles.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from lowart.admin._checks import check_text
from lowart.errors import InvalidRequest, NotFound
from lowart.routing import find_cycle
from lowart.store import AliasStore, DuplicateName, FallbackStore, HealthStore, ModelStore

__all__ = ["DEFAULT_ALIAS", "RoutingAdmin", "check_weight"]

_MAX_WEIGHT = 1_000_000
_MAX_PATTERN = 200
DEFAULT_ALIAS = "*"
"""The alias every name matches last: the default route."""


def check_weight(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_WEIGHT:
        raise InvalidRequest(
            f"'weight' must be an integer from 0 to {_MAX_WEIGHT} (0: only when others fail).",
            param="weight",
        )
    return value


def _aware(value: datetime | None) -> datetime:
    """SQLite hands timestamps back naive (they were stored as UTC)."""
    if value is None:
        return datetime.min.replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _check_priority(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidRequest("'priority' must be an integer.", param="priority")
    return value


class RoutingAdmin:
    def __init__(
        self,
        models: ModelStore,
        fallbacks: FallbackStore | None,
        health: HealthStore | None,
        changed: Callable[[], Awaitable[None]],
        aliases: AliasStore | None = None,
    ) -> None:
        self._models = models
        self._fallbacks = fallbacks
        self._health = health
        self._changed = changed
        self._aliases = aliases

    async def deployment(self, name: str, deployment: int | None) -> dict[str, Any]:
        """The one deployment an update addresses; ambiguous or unknown is a clear error."""
        rows = await self._models.deployments(name)
        if not rows:
            raise NotFound(f"No model named '{name}'.")
        if deployment is None:
            if len(rows) > 1:
                ids = ", ".join(str(row["id"]) for row in rows)
                raise InvalidRequest(
                    f"Model '{name}' has {len(rows)} deployments (ids {ids}); "
                    "choose one with deployment=ID (CLI: --deployment ID).",
                    param="deployment",
                )
            return rows[0]
        for row in rows:
            if row["id"] == deployment:
                return row
        raise NotFound(f"Model '{name}' has no deployment {deployment}.")

    async def with_circuits(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add the last published circuit state of each deployment."""
        states = await self._health.states() if self._health is not None else {}
        now = datetime.now(UTC)
        for row in rows:
            state = states.get(row["id"])
            circuit = "closed"
            if state is not None:
                circuit = state["state"]
                if circuit == "open" and _aware(state["open_until"]) <= now:
                    circuit = "half_open"  # cool-down over: the next request probes it
            row["circuit"] = circuit
        return rows

    def _store(self) -> FallbackStore:
        if self._fallbacks is None:
            raise InvalidRequest("Fallbacks are not available here.")
        return self._fallbacks

    async def list_fallbacks(self, model: str | None = None) -> list[dict[str, Any]]:
        rows = await self._store().list()
        return [
            {"model": r["model"], "fallback": r["fallback"], "priority": r["priority"]}
            for r in rows
            if model is None or r["model"] == model
        ]

    async def add_fallback(
        self, model: object, fallback: object, priority: object = 0
    ) -> dict[str, Any]:
        """`model` falls back to `fallback` (lower priority first); refuses cycles.

        The values are checked here (they may come straight from a JSON body)."""
        priority = _check_priority(priority)
        if not isinstance(model, str) or not await self._models.deployments(model):
            raise InvalidRequest(f"No model named {model!r}.", param="model")
        if not isinstance(fallback, str) or not await self._models.deployments(fallback):
            raise InvalidRequest(f"No model named {fallback!r}.", param="fallback")
        if model == fallback:
            raise InvalidRequest(
                f"Model '{model}' cannot fall back to itself.", code="fallback_cycle"
            )
        edges: dict[str, list[str]] = {}
        for row in await self._store().list():
            edges.setdefault(row["model"], []).append(row["fallback"])
        edges.setdefault(model, []).append(fallback)
        cycle = find_cycle(edges, model)
        if cycle:
            raise InvalidRequest(
                f"Falling back from '{model}' to '{fallback}' would make a cycle: "
                + " -> ".join(cycle),
                param="fallback",
                code="fallback_cycle",
            )
        try:
            await self._store().add(model, fallback, priority)
        except DuplicateName as exc:
            raise InvalidRequest(str(exc), code="duplicate_fallback") from exc
        await self._changed()
        return {"model": model, "fallback": fallback, "priority": priority}

    async def remove_fallback(self, model: str, fallback: str) -> None:
        if not await self._store().remove(model, fallback):
            raise NotFound(f"'{model}' has no fallback '{fallback}'.")
        await self._changed()

    # ---- aliases: model names (and patterns) that resolve to a route -------------------

    def _alias_store(self) -> AliasStore:
        if self._aliases is None:
            raise InvalidRequest("Aliases are not available here.")
        return self._aliases

    async def list_aliases(self) -> list[dict[str, Any]]:
        return [
            {"pattern": row["pattern"], "model": row["model"]}
            for row in await self._alias_store().list()
        ]

    async def add_alias(self, pattern: object, model: object) -> dict[str, Any]:
        """Requests for `pattern` (a name, a shell pattern like `claude-*`, or `*`: the
        default route) go to the route `model`; an existing alias of `pattern` is replaced.

        The values are checked here (they may come straight from a JSON body)."""
        pattern = check_text("pattern", pattern)
        if not pattern or len(pattern) > _MAX_PATTERN or pattern != pattern.strip():
            raise InvalidRequest(
                f"'pattern' must be 1 to {_MAX_PATTERN} characters without surrounding spaces.",
                param="pattern",
            )
        if not isinstance(model, str) or not await self._models.deployments(model):
            raise InvalidRequest(f"No model named {model!r}.", param="model")
        if await self._models.deployments(pattern):
            raise InvalidRequest(
                f"'{pattern}' is a model's own name; an alias cannot take it over.",
                param="pattern",
            )
        await self._alias_store().put(pattern, model)
        await self._changed()
        return {"pattern": pattern, "model": model}

    async def remove_alias(self, pattern: str) -> None:
        if not await self._alias_store().remove(pattern):
            raise NotFound(f"No alias '{pattern}'.")
        await self._changed()
