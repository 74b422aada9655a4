"""Canonical shapes shared by the engine and every frontend.

The canonical request, response and stream chunk are the OpenAI Chat
Completions wire shapes. They travel as plain dicts (typed here with
TypedDicts) so unknown fields survive and the OpenAI path stays a near
zero-copy pass-through; only the few fields the gateway reads are declared.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Literal, NotRequired, Protocol, TypedDict

from lowart.telemetry import NO_SPAN, Span

__all__ = [
    "CallContext",
    "ChatChunk",
    "ChatRequest",
    "ChatResponse",
    "ChunkStream",
    "ImageProgress",
    "Interface",
    "Passthrough",
    "Price",
    "Principal",
    "Route",
    "Usage",
    "UsageRecord",
    "VendorHooks",
]

Interface = Literal["http", "grpc", "mcp", "anthropic", "responses"]


class Message(TypedDict, total=False):
    role: str
    content: str | list[dict[str, Any]] | None
    name: str
    tool_calls: list[dict[str, Any]]
    tool_call_id: str


class ChatRequest(TypedDict, total=False):
    model: str
    messages: list[Message]
    stream: bool
    stream_options: dict[str, Any]
    max_tokens: int
    max_completion_tokens: int
    tools: list[dict[str, Any]]


class Usage(TypedDict):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: NotRequired[dict[str, Any]]


class ChatResponse(TypedDict, total=False):
    id: str
    object: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: Usage
    # Side channel, never on the wire (the Anthropic adapter sets it, /v1/messages reads it):
    lowart_anthropic_message: dict[str, Any]
    """The Anthropic upstream's own Messages API reply, only when the caller spoke
    that API itself (`CallContext.passthrough`), so it can be returned verbatim."""
    lowart_responses_object: dict[str, Any]
    """An OpenAI upstream's own Response (Responses API), when the caller spoke that API
    and the route serves it natively; /v1/responses returns it renamed."""


class ChatChunk(TypedDict, total=False):
    id: str
    object: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: Usage | None
    # Side channels, never on the wire (set by the Anthropic adapter):
    lowart_anthropic_events: list[dict[str, Any]]
    """The Anthropic upstream's own stream events this chunk stands for, only when the
    caller spoke the Messages API itself; /v1/messages relays them verbatim."""
    lowart_responses_events: list[dict[str, Any]]
    """An OpenAI upstream's own Responses API events this chunk stands for (a route
    serving /responses natively); /v1/responses relays them renamed."""
    lowart_prompt_usage: Usage
    """The prompt's usage as the vendor reported it before the stream's end (Anthropic's
    message_start); the gateway's StreamMeter takes it off the chunk."""


@dataclass(frozen=True, slots=True)
class ImageProgress:
    """Where one image generation stands: queued (at a position), or running a node
    or a sampler step. The engine's own shape, whatever the image vendor."""

    state: str  # "queued" or "running"
    queue_position: int | None = None
    node: str | None = None
    node_type: str | None = None
    node_index: int = 0
    node_count: int = 0
    step: int | None = None
    steps: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != 0}


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: an API key's identity and limits, never the key itself."""

    key_id: int
    name: str
    is_admin: bool = False
    rpm: int | None = None
    tpm: int | None = None
    quota_tokens: int | None = None
    allowed_models: frozenset[str] | None = None
    max_concurrency: int | None = None
    quota_period: str = "total"
    budget: Decimal | None = None
    """The most this key may spend per `budget_period` (in the routes' currency)."""
    budget_period: str = "total"
    allowed_tools: tuple[str, ...] | None = None
    """The upstream MCP tools this key may use: `server.tool` glob patterns
    (`github.*`, `fs.read_file`); None means every tool (policies still apply)."""


_MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class Price:
    """What a route costs: per million input, cached input and output tokens, and
    per image. A rate left unset costs nothing (cached input: the input rate).
    Rates have at most six decimals, so every cost is an exact decimal with at
    most twelve (what the usage store keeps)."""

    input: Decimal | None = None
    output: Decimal | None = None
    cached: Decimal | None = None
    image: Decimal | None = None
    currency: str = "USD"
    source: str = "route"
    """Where the rates come from: "route" (the operator's) or "table" (the shipped one)."""

    def of_tokens(self, prompt: int, completion: int, cached: int = 0) -> Decimal:
        """The cost of a call: `prompt` includes its `cached` tokens (OpenAI's usage
        shape), which are billed at the cached rate instead of the input rate."""
        cached = min(max(cached, 0), prompt)
        input_rate = self.input or 0
        cached_rate = self.cached if self.cached is not None else input_rate
        total = (prompt - cached) * input_rate + cached * cached_rate
        total += completion * (self.output or 0)
        return Decimal(total) / _MILLION

    def of_images(self, count: int) -> Decimal:
        return Decimal(count) * (self.image or 0)


@dataclass(frozen=True, slots=True)
class Route:
    """One configured model: what the public name maps to upstream.

    `api_key` is the decrypted provider key; it lives only in memory and is
    excluded from repr so it never reaches a log line.
    """

    id: int
    name: str
    vendor: str
    upstream_model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    options: dict[str, Any] = field(default_factory=dict)
    script: str | None = field(default=None, repr=False)
    script_version: int = 0
    enabled: bool = True
    weight: int = 1
    api_key_env: str | None = None
    """The environment variable the provider key comes from (its name, never the key)."""
    kind: str = "chat"
    """What the route serves: "chat", "embedding" or "image" (see `Gateway.model_kind`)."""
    price: Price | None = None
    """What calls cost: the operator's prices, else the shipped table's, else unknown."""


class ChunkStream(Protocol):
    """A chat answer as it streams, whatever made it (a model, or an image route's
    progress): iterate the canonical chunks, and always close it (`async with`);
    closing early cancels the work behind it and records what it used so far."""

    @property
    def route(self) -> Route: ...

    def __aiter__(self) -> AsyncIterator[ChatChunk]: ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> ChunkStream: ...

    async def __aexit__(self, *exc_info: object) -> None: ...


class VendorHooks(Protocol):
    """Rewrites applied at the vendor boundary (the Lua transforms implement this)."""

    def request(self, payload: dict[str, Any]) -> dict[str, Any]: ...

    def response(self, payload: dict[str, Any]) -> dict[str, Any]: ...

    def event(self, event: dict[str, Any]) -> dict[str, Any] | None: ...


