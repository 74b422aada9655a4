"""A fake ComfyUI 0.8.0 server built from the recorded shapes in shared/reference/comfyui.

It speaks the real wire format: POST /prompt (with the recorded 400 validation
bodies and the 500 for malformed JSON), GET /history[/{id}] (`{}` until a prompt
is finished), GET /queue, POST /queue `{"delete": [...]}` (pending only),
POST /interrupt (takes effect between nodes or sampler steps), GET /view (404,
400 for `..`, 403 for an escaping subfolder), GET /system_stats, and the
websocket /ws?clientId= whose per-prompt frames go only to the socket of the
prompt's client, only while it is connected, in the recorded order. Every route
is also served under /api/. Node outputs are cached by input signature, so an
identical resubmission is served from cache and reports the old filenames.

The node set is what the recorded model-free workflows use plus the classic
text-to-image graph (checkpoint, CLIP text, empty latent, KSampler, VAE decode),
whose KSampler sends `progress` frames and binary preview frames per step.

Test controls: `pause()`/`resume()` hold the running prompt before its next
node, `step_delay` slows sampler steps, `drop_sockets()` closes every websocket,
`restart()` forgets queue, history and cache like a restarted server.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import struct
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiohttp import WSMsgType, web

REFERENCE = Path("/work/shared/reference/comfyui")

_INT = ("INT", {"default": 512, "min": 1, "max": 16384, "step": 1})


def _spec(required: dict[str, Any], outputs: list[str], output_node: bool = False) -> dict:
    return {"required": required, "outputs": outputs, "output_node": output_node}


NODES: dict[str, dict[str, Any]] = {
    "EmptyImage": _spec(
        {
            "width": _INT,
            "height": _INT,
            "batch_size": ("INT", {"default": 1, "min": 1, "max": 4096}),
            "color": ("INT", {"default": 0, "min": 0, "max": 16777215, "step": 1}),
        },
        ["IMAGE"],
    ),
    "ImageInvert": _spec({"image": ("IMAGE",)}, ["IMAGE"]),
    "ImageBlur": _spec(
        {
            "image": ("IMAGE",),
            "blur_radius": ("INT", {"default": 1, "min": 1, "max": 31}),
            "sigma": ("FLOAT", {"default": 1.0, "min": 0.1, "max": 10.0}),
        },
        ["IMAGE"],
    ),
    "SaveImage": _spec(
        {"images": ("IMAGE",), "filename_prefix": ("STRING", {"default": "ComfyUI"})},
        [],
        True,
    ),
    "PreviewImage": _spec({"images": ("IMAGE",)}, [], True),
    "LoadImage": _spec({"image": ("COMBO", {})}, ["IMAGE", "MASK"]),
    "CheckpointLoaderSimple": _spec({"ckpt_name": ("COMBO", {})}, ["MODEL", "CLIP", "VAE"]),
    "CLIPTextEncode": _spec({"text": ("STRING", {}), "clip": ("CLIP",)}, ["CONDITIONING"]),
    "EmptyLatentImage": _spec(
        {
            "width": ("INT", {"default": 512, "min": 16, "max": 16384, "step": 8}),
            "height": ("INT", {"default": 512, "min": 16, "max": 16384, "step": 8}),
            "batch_size": ("INT", {"default": 1, "min": 1, "max": 4096}),
        },
        ["LATENT"],
    ),
    "KSampler": _spec(
        {
            "model": ("MODEL",),
            "seed": ("INT", {"default": 0, "min": 0, "max": 0xFFFFFFFFFFFFFFFF}),
            "steps": ("INT", {"default": 20, "min": 1, "max": 10000}),
            "cfg": ("FLOAT", {"default": 8.0, "min": 0.0, "max": 100.0}),
            "sampler_name": ("STRING", {}),
            "scheduler": ("STRING", {}),
            "positive": ("CONDITIONING",),
            "negative": ("CONDITIONING",),
            "latent_image": ("LATENT",),
            "denoise": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0}),
        },
        ["LATENT"],
    ),
    "VAEDecode": _spec({"samples": ("LATENT",), "vae": ("VAE",)}, ["IMAGE"]),
}
CHECKPOINTS = ["sd15.safetensors"]
_ALLOC_LIMIT = 1 << 32  # pixels; beyond it the fake fails like the recorded allocation error


def txt2img_workflow() -> dict[str, Any]:
    """ComfyUI's default text-to-image graph in API format (node ids as the UI numbers them)."""
    return {
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "seed": 156680208700286,
                "steps": 4,
                "cfg": 8.0,
                "sampler_name": "euler",
                "scheduler": "normal",
                "denoise": 1.0,
                "model": ["4", 0],
                "positive": ["6", 0],
                "negative": ["7", 0],
                "latent_image": ["5", 0],
            },
        },
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": CHECKPOINTS[0]}},
        "5": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 1},
        },
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {
            "class_type": "SaveImage",
            "inputs": {"filename_prefix": "lowart", "images": ["8", 0]},
        },
    }


