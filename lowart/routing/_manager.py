"""ModelManager: public model names to deployments, from an in-memory cache.

Routes are loaded from the database once and reloaded whenever the
configuration version moves, so an admin's change applies to the next request
without a restart and the hot path never touches the database.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from lowart.accounting import route_price
from lowart.config import DEFAULT_API_KEY_ENV_ALLOW, api_key_env_refusal
from lowart.errors import InvalidRequest, ModelNotFound
from lowart.routing._policy import Policy, policy_from_options
from lowart.store import FallbackStore, ModelStore, SecretBox, SecretBoxError
from lowart.types import Route

__all__ = ["ModelManager", "route_from_row"]

log = logging.getLogger("lowart.routing")


def route_from_row(
    row: Mapping[str, Any],
    secrets: SecretBox,
    api_key_env_allow: Sequence[str] = DEFAULT_API_KEY_ENV_ALLOW,
) -> Route:
    """Build a Route; the provider key is decrypted here and only kept in memory.

    A key from the environment is read only from a variable the operator allows
    (checked again here: a row stored before the allow-list changed must not leak
    the gateway's own settings upstream); a refused one is treated as unset.
    """
    api_key = None
    api_key_env = None
    if row.get("api_key_encrypted"):
        try:
            api_key = secrets.decrypt(row["api_key_encrypted"])
        except SecretBoxError:
            log.error(
                "model %r: provider key cannot be decrypted (wrong LOWART_SECRET_KEY?)", row["name"]
            )
    elif row.get("api_key_env"):
        api_key_env = row["api_key_env"]
        refusal = api_key_env_refusal(api_key_env, api_key_env_allow)
        if refusal is None:
            api_key = os.environ.get(api_key_env)
        else:
            log.error("model %r: provider key not read: %s", row["name"], refusal)
    return Route(
        id=row["id"],
        name=row["name"],
        vendor=row["vendor"],
        upstream_model=row["upstream_model"],
        base_url=row["base_url"],
        api_key=api_key,
        options=orjson.loads(row["options"] or "{}"),
        script=row.get("script"),
        script_version=row.get("script_version") or 0,
        enabled=bool(row["enabled"]),
        weight=int(row.get("weight", 1)),
        api_key_env=api_key_env,
        price=route_price(row),
    )


class ModelManager:
    """Deployments per public name, fallback edges and parsed policies, all in memory."""

    def __init__(
        self,
        store: ModelStore,
        secrets: SecretBox,
        fallbacks: FallbackStore | None = None,
        *,
        api_key_env_allow: Sequence[str] = DEFAULT_API_KEY_ENV_ALLOW,
    ) -> None:
        self._store = store
        self._api_key_env_allow = tuple(api_key_env_allow)
        self._secrets = secrets
        self._fallback_store = fallbacks
        self._deployments: dict[str, list[Route]] = {}
        self._fallbacks: dict[str, list[str]] = {}
        self._policies: dict[int, Policy] = {}

    async def refresh(self) -> None:
        rows = await self._store.list()
        deployments: dict[str, list[Route]] = {}
        policies: dict[int, Policy] = {}
        for row in rows:
            route = route_from_row(row, self._secrets, self._api_key_env_allow)
            deployments.setdefault(route.name, []).append(route)
            policies[route.id] = _policy_or_default(route)
        fallbacks: dict[str, list[str]] = {}
        if self._fallback_store is not None:
            for edge in await self._fallback_store.list():  # ordered by priority
                fallbacks.setdefault(edge["model"], []).append(edge["fallback"])
        self._deployments, self._fallbacks, self._policies = deployments, fallbacks, policies

    def resolve(self, name: object) -> Route:
        """The first enabled deployment of `name` (existence and permission checks)."""
        routes = self._deployments.get(name, ()) if isinstance(name, str) else ()
        for route in routes:
            if route.enabled:
                return route
        raise ModelNotFound(f"The model '{name}' does not exist.", param="model")

    def routes(self) -> list[Route]:
        """One route per public name that has an enabled deployment (what /v1/models lists)."""
        found = []
        for routes in self._deployments.values():
            enabled = [r for r in routes if r.enabled]
            if enabled:
                found.append(enabled[0])
        return found

    def deployments(self) -> dict[str, list[Route]]:
        return self._deployments

    def fallbacks(self) -> dict[str, list[str]]:
        return self._fallbacks

    def policy(self, route: Route) -> Policy:
        return self._policies.get(route.id) or _DEFAULT_POLICY


_DEFAULT_POLICY = Policy()


def _policy_or_default(route: Route) -> Policy:
    try:
        return policy_from_options(route.options)
    except InvalidRequest as exc:
        log.error("model %r deployment %d: %s Using defaults.", route.name, route.id, exc.message)
        return _DEFAULT_POLICY
