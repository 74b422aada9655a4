"""Debian's headless Chromium driven over the Chrome DevTools Protocol.

No driver binary and no browser download: Chromium is started with a debugging
port chosen by the OS, and this speaks CDP to it over a websocket (aiohttp's
client, on its own loop thread), with one flattened session per page. Clicks
and typing go through `Input.*` (real mouse and keyboard events), so a page is
used the way a person uses it; console messages, uncaught exceptions and
browser log entries are collected for the tests to check.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.servers import LoopThread

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)
_KEYS = {
    "Enter": ("Enter", "Enter", 13, "\r"),
    "Tab": ("Tab", "Tab", 9, None),
    "Escape": ("Escape", "Escape", 27, None),
    "Space": (" ", "Space", 32, " "),
    "Backspace": ("Backspace", "Backspace", 8, None),
}


class CdpError(RuntimeError):
    pass


@dataclass
class Messages:
    """What a page said: console errors, uncaught exceptions, browser log errors."""

    console: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    responses: dict[str, dict[str, str]] = field(default_factory=dict)
    """The headers of each URL's last response (names lower-cased)."""

    def errors(self, allow_network: bool = False) -> list[str]:
        """Everything that is an error; failed requests (the browser logs a 4xx
        answer as a network error) only when `allow_network` is False."""
        found = [*self.console, *self.exceptions]
        found += [
            f"{e.get('source')}: {e.get('text')} {e.get('url', '')}"
            for e in self.log
            if e.get("level") == "error" and not (allow_network and e.get("source") == "network")
        ]
        return found


class Chromium:
    """One headless Chromium process with a temporary profile."""

    def __init__(self, window: tuple[int, int] = (1280, 900)) -> None:
        self._profile = Path(tempfile.mkdtemp(prefix="lowart-chromium-"))
        self._loop = LoopThread()
        self._process = subprocess.Popen(
            [
                str(CHROMIUM),
                *FLAGS,
                f"--user-data-dir={self._profile}",
                f"--window-size={window[0]},{window[1]}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._listeners: dict[str, list[Any]] = {}
        self._targets: dict[str, tuple[str, str | None]] = {}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._http: aiohttp.ClientSession | None = None
        self._reader: asyncio.Task[None] | None = None
        try:
            self._loop.run(self._connect(self._devtools_path()))
        except BaseException:
            self.close()
            raise

    def _devtools_path(self, timeout: float = 20) -> str:
        port_file = self._profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise CdpError(f"Chromium exited with status {self._process.returncode}")
            if port_file.exists():
                lines = port_file.read_text().split()
                if len(lines) >= 2:
                    return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.05)
        raise CdpError("Chromium did not open its debugging port")

    async def _connect(self, url: str) -> None:
        self._http = aiohttp.ClientSession()
        self._ws = await self._http.ws_connect(url, max_msg_size=64 * 1024 * 1024)
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is not None and not future.done():
                    if "error" in data:
                        future.set_exception(CdpError(str(data["error"])))
                    else:
                        future.set_result(data.get("result", {}))
            else:
                for listener in self._listeners.get(data.get("sessionId", ""), []):
                    listener(data["method"], data.get("params", {}))

    async def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
    ) -> Any:
        assert self._ws is not None
        ident = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        await self._ws.send_str(json.dumps(message))
        return await asyncio.wait_for(future, 30)

    def run(self, coro: Any, timeout: float = 60) -> Any:
        return self._loop.run(coro, timeout)

    def new_page(self, isolated: bool = False) -> Page:
        """A new tab; `isolated`: in a context of its own (its own cookies), like a
        second person's browser."""

        async def open_page() -> tuple[str, Messages]:
            params: dict[str, Any] = {"url": "about:blank"}
            if isolated:
                context = await self.send("Target.createBrowserContext")
                params["browserContextId"] = context["browserContextId"]
            target = await self.send("Target.createTarget", params)
            attached = await self.send(
                "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
            )
            session = attached["sessionId"]
            self._targets[session] = (target["targetId"], params.get("browserContextId"))
            messages = Messages()
            self._listeners[session] = [partial_listener(messages)]
            for domain in ("Page", "Runtime", "Log", "Network"):
                await self.send(f"{domain}.enable", session=session)
            return session, messages

        session, messages = self.run(open_page())
        return Page(self, session, messages)

    async def close_session(self, session: str) -> None:
        """Close a tab (and the browser context it was opened in)."""
        target = self._targets.pop(session, None)
        self._listeners.pop(session, None)
        if target is not None:
            await self.send("Target.closeTarget", {"targetId": target[0]})
            if target[1]:
                await self.send("Target.disposeBrowserContext", {"browserContextId": target[1]})

    def close(self) -> None:
        async def disconnect() -> None:
            if self._ws is not None:
                await self._ws.close()
            if self._reader is not None:
                self._reader.cancel()
            if self._http is not None:
                await self._http.close()

        try:
            self._loop.run(disconnect(), timeout=5)
        finally:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
            self._loop.stop()
            shutil.rmtree(self._profile, ignore_errors=True)


