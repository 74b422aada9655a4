"""One Responses API request in progress: what it asked, what it is called, what it says.

A `Turn` holds the client's body, the conversation before it (from
`previous_response_id`), the canonical chat request the Gateway runs, and the
Response's id and creation time, so every state of the Response (queued, in
progress, completed, failed) is written the same way. When the route serves
`/responses` itself, `native_body` is what goes upstream.
"""

from __future__ import annotations

import time
from typing import Any

from lowart.errors import GatewayError, InvalidRequest
from lowart.gateway import Gateway
from lowart.translate import (
    ToolNames,
    chat_reply_to_output,
    chat_usage_to_responses,
    echoed_settings,
    new_id,
    response_object,
    responses_items,
    responses_request_to_chat,
)
from lowart.types import ChatResponse, Passthrough, Principal

__all__ = ["Turn", "error_object"]

_ITEM_PREFIX = {
    "message": "msg",
    "function_call": "fc",
    "function_call_output": "fco",
    "custom_tool_call": "ctc",
    "custom_tool_call_output": "ctco",
    "reasoning": "rs",
}
_DROPPED_UPSTREAM = ("previous_response_id", "background", "store")


class Turn:
    __slots__ = (
        "body",
        "chat",
        "created_at",
        "history",
        "id",
        "items",
        "model",
        "names",
        "settings",
        "store",
    )

    def __init__(
        self, body: dict[str, Any], history: list[dict[str, Any]], *, translate: bool = True
    ) -> None:
        self.body = body
        self.history = history
        # Not translated: a paused tool loop going on keeps its own conversation.
        self.chat, self.names = (
            responses_request_to_chat(body, history) if translate else ({}, ToolNames())
        )
        self.id = new_id("resp")
        self.created_at = time.time()
        self.model = str(body["model"])  # the route's public name once it is known
        self.settings = echoed_settings(body)
        self.store = body.get("store") is not False
        if body.get("background") and not self.store:
            raise InvalidRequest("'background' requires 'store' to be true.", param="background")
        # What a stored Response keeps as its conversation (nothing to build otherwise).
        self.items = (
            [*history, *(_with_id(i) for i in responses_items(body["input"]))] if self.store else []
        )

    @classmethod
    async def begin(cls, gateway: Gateway, principal: Principal, body: Any) -> Turn:
        if not isinstance(body, dict):
            raise InvalidRequest("The request body must be a JSON object.")
        previous = body.get("previous_response_id")
        history: list[dict[str, Any]] = []
        if previous is not None:
            if not isinstance(previous, str):
                raise InvalidRequest(
                    "'previous_response_id' must be a string.", param="previous_response_id"
                )
            response, items = await gateway.stored_response(
                principal, previous, param="previous_response_id"
            )
            history = [*items, *(response.get("output") or ())]
        return cls(body, history)

    def passthrough(self) -> Passthrough:
        """The body as an upstream serving `/responses` should get it, built only if
        the route serves `/responses` itself (most translate)."""
        return Passthrough("responses", build=self.native_body)

    def native_body(self) -> dict[str, Any]:
        """The whole conversation inline (lowart keeps it, not the upstream), nothing
        stored there."""
        native = {k: v for k, v in self.body.items() if k not in _DROPPED_UPSTREAM}
        if self.history:
            native["input"] = [*_inline(self.history), *responses_items(self.body["input"])]
        native["store"] = False
        return native

    def snapshot(self, *, status: str, **fields: Any) -> dict[str, Any]:
        """The Response in a given state (see `response_object`)."""
        return response_object(
            self.body,
            self.id,
            self.created_at,
            model=self.model,
            status=status,
            settings=self.settings,
            **fields,
        )

    def completed(self, reply: ChatResponse) -> dict[str, Any]:
        """The Response for the Gateway's reply (an upstream's own, renamed, if native)."""
        self.model = str(reply.get("model") or self.model)
        native = reply.get("lowart_responses_object")
        if isinstance(native, dict):
            return self.renamed(native)
        output, incomplete = chat_reply_to_output(dict(reply), self.names)
        return self.snapshot(
            status="incomplete" if incomplete else "completed",
            output=output,
            usage=chat_usage_to_responses(reply.get("usage")),
            incomplete=incomplete,
        )

    def renamed(self, native: dict[str, Any]) -> dict[str, Any]:
        """An upstream's Response under this Response's id and the route's public name."""
        return {
            **native,
            "id": self.id,
            "model": self.model,
            "store": self.store,
            "previous_response_id": self.body.get("previous_response_id"),
            "background": bool(self.body.get("background")),
        }

    def failed(
        self, exc: GatewayError, output: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        return self.snapshot(status="failed", output=output, error=error_object(exc))


def error_object(exc: GatewayError) -> dict[str, Any]:
    """A Response's `error`: OpenAI's codes for a failed response."""
    code = "rate_limit_exceeded" if exc.status == 429 else "server_error"
    if exc.status == 400:
        code = "invalid_prompt"
    return {"code": code, "message": exc.message}


def _inline(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored items as an upstream that stores nothing takes them: without item ids
    (it would look them up, and fail), and without reasoning it cannot read back
    (only reasoning with its encrypted content can be sent again)."""
    return [
        {k: v for k, v in item.items() if k != "id"}
        for item in history
        if item.get("type") != "reasoning" or item.get("encrypted_content")
    ]


def _with_id(item: dict[str, Any]) -> dict[str, Any]:
    """An input item as `input_items` lists it: typed, with an id and message parts."""
    kind = item.get("type") or ("message" if "role" in item else "item")
    stored = {"id": item.get("id") or new_id(_ITEM_PREFIX.get(kind, "item")), **item, "type": kind}
    if kind == "message":
        content = item.get("content")
        if isinstance(content, str):
            part = "output_text" if item.get("role") == "assistant" else "input_text"
            stored["content"] = [{"type": part, "text": content}]
        stored.setdefault("status", "completed")
    return stored
