"""The Python client package (clients/python), used as a user would, against a live gateway."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from tests.images._client import png_size, wait_until
from tests.images.conftest import comfy_options
from tests.support.servers import GatewayHandle

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "python"


@pytest.fixture
def lowart_client(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(CLIENT / "src"))
    import lowart_client

    return lowart_client


def test_blocking_client_over_the_unix_socket(grpc_gateway: GatewayHandle, lowart_client) -> None:
    target = f"unix://{grpc_gateway.grpc.uds}"
    with lowart_client.LowartClient(target, api_key=grpc_gateway.admin_key) as client:
        assert {"mock", "fake"} <= {m.id for m in client.models()}
        reply = client.chat("mock", "hello", max_tokens=3)
        assert reply.choices[0].message.content == "This is the "
        assert reply.usage.completion_tokens > 0
        messages = list(
            client.stream("fake", [{"role": "user", "content": "x"}], extra={"fake_words": 4})
        )
        assert "".join(lowart_client.delta_text(m) for m in messages) == "w0 w1 w2 w3 "
        assert messages[-1].usage.completion_tokens == 4
        with pytest.raises(grpc.RpcError) as info:
            client.chat("nope", "hi")
        assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_leaving_a_stream_early_cancels_it(grpc_gateway: GatewayHandle, lowart_client) -> None:
    fake = grpc_gateway.extra["fake"]
    target = f"unix://{grpc_gateway.grpc.uds}"
    with lowart_client.LowartClient(target, api_key=grpc_gateway.admin_key) as client:
        for index, _ in enumerate(
            client.stream("fake", "go", extra={"fake_words": 200, "fake_delay": 0.02})
        ):
            if index == 2:
                break
    (record,) = grpc_gateway.wait_for_records(1)
    assert record["status"] == "cancelled"
    assert fake.streams_finished == 0


def test_async_client(grpc_gateway: GatewayHandle, lowart_client) -> None:
    async def run() -> tuple[str, str, int]:
        target = f"unix://{grpc_gateway.grpc.uds}"
        async with lowart_client.AsyncLowartClient(
            target, api_key=grpc_gateway.admin_key
        ) as client:
            reply = await client.chat("mock", "async hello")
            pieces, usage = [], 0
            async for message in client.stream("mock", "streamed"):
                pieces.append(lowart_client.delta_text(message))
                if message.HasField("usage"):
                    usage = message.usage.completion_tokens
            return reply.choices[0].message.content, "".join(pieces), usage

    unary, streamed, usage = asyncio.run(run())
    assert unary.endswith("You said: async hello")
    assert streamed.endswith("You said: streamed") and usage > 0


def test_images_iterator_streams_progress_then_images(
    grpc_gateway: GatewayHandle, fake_comfyui, lowart_client
) -> None:
    grpc_gateway.add_model(
        "img", "comfyui", base_url=fake_comfyui.base_url, options=comfy_options()
    )
    target = f"unix://{grpc_gateway.grpc.uds}"
    with lowart_client.LowartClient(target, api_key=grpc_gateway.admin_key) as client:
        messages = list(client.images("img", "a boat", width=40, height=24, steps=2))
        kinds = [lowart_client.event_kind(m) for m in messages]
        assert kinds[0] == "progress" and kinds[-2:] == ["image", "summary"]
        assert png_size(messages[-2].image.data) == (40, 24)
        refs = list(client.images("img", "a boat", n=2, with_bytes=False))
        assert [m.image.data for m in refs if m.HasField("image")] == [b"", b""]

    async def leave_early() -> str:
        fake_comfyui.step_delay = 0.02
        async with lowart_client.AsyncLowartClient(
            target, api_key=grpc_gateway.admin_key
        ) as client:
            async for message in client.images("img", "slow", steps=500):
                if message.progress.step == 1:
                    return message.job_id
        raise AssertionError("no sampler step arrived")

    asyncio.run(leave_early())
    prompt_id = fake_comfyui.prompts[-1]["prompt_id"]
    wait_until(lambda: fake_comfyui.interrupts == [prompt_id], what="the interrupt")
    records = grpc_gateway.wait_for_records(3)
    assert [r["status"] for r in records] == ["ok", "ok", "cancelled"]


def test_readme_example_runs(gateway: GatewayHandle, fake_comfyui, short_dir: Path) -> None:
    """The README's example is executed verbatim, with its default target: the Unix socket
    ./lowart-grpc.sock that `--grpc-uds ./lowart-grpc.sock` makes in the working directory."""
    gateway.start_grpc(uds=str(short_dir / "lowart-grpc.sock"))
    gateway.add_model("img", "comfyui", base_url=fake_comfyui.base_url, options=comfy_options())
    readme = (CLIENT / "README.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", readme, re.S)
    env = {"LOWART_API_KEY": gateway.admin_key, "PYTHONPATH": str(CLIENT / "src")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=short_dir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "This is the lowart mock model. You said: Say hello" in result.stdout
    assert re.search(r"stream tokens: \d+", result.stdout)
    assert "You said: Hello from asyncio" in result.stdout
    assert re.search(r"saved img-0\.png \(\d+ bytes\)", result.stdout)
    assert png_size((short_dir / "img-0.png").read_bytes()) == (64, 64)
