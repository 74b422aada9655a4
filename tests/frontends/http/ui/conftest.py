"""One gateway and one headless Chromium for the dashboard tests of a module.

The gateway serves the mock model (streamed word by word), an openai route to a
fake OpenAI upstream, and an image model on a fake ComfyUI; Chromium is Debian's
(/usr/bin/chromium), driven by Playwright. Screenshots go to
build/ui-screenshots (or $LOWART_UI_SCREENSHOTS) for a person to look at.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Response, expect, sync_playwright

from tests.images.conftest import comfy_options
from tests.support.chromium import CHROMIUM, InFlight, Messages, launch, png_size
from tests.support.fake_comfyui import FakeComfyUI
from tests.support.fake_openai import FakeOpenAI
from tests.support.servers import GatewayHandle, LoopThread, start_gateway, stop_gateway
from tests.support.servers import test_settings as settings_in

REPO = Path(__file__).resolve().parents[4]
SCREENSHOTS = Path(os.environ.get("LOWART_UI_SCREENSHOTS", REPO / "build" / "ui-screenshots"))
# Playwright's own waits give up after this long (its assertions' default is 5 s,
# short on a loaded machine; a passing test waits for far less).
TIMEOUT_MS = 15_000

if not CHROMIUM.exists():
    if os.environ.get("LOWART_TEST_REQUIRE_SERVICES") == "1":
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
    pytest.skip(
        f"{CHROMIUM} is missing (apt-get install -y chromium)",
        allow_module_level=True,
    )

expect.set_options(timeout=TIMEOUT_MS)


async def _comfy() -> FakeComfyUI:
    fake = FakeComfyUI()
    await fake.start()
    return fake


@pytest.fixture(scope="module")
def comfy(loop_thread: LoopThread) -> Iterator[FakeComfyUI]:
    fake = loop_thread.run(_comfy())
    yield fake
    loop_thread.run(fake.stop())


@pytest.fixture(scope="module")
def upstream(loop_thread: LoopThread) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    loop_thread.run(fake.start())
    yield fake
    loop_thread.run(fake.stop())


@pytest.fixture(scope="module")
def ui(loop_thread: LoopThread, tmp_path_factory, comfy: FakeComfyUI) -> Iterator[GatewayHandle]:
    handle = start_gateway(loop_thread, settings_in(tmp_path_factory.mktemp("ui")))
    handle.add_model("mock", "mock", options={"delay": 0.02})
    slow = {"delay": 0.15, "reply": "one two three four five six seven eight nine ten"}
    handle.add_model("mock-slow", "mock", options=slow)
    handle.add_model("img", "comfyui", base_url=comfy.base_url, options=comfy_options())
    yield handle
    stop_gateway(handle)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@dataclass
class Tab:
    page: Page
    messages: Messages
    requests: InFlight


@pytest.fixture
def open_tab(browser: Browser) -> Iterator[Callable[..., Tab]]:
    """Opens tabs, each in a browser context of its own (no cookies from other
    tests, like a second person's browser), that accept confirm() dialogs (revoke,
    remove) as a person clicking OK would; `options` are Playwright's context
    options (viewport, is_mobile...)."""
    contexts = []

    def open_one(**options: Any) -> Tab:
        context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        messages, requests = Messages(), InFlight()
        messages.watch(page)
        requests.watch(page)
        page.on("dialog", lambda dialog: dialog.accept())
        return Tab(page, messages, requests)

    yield open_one
    for context in contexts:
        context.close()


@pytest.fixture
def tab(open_tab: Callable[..., Tab]) -> Tab:
    return open_tab()


@pytest.fixture
def page(tab: Tab) -> Page:
    return tab.page


@pytest.fixture
def messages(tab: Tab) -> Messages:
    return tab.messages


def sign_in(page: Page, gateway: GatewayHandle, key: str) -> Response:
    """Sign in on the form with `key`; returns the response that served the dashboard."""
    response = page.goto(gateway.base_url + "/ui/")
    assert response is not None
    expect(page.locator("#signin")).to_be_visible()
    page.locator("#signin-key").fill(key)
    page.locator("#signin-key").press("Enter")
    expect(page.locator("#nav")).to_be_visible()
    return response


def show(page: Page, name: str, ready: str) -> None:
    """Go to the page `#/name` with the keyboard-free way a link does, and wait for `ready`."""
    page.evaluate(f"location.hash = '#/{name}'")
    expect(page.locator("#page")).to_have_attribute("data-page", name)
    expect(page.locator(ready).first).to_be_attached()


def screenshot(page: Page, name: str) -> tuple[int, int]:
    """A PNG of the viewport, for a person to look at; returns its (width, height)."""
    path = SCREENSHOTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    return png_size(page.screenshot(path=path))