def reference_workflow(name: str) -> dict[str, Any]:
    return json.loads((REFERENCE / "workflows" / name).read_text())


def png_bytes(width: int, height: int, rgb: tuple[int, int, int], text: str = "") -> bytes:
    """A real PNG of one solid colour (what SaveImage writes, including a `prompt` tEXt)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    parts = [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", header)]
    if text:
        parts.append(chunk(b"tEXt", b"prompt\x00" + text.encode("latin-1", "replace")))
    parts += [chunk(b"IDAT", zlib.compress(row * height)), chunk(b"IEND", b"")]
    return b"".join(parts)


class _Interrupted(Exception):
    pass


class _NodeFailed(Exception):
    def __init__(self, node_id: str, class_type: str, message: str) -> None:
        super().__init__(message)
        self.node_id, self.class_type, self.message = node_id, class_type, message


@dataclass
class _Task:
    number: int
    prompt_id: str
    prompt: dict[str, Any]
    extra: dict[str, Any]
    outputs: list[str]

    def as_queue_item(self) -> list[Any]:
        return [self.number, self.prompt_id, self.prompt, self.extra, self.outputs]


@dataclass
class FakeComfyUI:
    port: int = 0
    step_delay: float = 0.0
    interrupt_reply_delay: float = 0.0
    """Seconds /interrupt takes to answer after it took effect (its websocket news first)."""
    prompts: list[dict[str, Any]] = field(default_factory=list)
    interrupts: list[Any] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    ws_connects: list[str] = field(default_factory=list)
    queue_reads: int = 0
    log: list[tuple[str, str]] = field(default_factory=list)  # ("ws"|"prompt", client id)
    history: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[tuple[str, str, str], bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._sockets: dict[str, list[web.WebSocketResponse]] = {}
        self._pending: list[_Task] = []
        self._running: _Task | None = None
        self._number = 0
        self._cache: dict[str, Any] = {}
        self._counters: dict[str, int] = {}
        self._wake = asyncio.Event()
        self._gate = asyncio.Event()
        self._gate.set()
        self._interrupt = asyncio.Event()
        self._worker: asyncio.Task | None = None
        self.node_started = asyncio.Event()
        self.uploads = ["example.png"]

    # ---- lifecycle and controls -------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        for prefix in ("", "/api"):
            app.router.add_post(prefix + "/prompt", self._post_prompt)
            app.router.add_get(prefix + "/prompt", self._get_prompt)
            app.router.add_get(prefix + "/history", self._get_history_all)
            app.router.add_get(prefix + "/history/{prompt_id}", self._get_history)
            app.router.add_get(prefix + "/queue", self._get_queue)
            app.router.add_post(prefix + "/queue", self._post_queue)
            app.router.add_post(prefix + "/interrupt", self._post_interrupt)
            app.router.add_get(prefix + "/view", self._view)
            app.router.add_get(prefix + "/system_stats", self._system_stats)
            app.router.add_post(prefix + "/upload/image", self._upload_image)
            app.router.add_get(prefix + "/ws", self._ws)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self._worker = asyncio.create_task(self._work())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self.drop_sockets()
        if self._runner is not None:
            await self._runner.cleanup()

    def pause(self) -> None:
        """Hold the running prompt before its next node (and between sampler steps)."""
        self._gate.clear()

    def resume(self) -> None:
        self._gate.set()

    async def drop_sockets(self) -> None:
        for sockets in list(self._sockets.values()):
            for ws in list(sockets):
                with contextlib.suppress(Exception):
                    await ws.close()
        self._sockets.clear()

    async def restart(self) -> None:
        """What a restarted ComfyUI looks like: sockets gone, queue, history and cache empty."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self.drop_sockets()
        self._pending.clear()
        self._running = None
        self.history.clear()
        self._cache.clear()
        self._gate.set()
        self._interrupt.clear()
        self._worker = asyncio.create_task(self._work())

    @property
    def running_prompt_id(self) -> str | None:
        return self._running.prompt_id if self._running else None

    # ---- HTTP endpoints -----------------------------------------------------------

    async def _post_prompt(self, request: web.Request) -> web.Response:
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return web.Response(
                status=500,
                text="500 Internal Server Error\n\nServer got itself in trouble",
                content_type="text/plain",
            )
        self.prompts.append(body)
        if isinstance(body, dict):
            self.log.append(("prompt", str(body.get("client_id"))))
        prompt = body.get("prompt") if isinstance(body, dict) else None
        if prompt is None:
            return _error("no_prompt", "No prompt provided", "No prompt provided", node_errors={})
        failure = _validate(prompt, self.uploads)
        if failure is not None:
            return failure
        prompt_id = str(body.get("prompt_id") or uuid.uuid4())
        extra = {"client_id": body.get("client_id"), "create_time": int(time.time() * 1000)}
        task = _Task(self._number, prompt_id, prompt, extra, _output_nodes(prompt))
        self._number += 1
        self._pending.append(task)
        self._wake.set()
        await self._broadcast_status()
        return web.json_response({"prompt_id": prompt_id, "number": task.number, "node_errors": {}})

    async def _get_prompt(self, _request: web.Request) -> web.Response:
        return web.json_response({"exec_info": {"queue_remaining": self._queue_remaining()}})

    async def _get_history(self, request: web.Request) -> web.Response:
        prompt_id = request.match_info["prompt_id"]
        entry = self.history.get(prompt_id)
        return web.json_response({prompt_id: entry} if entry else {})

    async def _get_history_all(self, request: web.Request) -> web.Response:
        items = list(self.history.items())
        limit = request.query.get("max_items")
        if limit:
            items = items[-int(limit) :]
        return web.json_response(dict(items))

    async def _get_queue(self, _request: web.Request) -> web.Response:
        self.queue_reads += 1
        running = [self._running.as_queue_item()] if self._running else []
        return web.json_response(
            {"queue_running": running, "queue_pending": [t.as_queue_item() for t in self._pending]}
        )

    async def _post_queue(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read() or b"{}")
        if body.get("clear"):
            self._pending.clear()
        for prompt_id in body.get("delete") or ():
            before = len(self._pending)
            self._pending = [t for t in self._pending if t.prompt_id != prompt_id]
            if len(self._pending) != before:
                self.deleted.append(prompt_id)
        await self._broadcast_status()
        return web.Response(status=200)

    async def _post_interrupt(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body = orjson.loads(raw) if raw else {}
        target = body.get("prompt_id") if isinstance(body, dict) else None
        self.interrupts.append(target)
        running = self._running
        if running is not None and (target is None or target == running.prompt_id):
            self._interrupt.set()
        if self.interrupt_reply_delay:
            await asyncio.sleep(self.interrupt_reply_delay)
        return web.Response(status=200)

    async def _view(self, request: web.Request) -> web.Response:
        filename = request.query.get("filename", "")
        subfolder = request.query.get("subfolder", "")
        kind = request.query.get("type", "output")
        if kind not in ("output", "input", "temp"):
            return web.Response(status=400)
        if not filename or filename[0] == "/" or ".." in filename:
            return web.Response(status=400)
        if ".." in Path(subfolder).parts or subfolder.startswith("/"):
            return web.Response(status=403)
        data = self.files.get((kind, subfolder, filename))
        if data is None:
            return web.Response(status=404)
        return web.Response(
            body=data,
            content_type="image/png",
            headers={"Content-Disposition": f'filename="{filename}"'},
        )

    async def _upload_image(self, request: web.Request) -> web.Response:
        """Recorded: 200 {"name", "subfolder", "type": "input"}; LoadImage may then use it."""
        form = await request.post()
        upload = form.get("image")
        if not isinstance(upload, web.FileField):
            return web.Response(status=400)
        subfolder = str(form.get("subfolder") or "")
        name = Path(upload.filename or "upload.png").name
        self.files[("input", subfolder, name)] = upload.file.read()
        self.uploads.append(f"{subfolder}/{name}" if subfolder else name)
        return web.json_response({"name": name, "subfolder": subfolder, "type": "input"})

    async def _system_stats(self, _request: web.Request) -> web.Response:
        recorded = json.loads((REFERENCE / "system_stats.json").read_text())
        return web.json_response(recorded["body"])

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        client_id = request.query.get("clientId") or uuid.uuid4().hex
        self.ws_connects.append(client_id)
        self.log.append(("ws", client_id))
        self._sockets.setdefault(client_id, []).append(ws)
        try:
            status = {"status": {"exec_info": {"queue_remaining": self._queue_remaining()}}}
            await ws.send_str(_frame("status", {**status, "sid": client_id}))
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    continue  # feature_flags from the client; nothing to answer here
        finally:
            sockets = self._sockets.get(client_id, [])
            if ws in sockets:
                sockets.remove(ws)
        return ws

    # ---- websocket delivery -----------------------------------------------------

    async def _send(self, client_id: str | None, kind: str, data: dict[str, Any]) -> None:
        for ws in list(self._sockets.get(client_id or "", [])):
            with contextlib.suppress(Exception):
                await ws.send_str(_frame(kind, data))

    async def _send_bytes(self, client_id: str | None, data: bytes) -> None:
        for ws in list(self._sockets.get(client_id or "", [])):
            with contextlib.suppress(Exception):
                await ws.send_bytes(data)

    async def _broadcast_status(self) -> None:
        data = {"status": {"exec_info": {"queue_remaining": self._queue_remaining()}}}
        for client_id in list(self._sockets):
            await self._send(client_id, "status", data)

    def _queue_remaining(self) -> int:
        return len(self._pending) + (1 if self._running else 0)

    # ---- the executor -----------------------------------------------------------

    async def _work(self) -> None:
        while True:
            while not self._pending:
                self._wake.clear()
                await self._wake.wait()
            task = self._pending.pop(0)
            self._running = task
            self._interrupt.clear()
            try:
                await self._execute(task)
            finally:
                self._running = None
            await self._broadcast_status()
            await self._send(
                task.extra.get("client_id"),
                "executing",
                {"node": None, "prompt_id": task.prompt_id},
            )

    async def _execute(self, task: _Task) -> None:
        pid, cid, prompt = task.prompt_id, task.extra.get("client_id"), task.prompt
        messages: list[list[Any]] = []

        async def emit(kind: str, data: dict[str, Any], record: bool = False) -> None:
            data = {**data, "prompt_id": pid} if "prompt_id" not in data else data
            if record:
                messages.append([kind, {**data, "timestamp": _now_ms()}])
            await self._send(cid, kind, data)

        await self._broadcast_status()
        await emit("execution_start", {"timestamp": _now_ms()}, record=True)
        order = _execution_order(prompt, task.outputs)
        signatures = _signatures(prompt, order)
        cached = [n for n in order if signatures[n] in self._cache]
        await emit("execution_cached", {"nodes": cached, "timestamp": _now_ms()}, record=True)
        values: dict[str, Any] = {}
        outputs: dict[str, Any] = {}
        executed: list[str] = []
        for node_id in cached:
            values[node_id], ui = self._cache[signatures[node_id]]
            if ui:
                outputs[node_id] = ui
                await emit("executed", {"node": node_id, "display_node": node_id, "output": ui})
        status = "success"
        try:
            for node_id in order:
                if node_id in values:
                    continue
                await self._wait_gate()
                await emit("progress_state", _progress_state(pid, node_id, "running"))
                await emit("executing", {"node": node_id, "display_node": node_id})
                self.node_started.set()
                value, ui = await self._run_node(task, node_id, values)
                values[node_id] = value
                self._cache[signatures[node_id]] = (value, ui)
                executed.append(node_id)
                await emit("progress_state", _progress_state(pid, node_id, "finished"))
                if ui:
                    outputs[node_id] = ui
                    await emit("executed", {"node": node_id, "display_node": node_id, "output": ui})
            await emit("execution_success", {"timestamp": _now_ms()}, record=True)
        except _Interrupted:
            status = "error"
            node_id = next(n for n in order if n not in values)
            await emit(
                "execution_interrupted",
                {
                    "node_id": node_id,
                    "node_type": prompt[node_id]["class_type"],
                    "executed": executed,
                    "timestamp": _now_ms(),
                },
                record=True,
            )
        except _NodeFailed as exc:
            status = "error"
            await emit(
                "execution_error",
                {
                    "node_id": exc.node_id,
                    "node_type": exc.class_type,
                    "executed": executed,
                    "exception_message": exc.message,
                    "exception_type": "RuntimeError",
                    "traceback": ['  File "/srv/comfyui/execution.py", line 518, in execute\n'],
                    "current_inputs": {},
                    "current_outputs": list(order),
                    "timestamp": _now_ms(),
                },
                record=True,
            )
        self.history[pid] = {
            "prompt": task.as_queue_item(),
            "outputs": outputs if status == "success" else {},
            "status": {
                "status_str": status,
                "completed": status == "success",
                "messages": messages,
            },
            "meta": {n: {"node_id": n, "display_node": n} for n in outputs},
        }

    async def _wait_gate(self) -> None:
        if self._interrupt.is_set():
            raise _Interrupted
        if not self._gate.is_set():
            gate = asyncio.create_task(self._gate.wait())
            stop = asyncio.create_task(self._interrupt.wait())
            try:
                await asyncio.wait({gate, stop}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                gate.cancel()
                stop.cancel()
        if self._interrupt.is_set():
            raise _Interrupted

    async def _run_node(
        self, task: _Task, node_id: str, values: dict[str, Any]
    ) -> tuple[Any, dict[str, Any] | None]:
        node = task.prompt[node_id]
        kind = node["class_type"]
        inputs = {
            name: values[value[0]][int(value[1])] if _is_link(value) else value
            for name, value in node["inputs"].items()
        }
        if kind in ("EmptyImage", "EmptyLatentImage"):
            w, h, b = int(inputs["width"]), int(inputs["height"]), int(inputs["batch_size"])
            if w * h * b > _ALLOC_LIMIT:
                raise _NodeFailed(
                    node_id,
                    kind,
                    "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: "
                    f"can't allocate memory: you tried to allocate {w * h * b * 4} bytes.",
                )
            color = int(inputs.get("color", 0))
            return ({"w": w, "h": h, "batch": b, "color": color},), None
        if kind in ("ImageInvert", "ImageBlur"):
            image = dict(inputs["image"])
            if kind == "ImageInvert":
                image["color"] = 0xFFFFFF - image["color"]
            return (image,), None
        if kind == "CheckpointLoaderSimple":
            return ("model", "clip", "vae"), None
        if kind == "CLIPTextEncode":
            return (str(inputs["text"]),), None
        if kind == "LoadImage":
            subfolder, _, name = str(inputs["image"]).rpartition("/")
            data = self.files.get(("input", subfolder, name), b"")
            w, h = struct.unpack(">II", data[16:24]) if data[:4] == b"\x89PNG" else (32, 32)
            return ({"w": w, "h": h, "batch": 1, "color": 0x808080}, "mask"), None
        if kind == "KSampler":
            return (await self._sample(task, node_id, inputs),), None
        if kind == "VAEDecode":
            return (dict(inputs["samples"]),), None
        if kind in ("SaveImage", "PreviewImage"):
            return (), {"images": self._save(task, inputs, kind)}
        raise _NodeFailed(node_id, kind, f"the fake cannot run {kind}")

    async def _sample(self, task: _Task, node_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        steps = int(inputs["steps"])
        cid = task.extra.get("client_id")
        for step in range(1, steps + 1):
            if self.step_delay:
                await asyncio.sleep(self.step_delay)
            await self._wait_gate()
            await self._send(
                cid,
                "progress",
                {"value": step, "max": steps, "prompt_id": task.prompt_id, "node": node_id},
            )
            # a live preview: 4-byte event type 1 (PREVIEW_IMAGE), 4-byte format 2 (PNG), bytes
            await self._send_bytes(cid, struct.pack(">II", 1, 2) + png_bytes(2, 2, (9, 9, 9)))
        latent = dict(inputs["latent_image"])
        digest = hashlib.sha256(f"{inputs['seed']}|{inputs['positive']}".encode()).digest()
        latent["color"] = int.from_bytes(digest[:3], "big")
        return latent

    def _save(self, task: _Task, inputs: dict[str, Any], kind: str) -> list[dict[str, str]]:
        image = inputs["images"]
        if kind == "PreviewImage":
            prefix, folder, subfolder = "ComfyUI_temp_fake", "temp", ""
        else:
            prefix, folder = str(inputs["filename_prefix"]), "output"
            subfolder, _, prefix = prefix.rpartition("/")
        color = image["color"]
        rgb = ((color >> 16) & 0xFF, (color >> 8) & 0xFF, color & 0xFF)
        saved = []
        for _ in range(image["batch"]):
            key = f"{folder}/{subfolder}/{prefix}"
            self._counters[key] = self._counters.get(key, 0) + 1
            filename = f"{prefix}_{self._counters[key]:05d}_.png"
            text = json.dumps(task.prompt)
            self.files[(folder, subfolder, filename)] = png_bytes(image["w"], image["h"], rgb, text)
            saved.append({"filename": filename, "subfolder": subfolder, "type": folder})
        return saved


# ---- validation (the recorded 400 bodies) --------------------------------------


def _error(kind: str, message: str, details: str = "", node_errors: dict | None = None):
    body = {
        "error": {"type": kind, "message": message, "details": details, "extra_info": {}},
        "node_errors": node_errors or {},
    }
    return web.json_response(body, status=400)


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)


def _output_nodes(prompt: dict[str, Any]) -> list[str]:
    return sorted(
        (n for n, node in prompt.items() if NODES[node["class_type"]]["output_node"]), key=_num
    )


def _num(node_id: str) -> tuple[int, str]:
    return (int(node_id), "") if node_id.isdigit() else (1 << 30, node_id)


def _validate(prompt: Any, uploads: list[str]) -> web.Response | None:
    if not isinstance(prompt, dict):
        return _error("invalid_prompt", "Invalid prompt", "")
    for node_id, node in prompt.items():
        kind = node.get("class_type") if isinstance(node, dict) else None
        if kind not in NODES:
            return _error(
                "invalid_prompt",
                f"Cannot execute because node {kind} does not exist.",
                f"Node ID '#{node_id}'",
            )
    outputs = _output_nodes(prompt)
    if not outputs:
        return _error("prompt_no_outputs", "Prompt has no outputs")
    node_errors: dict[str, Any] = {}
    for output in outputs:
        for node_id in _execution_order(prompt, [output]):
            errors = _node_errors(prompt, node_id, uploads)
            if errors:
                entry = node_errors.setdefault(
                    node_id,
                    {"errors": errors, "dependent_outputs": [], "class_type": ""},
                )
                entry["class_type"] = prompt[node_id]["class_type"]
                entry["dependent_outputs"].append(output)
    if node_errors:
        return _error(
            "prompt_outputs_failed_validation",
            "Prompt outputs failed validation",
            node_errors=node_errors,
        )
    return None


def _node_errors(prompt: dict[str, Any], node_id: str, uploads: list[str]) -> list[dict]:
    node = prompt[node_id]
    inputs = node.get("inputs") or {}
    errors: list[dict[str, Any]] = []
    for name, (kind, *rest) in NODES[node["class_type"]]["required"].items():
        config = rest[0] if rest else {}
        if name not in inputs:
            errors.append(
                {
                    "type": "required_input_missing",
                    "message": "Required input is missing",
                    "details": name,
                    "extra_info": {"input_name": name},
                }
            )
            continue
        value = inputs[name]
        if _is_link(value):
            if value[0] not in prompt:
                errors.append(
                    {
                        "type": "bad_linked_input",
                        "message": "Bad linked input, must be a length-2 list of [string, int]",
                        "details": f"{name}, {value}",
                        "extra_info": {"input_name": name, "received_value": value},
                    }
                )
            continue
        if kind == "INT":
            try:
                number = int(value)
            except (TypeError, ValueError) as exc:
                errors.append(
                    {
                        "type": "invalid_input_type",
                        "message": "Failed to convert an input value to a INT value",
                        "details": f"{name}, {value}, {exc}",
                        "extra_info": {
                            "input_name": name,
                            "input_config": [kind, config],
                            "received_value": value,
                            "exception_message": str(exc),
                        },
                    }
                )
                continue
            if "max" in config and number > config["max"]:
                errors.append(
                    {
                        "type": "value_bigger_than_max",
                        "message": f"Value {number} bigger than max of {config['max']}",
                        "details": name,
                        "extra_info": {
                            "input_name": name,
                            "input_config": [kind, config],
                            "received_value": number,
                        },
                    }
                )
            elif "min" in config and number < config["min"]:
                errors.append(
                    {
                        "type": "value_smaller_than_min",
                        "message": f"Value {number} smaller than min of {config['min']}",
                        "details": name,
                        "extra_info": {
                            "input_name": name,
                            "input_config": [kind, config],
                            "received_value": number,
                        },
                    }
                )
        elif kind == "COMBO":
            choices = uploads if node["class_type"] == "LoadImage" else CHECKPOINTS
            if value not in choices:
                errors.append(
                    {
                        "type": "custom_validation_failed",
                        "message": "Custom validation failed for node",
                        "details": f"{name} - Invalid image file: {value}",
                        "extra_info": {"input_name": name},
                    }
                )
    return errors


def _execution_order(prompt: dict[str, Any], outputs: list[str]) -> list[str]:
    order: list[str] = []

    def visit(node_id: str) -> None:
        if node_id in order:
            return
        links = [v[0] for v in prompt[node_id]["inputs"].values() if _is_link(v)]
        for dep in sorted(set(links), key=_num):
            if dep in prompt:
                visit(dep)
        order.append(node_id)

    for output in outputs:
        visit(output)
    return order


def _signatures(prompt: dict[str, Any], order: list[str]) -> dict[str, str]:
    """Per-node cache keys: class, literal inputs and the keys of linked nodes (like ComfyUI)."""
    keys: dict[str, str] = {}
    for node_id in order:
        node = prompt[node_id]
        parts = {
            name: ["link", keys[v[0]], v[1]] if _is_link(v) else v
            for name, v in sorted(node["inputs"].items())
        }
        raw = orjson.dumps([node["class_type"], parts])
        keys[node_id] = hashlib.sha256(raw).hexdigest()
    return keys


def _progress_state(prompt_id: str, node_id: str, state: str) -> dict[str, Any]:
    value = 1.0 if state == "finished" else 0.0
    node = {"value": value, "max": 1.0, "state": state, "node_id": node_id}
    return {"nodes": {node_id: {**node, "prompt_id": prompt_id, "display_node_id": node_id}}}


def _frame(kind: str, data: dict[str, Any]) -> str:
    return orjson.dumps({"type": kind, "data": data}).decode()


def _now_ms() -> int:
    return int(time.time() * 1000)
