"""Hot reload: a new script applies to the next request, requests in flight keep
the version they started with, and no request ever mixes two versions."""

from __future__ import annotations

import re
import threading
import time

import openai

from lowart.cli import main as lowart_cli


def tagging_script(version: str) -> str:
    return f"""
    local V = "{version}"
    function request(p)
      local last = p.messages[#p.messages]
      last.content = last.content .. "@" .. V
      p.tag_a = V
      p.tag_b = V
      return p
    end
    function response(r)
      local message = r.choices[1].message
      message.content = message.content .. "|" .. V
      return r
    end
    function chunk(e)
      local choice = e.choices[1]
      if choice and choice.delta.content then
        choice.delta.content = choice.delta.content .. "|" .. V
      end
      return e
    end
    """


def client(gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0)


def set_script(gateway, source: str) -> None:
    status, body = gateway.admin_call("PATCH", "/admin/models/fake", {"script": source})
    assert status == 200, body


def test_no_request_sees_a_half_updated_script_under_concurrent_load(gateway):
    set_script(gateway, tagging_script("v0"))
    stop = threading.Event()
    replies: list[str] = []
    streams: list[list[str]] = []
    errors: list[BaseException] = []

    def complete() -> None:
        sdk = client(gateway)
        while not stop.is_set():
            try:
                reply = sdk.chat.completions.create(
                    model="fake", messages=[{"role": "user", "content": "m"}]
                )
                replies.append(reply.choices[0].message.content)
            except BaseException as exc:
                errors.append(exc)
                return

    def stream() -> None:
        sdk = client(gateway)
        while not stop.is_set():
            try:
                chunks = sdk.chat.completions.create(
                    model="fake", messages=[{"role": "user", "content": "s"}], stream=True
                )
                streams.append([c.choices[0].delta.content for c in chunks if c.choices])
            except BaseException as exc:
                errors.append(exc)
                return

    workers = [threading.Thread(target=complete) for _ in range(2)]
    workers += [threading.Thread(target=stream) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        for version in range(1, 6):
            time.sleep(0.1)
            set_script(gateway, tagging_script(f"v{version}"))
        time.sleep(0.1)
    finally:
        stop.set()
        for worker in workers:
            worker.join(10)
    assert not errors, errors[0]
    seen = set()
    for content in replies:
        match = re.fullmatch(r"echo: m@(v\d)\|(v\d)", content)
        assert match and match[1] == match[2], content
        seen.add(match[1])
    for contents in streams:
        versions = {c.rsplit("|", 1)[1] for c in contents if c}
        assert len(versions) == 1, contents
        seen |= versions
    for sent in gateway.extra["fake"].requests:
        if "tag_a" in sent:
            assert sent["tag_a"] == sent["tag_b"]
            assert sent["messages"][-1]["content"].endswith("@" + sent["tag_a"])
    assert len(seen) >= 2, seen  # the load really did span several versions


def test_a_stream_in_flight_finishes_with_the_version_it_started_with(gateway):
    set_script(gateway, tagging_script("old"))
    sdk = client(gateway)
    stream = sdk.chat.completions.create(
        model="fake",
        messages=[{"role": "user", "content": "s"}],
        stream=True,
        extra_body={"fake_words": 6, "fake_delay": 0.05},
    )
    contents = []
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            contents.append(chunk.choices[0].delta.content)
            if len(contents) == 1:
                set_script(gateway, tagging_script("new"))
                after = sdk.chat.completions.create(
                    model="fake", messages=[{"role": "user", "content": "m"}]
                )
                assert after.choices[0].message.content == "echo: m@new|new"
    assert contents == [f"w{i} |old" for i in range(6)]


def test_a_cli_change_reaches_the_running_gateway_without_restart(
    gateway, tmp_path, monkeypatch, capsys
):
    set_script(gateway, tagging_script("api"))
    script = tmp_path / "cli.lua"
    script.write_text(tagging_script("cli"))
    monkeypatch.setenv("LOWART_SECRET_KEY", "test-secret")
    db = gateway.runtime.settings.database_url
    assert lowart_cli(["models", "update", "fake", "--script", str(script), "--db", db]) == 0
    assert "Updated model 'fake'" in capsys.readouterr().out
    sdk = client(gateway)
    deadline = time.monotonic() + 5
    while True:  # the config watcher polls every 0.2 s in tests
        content = (
            sdk.chat.completions.create(model="fake", messages=[{"role": "user", "content": "m"}])
            .choices[0]
            .message.content
        )
        if content == "echo: m@cli|cli" or time.monotonic() > deadline:
            break
        assert content == "echo: m@api|api"
        time.sleep(0.05)
    assert content == "echo: m@cli|cli"
    assert lowart_cli(["models", "update", "fake", "--no-script", "--db", db]) == 0
    deadline = time.monotonic() + 5
    while content != "echo: m" and time.monotonic() < deadline:
        time.sleep(0.05)
        content = (
            sdk.chat.completions.create(model="fake", messages=[{"role": "user", "content": "m"}])
            .choices[0]
            .message.content
        )
    assert content == "echo: m"


def test_a_removed_and_re_added_route_does_not_inherit_the_old_script(gateway):
    fake = gateway.extra["fake"]
    source_a = "function request(p) p.which = 'a' return p end"
    source_b = "function request(p) p.which = 'b' return p end"
    sdk = client(gateway)
    for source, expected in ((source_a, "a"), (source_b, "b")):
        status, body = gateway.admin_call(
            "POST",
            "/admin/models",
            {"name": "again", "vendor": "openai", "base_url": fake.base_url, "script": source},
        )
        assert status == 201 and body["script_version"] == 1, body
        sdk.chat.completions.create(model="again", messages=[{"role": "user", "content": "x"}])
        assert fake.requests[-1]["which"] == expected
        assert gateway.admin_call("DELETE", "/admin/models/again")[0] == 200
