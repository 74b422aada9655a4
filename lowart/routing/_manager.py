"""ModelManager: public model names to routes, from an in-memory cache.

Routes are loaded from the database once and reloaded whenever the
configuration version moves, so an admin's change applies to the next request
without a restart and the hot path never touches the database.
"""

from __future__ import annotations

import logging
import os

import orjson

from lowart.errors import ModelNotFound
from lowart.store import ModelStore, SecretBox, SecretBoxError
from lowart.types import Route

__all__ = ["ModelManager", "route_from_row"]

log = logging.getLogger("lowart.routing")


def route_from_row(row: dict, secrets: SecretBox) -> Route:
    """Build a Route; the provider key is decrypted here and only kept in memory."""
    api_key = None
    if row.get("api_key_encrypted"):
        try:
            api_key = secrets.decrypt(row["api_key_encrypted"])
        except SecretBoxError:
            log.error(
                "model %r: provider key cannot be decrypted (wrong LOWART_SECRET_KEY?)", row["name"]
            )
    elif row.get("api_key_env"):
        api_key = os.environ.get(row["api_key_env"])
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
    )


class ModelManager:
    def __init__(self, store: ModelStore, secrets: SecretBox) -> None:
        self._store = store
        self._secrets = secrets
        self._routes: dict[str, Route] = {}

    async def refresh(self) -> None:
        rows = await self._store.list()
        self._routes = {row["name"]: route_from_row(row, self._secrets) for row in rows}

    def resolve(self, name: object) -> Route:
        route = self._routes.get(name) if isinstance(name, str) else None
        if route is None or not route.enabled:
            raise ModelNotFound(f"The model '{name}' does not exist.", param="model")
        return route

    def routes(self) -> list[Route]:
        return [route for route in self._routes.values() if route.enabled]