def partial_listener(messages: Messages) -> Any:
    def on_event(method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            messages.console.append(text)
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            exception = details.get("exception", {})
            messages.exceptions.append(exception.get("description") or details.get("text", ""))
        elif method == "Log.entryAdded":
            messages.log.append(params["entry"])
        elif method == "Network.responseReceived":
            response = params["response"]
            headers = {k.lower(): v for k, v in response["headers"].items()}
            messages.responses[response["url"]] = headers

    return on_event


class Page:
    """One tab: navigate, evaluate, wait, click and type with real input events."""

    def __init__(self, browser: Chromium, session: str, messages: Messages) -> None:
        self._browser = browser
        self._session = session
        self.messages = messages

    def _send(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return self._browser.run(self._browser.send(method, params, self._session))

    def goto(self, url: str) -> None:
        self._send("Page.navigate", {"url": url})
        self.wait("document.readyState === 'complete' && location.href !== 'about:blank'")

    def eval(self, expression: str) -> Any:
        result = self._send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise CdpError(details.get("exception", {}).get("description") or details["text"])
        return result["result"].get("value")

    def wait(self, expression: str, timeout: float = 10, what: str | None = None) -> Any:
        """Poll `expression` until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.eval(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout}s for {what or expression}")
            time.sleep(0.05)

    def wait_for(self, selector: str, timeout: float = 10) -> None:
        self.wait(f"!!document.querySelector({json.dumps(selector)})", timeout, selector)

    def text(self, selector: str) -> str:
        self.wait_for(selector)
        return str(self.eval(f"document.querySelector({json.dumps(selector)}).textContent"))

    def click(self, selector: str) -> None:
        """A real left click in the middle of the element (scrolled into view)."""
        self.wait_for(selector)
        box = self.eval(
            f"""(() => {{
                const el = document.querySelector({json.dumps(selector)});
                el.scrollIntoView({{block: "center", inline: "center"}});
                const r = el.getBoundingClientRect();
                return [r.x + r.width / 2, r.y + r.height / 2, r.width * r.height];
            }})()"""
        )
        if not box[2]:
            raise CdpError(f"{selector} is not visible")
        for kind in ("mousePressed", "mouseReleased"):
            self._send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1},
            )

    def fill(self, selector: str, text: str) -> None:
        """Focus a control, select what it holds and type `text` over it."""
        self.wait_for(selector)
        self.eval(
            f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
            " el.focus(); if (el.select) el.select(); })()"
        )
        if text:
            self._send("Input.insertText", {"text": text})
        else:
            self.press("Backspace")

    def choose(self, selector: str, value: str) -> None:
        """Pick an option of a <select> (as the keyboard would: value, then change)."""
        self.wait_for(selector)
        self.eval(
            f"""(() => {{ const el = document.querySelector({json.dumps(selector)});
                el.focus(); el.value = {json.dumps(value)};
                el.dispatchEvent(new Event("input", {{bubbles: true}}));
                el.dispatchEvent(new Event("change", {{bubbles: true}})); }})()"""
        )

    def upload(self, selector: str, path: Path) -> None:
        """Choose `path` in a file input, as the file picker would (then `change` fires)."""
        self.wait_for(selector)
        root = self._send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = self._send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        self._send("DOM.setFileInputFiles", {"nodeId": node, "files": [str(path)]})

    def press(self, key: str, modifiers: int = 0) -> None:
        name, code, vk, text = _KEYS.get(key, (key, key, 0, None))
        down: dict[str, Any] = {
            "type": "keyDown",
            "key": name,
            "code": code,
            "windowsVirtualKeyCode": vk,
            "modifiers": modifiers,
        }
        if text and not modifiers:
            down["text"] = text
        self._send("Input.dispatchKeyEvent", down)
        self._send(
            "Input.dispatchKeyEvent",
            {
                "type": "keyUp",
                "key": name,
                "code": code,
                "windowsVirtualKeyCode": vk,
                "modifiers": modifiers,
            },
        )

    def set_viewport(self, width: int, height: int, mobile: bool = False) -> None:
        self._send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )

    def screenshot(self, path: Path) -> tuple[int, int]:
        """A PNG of the viewport; returns its (width, height) read from the file."""
        data = base64.b64decode(self._send("Page.captureScreenshot", {"format": "png"})["data"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")

    def close(self) -> None:
        self._browser.run(self._browser.close_session(self._session))

    def allow_downloads(self, folder: Path) -> None:
        """Save this tab's downloads (CSV exports) into `folder`, as a browser would."""
        params: dict[str, Any] = {"behavior": "allow", "downloadPath": str(folder)}
        context = self._browser._targets[self._session][1]
        if context:
            params["browserContextId"] = context
        self._browser.run(self._browser.send("Browser.setDownloadBehavior", params))

    def cookies(self, url: str) -> list[dict[str, Any]]:
        return list(self._send("Network.getCookies", {"urls": [url]})["cookies"])

    def on_dialog(self, accept: bool = True) -> None:
        """Answer confirm() dialogs (revoke, remove) as a person clicking OK would."""
        self._browser._listeners[self._session].append(
            lambda method, params: (
                method == "Page.javascriptDialogOpening"
                and asyncio.get_running_loop().create_task(
                    self._browser.send(
                        "Page.handleJavaScriptDialog", {"accept": accept}, self._session
                    )
                )
            )
        )
