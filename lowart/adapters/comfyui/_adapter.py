"""The ComfyUI adapter: submit a workflow, follow it to the end, fetch its images.

Following a prompt: a websocket with this generation's own client id is
connected *before* the prompt is submitted (ComfyUI sends a prompt's frames
only to its client's socket, only while connected, and never replays them).
When the socket drops or cannot be opened, the adapter polls
`/history/{id}` and `/queue` instead; a prompt found in neither means ComfyUI
restarted and lost it, which ends the generation with a clear error. The final
verdict (images, or the failing node) always comes from `/history`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from lowart.adapters._image import ImageAdapter
from lowart.adapters.base import EventDecoder, translate_transport_error
from lowart.adapters.comfyui._errors import PromptLost, execution_failure, rejected_prompt
from lowart.adapters.comfyui._events import Finished, ImageRef, Progress, PromptTracker
from lowart.adapters.comfyui._workflow import apply_bindings
from lowart.errors import InvalidRequest, UpstreamError, UpstreamTimeout
from lowart.types import CallContext, ChatChunk, ChatRequest, Route, VendorHooks

__all__ = ["ComfyUIAdapter", "GenerationEvent"]

log = logging.getLogger("lowart.comfyui")

DEFAULT_BASE_URL = "http://127.0.0.1:8188"
GenerationEvent = Progress | Finished
_TRANSPORT = (TimeoutError, aiohttp.ClientError, OSError)


class ComfyUIAdapter(ImageAdapter):
    vendor = "comfyui"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        timeout: aiohttp.ClientTimeout,
        *,
        generation_timeout: float = 600.0,
        poll_interval: float = 1.0,
        heartbeat: float = 20.0,
    ) -> None:
        self._session = session
        self._timeout = timeout
        self._short = aiohttp.ClientTimeout(total=30, connect=timeout.connect)
        self._generation_timeout = generation_timeout
        self._poll_interval = poll_interval
        self._heartbeat = heartbeat

    # ---- chat vendor steps: image routes are served by the image engine ---------------

    def vendor_payload(
        self, route: Route, request: ChatRequest, ctx: CallContext, *, stream: bool
    ) -> dict[str, Any]:
        raise _no_chat(route)

    async def send(self, route: Route, payload: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        raise _no_chat(route)

    def send_stream(
        self,
        route: Route,
        payload: dict[str, Any],
        ctx: CallContext,
        decode: EventDecoder | None,
    ) -> AsyncIterator[ChatChunk]:
        raise _no_chat(route)

    # ---- image generation -----------------------------------------------------------

    @staticmethod
    def build_workflow(route: Route, values: dict[str, Any]) -> dict[str, Any]:
        """The route's template with the request's values written where the bindings say."""
        options = route.options
        return apply_bindings(options["workflow"], options.get("bindings") or {}, values)

    @staticmethod
    def bindings(route: Route) -> dict[str, list[str]]:
        return route.options.get("bindings") or {}

    async def generate(
        self,
        route: Route,
        workflow: dict[str, Any],
        *,
        prompt_id: str,
        client_id: str,
        hooks: VendorHooks | None = None,
    ) -> AsyncIterator[GenerationEvent]:
        """Connect, submit, then yield progress and finally `Finished` (or raise)."""
        ws = await self._connect(route, client_id)
        try:
            payload: dict[str, Any] = {
                "prompt": workflow,
                "client_id": client_id,
                "prompt_id": prompt_id,
            }
            await self._submit(route, self.transform_request(payload, hooks))
            yield Progress(
                state="queued", queue_position=await self._position_hint(route, prompt_id)
            )
        except BaseException:
            if ws is not None:
                await ws.close()
            raise
        async for event in self._follow(route, workflow, prompt_id, ws, check_first=False):
            yield event

    async def follow(
        self,
        route: Route,
        workflow: dict[str, Any] | None,
        *,
        prompt_id: str,
        client_id: str,
        resume_from: Progress | None = None,
    ) -> AsyncIterator[GenerationEvent]:
        """Pick up a prompt submitted earlier (after a gateway restart)."""
        ws = await self._connect(route, client_id)
        events = self._follow(
            route, workflow, prompt_id, ws, check_first=True, resume_from=resume_from
        )
        async for event in events:
            yield event

    async def upload(self, route: Route, data: bytes, content_type: str) -> str:
        """Put an input image into ComfyUI's input folder; returns what LoadImage takes."""
        extension = content_type.split("/")[-1].split("+")[0] or "png"
        form = aiohttp.FormData()
        form.add_field(
            "image",
            data,
            filename=f"lowart_{secrets.token_hex(8)}.{extension}",
            content_type=content_type,
        )
        form.add_field("type", "input")
        try:
            async with self._session.post(
                _base(route) + "/upload/image", data=form, timeout=self._timeout
            ) as resp:
                body, status = await resp.read(), resp.status
        except _TRANSPORT as exc:
            raise translate_transport_error(route, exc) from exc
        try:
            stored = orjson.loads(body) if status == 200 else None
        except orjson.JSONDecodeError:
            stored = None
        if not isinstance(stored, dict) or not stored.get("name"):
            raise UpstreamError(
                f"ComfyUI for model '{route.name}' refused the input image (HTTP {status}).",
                upstream_status=status if status != 200 else None,
            )
        subfolder = stored.get("subfolder") or ""
        return f"{subfolder}/{stored['name']}" if subfolder else str(stored["name"])

    async def fetch(self, route: Route, image: ImageRef) -> tuple[bytes, str]:
        params = {"filename": image.filename, "subfolder": image.subfolder, "type": image.type}
        try:
            async with self._session.get(
                _base(route) + "/view", params=params, timeout=self._timeout
            ) as resp:
                body, status = await resp.read(), resp.status
                content_type = resp.content_type or "application/octet-stream"
        except _TRANSPORT as exc:
            raise translate_transport_error(route, exc) from exc
        if status != 200:
            raise UpstreamError(
                f"ComfyUI for model '{route.name}' could not serve result image "
                f"{image.filename!r} (HTTP {status})."
            )
        return body, content_type

    async def cancel(self, route: Route, prompt_id: str) -> None:
        """Dequeue the prompt if it is pending, interrupt it if it is running."""
        try:
            position = await self._queue_position(route, prompt_id)
        except _TRANSPORT as exc:
            raise translate_transport_error(route, exc) from exc
        if position is None:
            return
        if position > 0:
            await self._post(route, "/queue", {"delete": [prompt_id]})
        else:
            await self._post(route, "/interrupt", {"prompt_id": prompt_id})

    # ---- internals ------------------------------------------------------------------

    async def _connect(
        self, route: Route, client_id: str
    ) -> aiohttp.ClientWebSocketResponse | None:
        url = _ws_base(route) + "/ws?clientId=" + quote(client_id)
        try:
            return await asyncio.wait_for(
                self._session.ws_connect(
                    url, heartbeat=self._heartbeat, max_msg_size=64 * 1024 * 1024
                ),
                self._timeout.connect or 10.0,
            )
        except _TRANSPORT as exc:
            log.warning(
                "model %r: ComfyUI websocket unavailable (%s); following by polling",
                route.name,
                type(exc).__name__,
            )
            return None

    async def _submit(self, route: Route, payload: dict[str, Any]) -> None:
        try:
            async with self._session.post(
                _base(route) + "/prompt",
                data=orjson.dumps(payload),
                headers={"Content-Type": "application/json"},
                timeout=self._timeout,
            ) as resp:
                body, status = await resp.read(), resp.status
        except _TRANSPORT as exc:
            raise translate_transport_error(route, exc) from exc
        if status != 200:
            raise rejected_prompt(route, status, body)

    async def _follow(
        self,
        route: Route,
        workflow: dict[str, Any] | None,
        prompt_id: str,
        ws: aiohttp.ClientWebSocketResponse | None,
        *,
        check_first: bool,
        resume_from: Progress | None = None,
    ) -> AsyncIterator[GenerationEvent]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(route.options.get("timeout") or self._generation_timeout)
        tracker = PromptTracker(prompt_id, workflow, resume_from)
        try:
            if ws is not None:
                if check_first:
                    try:
                        state: GenerationEvent | None = await self._check(route, prompt_id)
                    except _TRANSPORT:
                        state = None
                    if state is not None:
                        yield state
                    if isinstance(state, Finished):
                        return
                async for progress in _read_socket(route, ws, tracker, deadline):
                    yield progress
                if tracker.done:
                    entry = await self._history(route, prompt_id)
                    if entry is not None:
                        yield _result(route, entry)
                        return
                log.info("model %r: ComfyUI websocket dropped; polling %s", route.name, prompt_id)
            async for event in self._poll(route, prompt_id, deadline):
                yield event
        finally:
            if ws is not None:
                await ws.close()

    async def _check(self, route: Route, prompt_id: str) -> GenerationEvent:
        entry = await self._history(route, prompt_id)
        if entry is not None:
            return _result(route, entry)
        position = await self._queue_position(route, prompt_id)
        if position is None:
            entry = await self._history(route, prompt_id)
            if entry is not None:
                return _result(route, entry)
            raise _lost(route, prompt_id)
        return Progress("running") if position == 0 else Progress("queued", position)

    async def _poll(
        self, route: Route, prompt_id: str, deadline: float
    ) -> AsyncIterator[GenerationEvent]:
        loop = asyncio.get_running_loop()
        interval = float(route.options.get("poll_interval") or self._poll_interval)
        last: Progress | None = None
        while True:
            try:
                state = await self._check(route, prompt_id)
            except _TRANSPORT:
                state = None  # ComfyUI unreachable (restarting?): keep trying until the deadline
            if isinstance(state, Finished):
                yield state
                return
            if state is not None and state != last:
                last = state
                yield state
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise _timed_out(route)
            await asyncio.sleep(min(interval, remaining))

    async def _position_hint(self, route: Route, prompt_id: str) -> int | None:
        """Where a just-submitted prompt waits (None when it already runs or is unknown)."""
        try:
            position = await self._queue_position(route, prompt_id)
        except _TRANSPORT:
            return None
        return position or None

    async def _history(self, route: Route, prompt_id: str) -> dict[str, Any] | None:
        data = await self._get_json(route, "/history/" + quote(prompt_id, safe=""))
        entry = data.get(prompt_id) if isinstance(data, dict) else None
        return entry if isinstance(entry, dict) else None

    async def _queue_position(self, route: Route, prompt_id: str) -> int | None:
        """0 while running, 1.. while pending, None when ComfyUI does not hold it."""
        data = await self._get_json(route, "/queue")
        if not isinstance(data, dict):
            return None
        if any(_item_id(item) == prompt_id for item in data.get("queue_running") or ()):
            return 0
        pending = sorted(data.get("queue_pending") or (), key=lambda item: item[0])
        for index, item in enumerate(pending):
            if _item_id(item) == prompt_id:
                return index + 1
        return None

    async def _get_json(self, route: Route, path: str) -> Any:
        async with self._session.get(_base(route) + path, timeout=self._short) as resp:
            if resp.status != 200:
                raise aiohttp.ClientResponseError(
                    resp.request_info, resp.history, status=resp.status
                )
            return orjson.loads(await resp.read())

    async def _post(self, route: Route, path: str, body: dict[str, Any]) -> None:
        try:
            async with self._session.post(
                _base(route) + path,
                data=orjson.dumps(body),
                headers={"Content-Type": "application/json"},
                timeout=self._short,
            ) as resp:
                await resp.read()
        except _TRANSPORT as exc:
            raise translate_transport_error(route, exc) from exc


