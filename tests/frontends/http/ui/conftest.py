"""One gateway and one headless Chromium for the dashboard tests of a module.

The gateway serves the mock model (streamed word by word), an openai route to a
fake OpenAI upstream, and an image model on a fake ComfyUI; Chromium is Debian's
(/usr/bin/chromium), driven over the DevTools protocol. Screenshots go to
build/ui-screenshots (or $LOWART_UI_SCREENSHOTS) for a person to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.images.conftest import comfy_options
from tests.support.chromium import CHROMIUM, Chromium, Page
from tests.support.fake_comfyui import FakeComfyUI
from tests.support.fake_openai import FakeOpenAI
from tests.support.servers import GatewayHandle, LoopThread, start_gateway, stop_gateway
from tests.support.servers import test_settings as settings_in

REPO = Path(__file__).resolve().parents[4]
SCREENSHOTS = Path(os.environ.get("LOWART_UI_SCREENSHOTS", REPO / "build" / "ui-screenshots"))

if not CHROMIUM.exists():
    if os.environ.get("LOWART_TEST_REQUIRE_SERVICES") == "1":
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
    pytest.skip(
        f"{CHROMIUM} is missing (apt-get install -y chromium chromium-driver)",
        allow_module_level=True,
    )


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
def browser() -> Iterator[Chromium]:
    chromium = Chromium()
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Chromium) -> Iterator[Page]:
    """A tab of its own browser context (no cookies from other tests)."""
    tab = browser.new_page(isolated=True)
    tab.on_dialog(accept=True)
    yield tab
    tab.close()


def sign_in(page: Page, gateway: GatewayHandle, key: str) -> None:
    page.goto(gateway.base_url + "/ui/")
    page.wait("!document.getElementById('signin').hidden", what="the sign-in form")
    page.fill("#signin-key", key)
    page.press("Enter")
    page.wait("!document.getElementById('nav').hidden", what="the signed-in navigation")


def show(page: Page, name: str, ready: str) -> None:
    """Go to the page `#/name` with the keyboard-free way a link does, and wait for `ready`."""
    page.eval(f"location.hash = '#/{name}'")
    page.wait(f"document.getElementById('page').dataset.page === '{name}'", what=name)
    page.wait_for(ready)


def screenshot(page: Page, name: str) -> tuple[int, int]:
    return page.screenshot(SCREENSHOTS / f"{name}.png")