class Passthrough:
    """What the caller sent when it spoke a vendor's own protocol (Anthropic's on
    /v1/messages, OpenAI's Responses API on /v1/responses): an adapter for that same
    vendor sends it as is instead of re-translating the canonical request, so nothing
    the canonical shape cannot express is lost. `headers` are the vendor headers worth
    forwarding (e.g. anthropic-beta).

    The body may be given as how to build it (`build`): it is built on first use, so
    a request whose route translates (most of them) never pays for it.
    """

    __slots__ = ("_body", "_build", "headers", "protocol")

    def __init__(
        self,
        protocol: Literal["anthropic", "responses"],
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        build: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        if (body is None) == (build is None):
            raise ValueError("Passthrough takes either a body or how to build it.")
        self.protocol = protocol
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self._body = body
        self._build = build

    @property
    def body(self) -> Mapping[str, Any]:
        body = self._body
        if body is None:
            assert self._build is not None
            body = self._body = self._build()
            self._build = None
        return body

    def __repr__(self) -> str:
        return f"Passthrough({self.protocol!r}, headers={dict(self.headers)!r})"


@dataclass(slots=True)
class CallContext:
    """What one call carries through the engine, and what the engine reports back.

    Who writes what (each through its own method, so a write is easy to find):

    - The frontend creates it with the request id, the interface, the caller's
      deadline (`timeout`), how it reaches lowart (`base_url` / `base_url_from`)
      and what it sent in a vendor's own protocol (`passthrough`). A handler that
      learns the protocol after the shared middleware made the context says it
      once with `speaking`.
    - The engine (Gateway, image engine) reports who called and which route served
      the call with `attribute`, and the outcome with `report`, so the frontend's
      access log line needs no second lookup.
    - A failure is noted once with `failed` (by the engine when it records the call,
      else by the frontend that maps the error), so the access line, the metrics and
      the trace say why a call failed without formatting anything themselves.
    - Everything below the Gateway only reads it, and records into `span`.
    """

    request_id: str
    interface: str
    started: float = field(default_factory=time.perf_counter)
    key_name: str | None = None
    route: str | None = None
    vendor: str | None = None
    status: str | None = None
    """ok, error or cancelled once the engine recorded the call; None until then."""
    error_code: str | None = None
    cause: str | None = None
    """Why an upstream failed (dns, refused, reset, tls, connect_timeout, ...), for logs only."""
    upstream_status: int | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    timeout: float | None = None  # seconds the caller allows, counted from `started`
    base_url: str | None = None  # how the caller reaches lowart (for links to result files)
    passthrough: Passthrough | None = None
    """What the caller sent in a vendor's own protocol; its frontend sets it, adapters read it."""
    base_url_from: Callable[[], str | None] | None = field(default=None, repr=False)
    """Works out `base_url` when first asked (see `caller_base_url`)."""
    traceparent: str | None = None
    """The W3C trace context the caller sent (continued, and forwarded upstream)."""
    span: Span = field(default=NO_SPAN, repr=False)
    """The request's span (a no-op unless tracing is on); the Gateway starts it."""
    attempt_span: Span = field(default=NO_SPAN, repr=False)
    """The span of the upstream attempt under way (the router sets it per attempt)."""

    # ---- the frontend's ----------------------------------------------------------------

    def speaking(self, interface: str, passthrough: Passthrough | None = None) -> None:
        """The protocol this call really speaks (e.g. Anthropic's on the HTTP listener)."""
        self.interface = interface
        if passthrough is not None:
            self.passthrough = passthrough

    # ---- the engine's -------------------------------------------------------------------

    def attribute(
        self, key_name: str | None, route: str | None = None, vendor: str | None = None
    ) -> None:
        """Who called and, once known, which route (and vendor) serves the call."""
        self.key_name = key_name
        if route is not None:
            self.route = route
            self.vendor = vendor

    def report(self, status: str, prompt_tokens: int, completion_tokens: int) -> None:
        """How the call ended and what it used (what its usage record says)."""
        self.status = status
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens

    def failed(
        self, code: str | None, cause: str | None = None, upstream_status: int | None = None
    ) -> None:
        """Why the call failed; the first note wins (the engine's is the most precise)."""
        if self.error_code is None:
            self.error_code = code
            self.cause = cause
            self.upstream_status = upstream_status

    def upstream_traceparent(self) -> str | None:
        """The `traceparent` to send upstream: the attempt's own span when tracing,
        else the caller's unchanged (so a traced caller's trace still reaches the vendor)."""
        return self.attempt_span.traceparent() or self.traceparent

    # ---- anyone's -----------------------------------------------------------------------

    def caller_base_url(self) -> str | None:
        """How the caller reaches lowart, worked out on first use.

        Only links to result files need it, and building it from an HTTP request
        costs a URL parse (~5 µs) that every other request would pay for nothing.
        """
        if self.base_url is None and self.base_url_from is not None:
            self.base_url = self.base_url_from()
        return self.base_url


@dataclass(slots=True)
class UsageRecord:
    """Exactly one per request that reached routing."""

    request_id: str
    key_id: int | None
    key_name: str | None
    route: str
    vendor: str
    upstream_model: str
    interface: str
    status: str
    http_status: int
    error_code: str | None
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    ttft_ms: float | None
    stream: bool
    created_at: float = field(default_factory=time.time)
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    usage_source: str = "upstream"
    extra: dict[str, Any] | None = None
    cost: Decimal | None = None
    """What the call cost (exact), None when its route has no price."""
    currency: str | None = None
    reasoning_tokens: int = 0
    """Of `completion_tokens`, those spent reasoning (metrics only; not stored)."""

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens
