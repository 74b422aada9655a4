"""Debian's headless Chromium, driven by Playwright for Python.

Playwright launches the system browser (/usr/bin/chromium) given as its
executable: nothing is downloaded (`playwright install` is never run; CI has no
browser download). What Playwright does not collect on its own is here: what a
page said that is an error (console errors, uncaught exceptions, and the
browser's own log, which Playwright reports as console messages: CSP
violations, failed loads), so a test can insist there was none; and which
requests are still in flight, so a test can wait for them instead of sleeping.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Playwright, Request, Response

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ("--disable-gpu", "--disable-quic")

# How Chromium words the log entry of a request the server answered with an
# error status; the raw-CDP client this replaces matched on the entry's
# `network` source, which Playwright's console messages do not carry.
_FAILED_LOAD = "Failed to load resource: the server responded with a status of"


def launch(playwright: Playwright) -> Browser:
    """The system Chromium, headless (Playwright adds --no-sandbox and a temporary profile)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)


@dataclass
class Messages:
    """What a page said: console errors, uncaught exceptions, browser log errors."""

    console: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    """URLs the server answered with a 4xx or 5xx status."""

    def errors(self, allow_network: bool = False) -> list[str]:
        """Everything that is an error; a request the server refused (the browser
        logs a 4xx answer as an error) counts only when `allow_network` is False."""
        found = list(self.exceptions)
        for text in self.console:
            url = text.rsplit(" @ ", 1)[-1]
            if allow_network and text.startswith(_FAILED_LOAD) and url in self.refused:
                continue
            found.append(text)
        return found

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", self._on_exception)
        page.on("response", self._on_response)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "assert"):
            self.console.append(f"{message.text} @ {message.location.get('url', '')}")

    def _on_exception(self, error: Error) -> None:
        self.exceptions.append(error.stack or error.message)

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.refused.add(response.url)


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG, read from its IHDR chunk."""
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


class InFlight:
    """The requests a page has started and not yet finished, so a test can wait
    until what a page fetched is in (instead of sleeping for a guess)."""

    def __init__(self) -> None:
        self.pending: set[Request] = set()

    def watch(self, page: Page) -> None:
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request: Request) -> None:
        self.pending.add(request)

    def _ended(self, request: Request) -> None:
        self.pending.discard(request)

    def wait_idle(self, page: Page, timeout: float = 15) -> None:
        """Until no request is in flight, then two animation frames (what arrived is drawn)."""
        deadline = time.monotonic() + timeout
        while self.pending:
            if time.monotonic() > deadline:
                urls = sorted(r.url for r in self.pending)
                raise TimeoutError(f"requests still in flight after {timeout}s: {urls}")
            page.wait_for_timeout(20)  # lets Playwright deliver the events
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
