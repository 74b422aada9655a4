"""Route scripts end to end: uploaded through the admin API, applied to real
requests made with the openai SDK against the fake upstream."""

from __future__ import annotations

import openai
import pytest

ADD_SYSTEM_AND_MAP_FIELD = """
function request(p, ctx)
  table.insert(p.messages, 1, {role = "system", content = "Answer in French."})
  -- this vendor calls it max_new_tokens and wants sampling options nested
  p.max_new_tokens, p.max_tokens = p.max_tokens, nil
  if p.top_k ~= nil then
    p.sampling = {top_k = p.top_k}
    p.top_k = nil
  end
  p.routed_by = ctx.route .. "/" .. ctx.interface .. "/" .. ctx.key_name
  return p
end
"""

REWRITE_RESPONSE = """
function response(r, ctx)
  local message = r.choices[1].message
  message.content = string.upper(message.content) .. " [" .. ctx.upstream_model .. "]"
  r.system_fingerprint = "rewritten"
  return r
end
"""

DROP_AND_REWRITE_CHUNKS = """
function chunk(e, ctx)
  local choice = e.choices[1]
  if choice and choice.delta.content == "w1 " then return nil end
  if choice and choice.delta.content then
    choice.delta.content = "<" .. choice.delta.content .. ">"
  end
  return e
end
"""


def client(gateway, key=None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=gateway.openai_base_url, api_key=key or gateway.admin_key, max_retries=0
    )


def set_script(gateway, model: str, source: str | None) -> dict:
    status, body = gateway.admin_call("PATCH", f"/admin/models/{model}", {"script": source})
    assert status == 200, body
    return body


def test_request_script_adds_a_system_message_and_maps_vendor_fields(gateway):
    set_script(gateway, "fake", ADD_SYSTEM_AND_MAP_FIELD)
    key = gateway.create_key("alice")
    reply = client(gateway, key).chat.completions.create(
        model="fake",
        messages=[{"role": "user", "content": "hello"}],
        max_tokens=7,
        extra_body={"top_k": 40},
    )
    assert reply.choices[0].message.content == "echo: hello"
    sent = gateway.extra["fake"].requests[-1]
    assert sent["messages"] == [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "hello"},
    ]
    assert sent["max_new_tokens"] == 7 and "max_tokens" not in sent
    assert sent["sampling"] == {"top_k": 40} and "top_k" not in sent
    assert sent["model"] == "echo"
    assert sent["routed_by"] == "fake/http/alice"


def test_response_script_rewrites_the_reply(gateway):
    set_script(gateway, "fake", REWRITE_RESPONSE)
    reply = client(gateway).chat.completions.create(
        model="fake", messages=[{"role": "user", "content": "hello"}]
    )
    assert reply.choices[0].message.content == "ECHO: HELLO [echo]"
    assert reply.system_fingerprint == "rewritten"
    assert reply.model == "fake"  # the gateway still names its own route
    assert reply.usage.total_tokens == 18