async def _read_socket(
    route: Route, ws: aiohttp.ClientWebSocketResponse, tracker: PromptTracker, deadline: float
) -> AsyncIterator[Progress]:
    """Progress from the socket until the prompt is done or the socket goes away."""
    loop = asyncio.get_running_loop()
    while not tracker.done:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise _timed_out(route)
        try:
            message = await asyncio.wait_for(ws.receive(), remaining)
        except TimeoutError as exc:
            raise _timed_out(route) from exc
        except aiohttp.ClientError:
            return
        if message.type == aiohttp.WSMsgType.BINARY:
            continue  # live previews
        if message.type != aiohttp.WSMsgType.TEXT:
            return  # closed or failed: the caller falls back to polling
        try:
            frame = orjson.loads(message.data)
        except orjson.JSONDecodeError:
            continue
        if isinstance(frame, dict):
            progress = tracker.feed(str(frame.get("type")), frame.get("data"))
            if progress is not None:
                yield progress


def _result(route: Route, entry: dict[str, Any]) -> Finished:
    status = entry.get("status") or {}
    if status.get("status_str") == "error":
        raise execution_failure(route, status.get("messages") or [])
    outputs = entry.get("outputs") or {}
    images = [
        ImageRef(str(i.get("filename")), str(i.get("subfolder") or ""), str(i.get("type")))
        for node_id in sorted(outputs, key=_node_order)
        for i in (outputs[node_id] or {}).get("images") or ()
        if isinstance(i, dict) and i.get("filename")
    ]
    saved = [image for image in images if image.type == "output"] or images
    if not saved:
        raise UpstreamError(
            f"The workflow of model '{route.name}' finished without an image "
            "(it needs a SaveImage or PreviewImage node).",
            code="no_output",
        )
    return Finished(tuple(saved))


def _no_chat(route: Route) -> InvalidRequest:
    return InvalidRequest(f"Model '{route.name}' generates images; no image engine is running.")


def _lost(route: Route, prompt_id: str) -> PromptLost:
    return PromptLost(
        f"ComfyUI for model '{route.name}' no longer knows prompt {prompt_id} "
        "(the server restarted and lost its queue and history); run the generation again."
    )


def _timed_out(route: Route) -> UpstreamTimeout:
    return UpstreamTimeout(f"ComfyUI for model '{route.name}' did not finish in time.")


def _item_id(item: Any) -> str | None:
    return item[1] if isinstance(item, list) and len(item) > 1 else None


def _node_order(node_id: str) -> tuple[int, str]:
    return (int(node_id), "") if node_id.isdigit() else (1 << 30, node_id)


def _base(route: Route) -> str:
    return (route.base_url or DEFAULT_BASE_URL).rstrip("/")


def _ws_base(route: Route) -> str:
    base = _base(route)
    return "ws" + base[4:] if base.startswith("http") else base