def test_chunk_script_drops_and_rewrites_stream_events(gateway):
    set_script(gateway, "fake", DROP_AND_REWRITE_CHUNKS)
    chunks = list(
        client(gateway).chat.completions.create(
            model="fake",
            messages=[{"role": "user", "content": "x"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "<w0 ><w2 ><w3 ><w4 >"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 5
    assert chunks[-1].usage.prompt_tokens == 11
    records = gateway.wait_for_records(1)
    assert records[-1]["status"] == "ok" and records[-1]["completion_tokens"] == 5


def test_the_mock_vendor_applies_scripts_too(gateway):
    set_script(gateway, "mock", ADD_SYSTEM_AND_MAP_FIELD + DROP_AND_REWRITE_CHUNKS)
    stream = client(gateway).chat.completions.create(
        model="mock", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    words = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert words[:2] == ["<>", "<This >"] and all(w.startswith("<") for w in words)


def test_ctx_is_read_only_and_never_holds_the_provider_key(gateway):
    set_script(
        gateway,
        "fake",
        """
        function request(p, ctx)
          p.seen = {ctx.vendor, ctx.upstream_model, ctx.request_id ~= nil,
                    ctx.api_key == nil, ctx.key == nil, (pcall(function() ctx.route = "x" end))}
          return p
        end
        """,
    )
    client(gateway).chat.completions.create(
        model="fake", messages=[{"role": "user", "content": "hi"}]
    )
    sent = gateway.extra["fake"].requests[-1]
    assert sent["seen"] == ["openai", "echo", True, True, True, False]
    assert "sk-upstream-secret" not in str(sent)


def test_a_failing_request_script_is_a_502_naming_route_phase_and_line(gateway):
    set_script(
        gateway,
        "fake",
        """
        function request(p)
          if p.messages[1].content == "boom" then
            local missing = nil
            return missing.field
          end
          return p
        end
        """,
    )
    with pytest.raises(openai.APIStatusError) as caught:
        client(gateway).chat.completions.create(
            model="fake", messages=[{"role": "user", "content": "boom"}]
        )
    error = caught.value
    assert error.status_code == 502
    assert error.body["type"] == "transform_error" and error.body["code"] == "transform_failed"
    assert "model 'fake'" in error.body["message"] and "in request" in error.body["message"]
    assert "script:5:" in error.body["message"]
    records = gateway.wait_for_records(1)
    assert records[-1]["status"] == "error" and records[-1]["error_code"] == "transform_failed"
    assert records[-1]["route"] == "fake"
    # the same route still serves requests the script accepts
    ok = client(gateway).chat.completions.create(
        model="fake", messages=[{"role": "user", "content": "fine"}]
    )
    assert ok.choices[0].message.content == "echo: fine"


def test_a_script_failing_mid_stream_ends_the_stream_with_an_error_event(gateway):
    set_script(
        gateway,
        "fake",
        """
        function chunk(e)
          local choice = e.choices[1]
          if choice and choice.delta.content == "w2 " then error("cannot handle w2") end
          return e
        end
        """,
    )
    stream = client(gateway).chat.completions.create(
        model="fake", messages=[{"role": "user", "content": "x"}], stream=True
    )
    seen = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream:
            seen.append(chunk.choices[0].delta.content)
    assert seen == ["w0 ", "w1 "]
    assert "failed in chunk" in caught.value.message and "cannot handle w2" in caught.value.message
    records = gateway.wait_for_records(1)
    assert records[-1]["status"] == "error" and records[-1]["error_code"] == "transform_failed"
    assert records[-1]["stream"]


def test_a_failing_response_script_fails_the_call_and_records_it(gateway):
    set_script(
        gateway,
        "fake",
        """
        function response(r)
          if string.find(r.choices[1].message.content, "boom") then
            return {1, 2}
          end
          return r
        end
        """,
    )
    with pytest.raises(openai.APIStatusError) as caught:
        client(gateway).chat.completions.create(
            model="fake", messages=[{"role": "user", "content": "boom"}]
        )
    assert caught.value.status_code == 502
    assert "response() must return a table" in caught.value.body["message"]
    records = gateway.wait_for_records(1)
    assert records[-1]["error_code"] == "transform_failed" and not records[-1]["stream"]


def test_a_response_script_returning_an_array_is_refused_at_upload(gateway):
    status, body = gateway.admin_call(
        "PATCH", "/admin/models/fake", {"script": "function response(r) return {1, 2} end"}
    )
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"
    assert "response() must return a table" in body["error"]["message"]


def test_scripts_keep_no_state_between_requests_and_fail_only_the_bad_call(gateway):
    set_script(
        gateway,
        "fake",
        """
        calls = (calls or 0) + 1
        function request(p)
          counter = (counter or 0) + 1
          p.calls, p.counter = calls, counter
          if p.messages[1].content == "100" then error("the 100th call fails") end
          return p
        end
        """,
    )
    sdk = client(gateway)
    failures = []
    for number in range(1, 121):
        try:
            sdk.chat.completions.create(
                model="fake", messages=[{"role": "user", "content": str(number)}]
            )
        except openai.APIStatusError as exc:
            failures.append((number, exc.status_code))
    assert failures == [(100, 502)]
    sent = gateway.extra["fake"].requests[-119:]
    assert {(r["calls"], r["counter"]) for r in sent} == {(1, 1)}
    records = gateway.wait_for_records(121)
    assert sum(r["status"] == "error" for r in records) == 1


def test_scripts_of_different_routes_cannot_see_each_other(gateway):
    fake = gateway.extra["fake"]
    gateway.add_model("other", "openai", base_url=fake.base_url, upstream_model="echo")
    set_script(gateway, "fake", "secret = 'from fake'\nfunction request(p) return p end")
    set_script(gateway, "other", "function request(p) p.peek = tostring(secret) return p end")
    sdk = client(gateway)
    sdk.chat.completions.create(model="fake", messages=[{"role": "user", "content": "a"}])
    sdk.chat.completions.create(model="other", messages=[{"role": "user", "content": "b"}])
    assert fake.requests[-1]["peek"] == "nil"


def test_admin_api_validates_versions_and_removes_scripts(gateway):
    first = set_script(gateway, "fake", "function request(p) p.v = 1 return p end")
    second = set_script(gateway, "fake", "function request(p) p.v = 2 return p end")
    assert first["script"] and second["script_version"] == first["script_version"] + 1
    status, body = gateway.admin_call(
        "PATCH", "/admin/models/fake", {"script": "function request(p)\n  return p +\nend"}
    )
    assert status == 400 and body["error"]["code"] == "invalid_script"
    assert "script:3:" in body["error"]["message"]
    status, body = gateway.admin_call("PATCH", "/admin/models/fake", {"script": 42})
    assert status == 400 and body["error"]["param"] == "script"
    sdk = client(gateway)
    sdk.chat.completions.create(model="fake", messages=[{"role": "user", "content": "a"}])
    assert gateway.extra["fake"].requests[-1]["v"] == 2  # the refused upload changed nothing
    removed = set_script(gateway, "fake", None)
    assert removed["script"] is False
    sdk.chat.completions.create(model="fake", messages=[{"role": "user", "content": "a"}])
    assert "v" not in gateway.extra["fake"].requests[-1]


def test_add_model_with_a_script(gateway):
    status, body = gateway.admin_call(
        "POST",
        "/admin/models",
        {
            "name": "scripted",
            "vendor": "mock",
            "script": "function response(r) r.choices[1].message.content = 'hi' return r end",
        },
    )
    assert status == 201 and body["script"] and body["script_version"] == 1
    reply = client(gateway).chat.completions.create(
        model="scripted", messages=[{"role": "user", "content": "a"}]
    )
    assert reply.choices[0].message.content == "hi"


def test_a_stored_script_that_no_longer_loads_fails_its_requests_and_records_them(gateway):
    async def store_unchecked() -> None:  # as if written by an older release or by hand
        await gateway.runtime.admin.models.update("fake", {"script": "function request(p"})
        await gateway.runtime.reload()

    gateway.run(store_unchecked())
    with pytest.raises(openai.APIStatusError) as caught:
        client(gateway).chat.completions.create(
            model="fake", messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.status_code == 502
    assert "does not load" in caught.value.body["message"]
    records = gateway.wait_for_records(1)
    assert records[-1]["error_code"] == "transform_failed"
    assert gateway.extra["fake"].requests == []  # nothing reached the upstream
