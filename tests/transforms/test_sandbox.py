"""The sandbox itself: payload conversion, helpers and limits, on real Lua runtimes."""

from __future__ import annotations

import json
import logging
import time

import pytest

from lowart.transforms import CompiledScript, ScriptError, ScriptLimits, check_script, try_script

SMALL = ScriptLimits(instructions=1_000_000, memory_bytes=16 * 1024 * 1024, seconds=0.2)


def run(source: str, payload: dict, phase: str = "request", limits: ScriptLimits = SMALL):
    script = CompiledScript(source, limits, label="unit")
    return script.call(phase, payload, script.context({"route": "unit"}))


def test_identity_round_trip_keeps_nulls_empty_arrays_and_number_types():
    payload = {
        "model": "m",
        "messages": [{"role": "user", "content": "héllo ✓ 你好 🎉", "name": None}],
        "tools": [],
        "options": {},
        "nested": [[1, 2.5, True, False, None], [], {"a": []}],
        "big": 2**53,
        "created": 1700000000,
    }
    assert run("function request(p) return p end", payload) == payload


def test_tables_made_by_scripts_follow_the_documented_rule():
    result = run(
        """
        function request(p)
          return {seq = {1, 2, 3}, empty = {}, marked = json.array(), gaps = {[1] = "a", [3] = "c"},
                  null = json.null, emptied = (function() local t = p.list
                    while #t > 0 do table.remove(t) end return t end)()}
        end
        """,
        {"list": [1, 2]},
    )
    assert result == {
        "seq": [1, 2, 3],
        "empty": {},
        "marked": [],
        "gaps": {"1": "a", "3": "c"},
        "null": None,
        "emptied": [],  # a list that came in stays a list when emptied
    }


def test_json_helpers_and_count_tokens():
    result = run(
        """
        function request(p)
          local decoded = json.decode('{"a": [1, null, {}], "b": []}')
          return {
            encoded = json.encode({x = json.array(), y = json.null, z = {1, 2}}),
            again = json.encode(decoded),
            is_null = decoded.a[2] == json.null,
            tokens = count_tokens("hello world"),
            bad = select(2, pcall(json.decode, "{nope")),
          }
        end
        """,
        {},
    )
    assert json.loads(result["again"]) == {"a": [1, None, {}], "b": []}
    assert json.loads(result["encoded"]) == {"x": [], "y": None, "z": [1, 2]}
    assert result["is_null"] is True
    assert result["tokens"] == 2
    assert result["bad"].startswith("json.decode:")


def test_text_load_works_and_gets_its_own_globals():
    result = run(
        """
        leaked = "outer"
        function request(p)
          local f = load("return (leaked or 'none') .. ':' .. tostring(string.upper('x'))")
          local g, err = load("\\27Lua", "bin", "b")
          return {inner = f(), binary = err}
        end
        """,
        {},
    )
    assert result["inner"] == "none:X"
    assert "binary chunk" in result["binary"]


def test_wall_time_limit_catches_work_done_inside_c_functions():
    limits = ScriptLimits(instructions=10**9, memory_bytes=64 * 1024 * 1024, seconds=0.1)
    started = time.perf_counter()
    with pytest.raises(ScriptError, match="time limit exceeded"):
        run('function request(p) while true do string.rep("x", 1 << 20) end end', {}, limits=limits)
    assert time.perf_counter() - started < 2


def test_memory_limit_is_per_call_and_the_runtime_recovers():
    script = CompiledScript(
        """
        function request(p)
          if p.big then local s = string.rep("x", 32 * 1024 * 1024) end
          local t = {} for i = 1, 1000 do t[i] = string.rep("y", 1000) .. i end
          return {n = #t}
        end
        """,
        SMALL,
        label="unit",
    )
    ctx = script.context({})
    with pytest.raises(ScriptError, match="memory limit exceeded"):
        script.call("request", {"big": True}, ctx)
    for _ in range(20):  # 1 MB each, 20 calls: garbage from earlier calls is not charged
        assert script.call("request", {}, ctx) == {"n": 1000}


def test_phases_are_detected_and_missing_ones_pass_through():
    script = CompiledScript("function chunk(e) return nil end", SMALL)
    assert script.phases == {"chunk"}
    assert try_script("function chunk(e) return nil end", {"a": 1}, "chunk") is None
    assert try_script("function chunk(e) return nil end", {"a": 1}, "request") == {"a": 1}


def test_log_is_rate_limited(caplog):
    caplog.set_level(logging.INFO, logger="lowart.transforms")
    run('function request(p) for i = 1, 500 do log("warn", "line " .. i) end return p end', {})
    lines = [r for r in caplog.records if r.name == "lowart.transforms"]
    assert 1 <= len(lines) <= 25
    assert lines[0].levelno == logging.WARNING and "line 1" in lines[0].getMessage()


def test_check_script_explains_what_is_wrong():
    with pytest.raises(Exception, match="defines none of"):
        check_script("x = 1")
    with pytest.raises(Exception, match=r"chunk: script:1: attempt to index a nil value"):
        check_script("function chunk(e) e.choices[1].delta.content = 'x' return e end")
    with pytest.raises(Exception, match="larger than"):
        check_script("-- " + "x" * 300_000 + "\nfunction request(p) return p end")


def test_check_script_dry_runs_in_the_vendor_format_the_route_will_see():
    anthropic_chunks = """
    function chunk(e, ctx)
      if ctx.vendor ~= "anthropic" then error("wrong vendor") end
      if e.type == "ping" then return nil end
      if e.type == "content_block_delta" then e.delta.text = string.upper(e.delta.text) end
      return e
    end
    """
    check_script(anthropic_chunks, vendor="anthropic")
    with pytest.raises(Exception, match=r"script:3: wrong vendor"):
        check_script(anthropic_chunks)
    comfy = "function request(p) p.prompt['3'].inputs.seed = 42 return p end"
    check_script(comfy, vendor="comfyui")
    with pytest.raises(Exception, match=r"request: script:1: attempt to index a nil value"):
        check_script(comfy, vendor="openai")
    with pytest.raises(Exception, match=r"response: script:1:"):
        check_script(
            "function response(r) r.choices[1].message.content = 'x' return r end",
            vendor="anthropic",
        )


def test_ordinary_patterns_work_on_long_text():
    result = run(
        """
        function request(p)
          local text = string.rep("word  ", 20000) .. "<tag>"
          local squeezed, spaces = text:gsub("%s+", " ")
          return {
            trimmed = ("  hi there  "):match("^%s*(.-)%s*$"),
            spaces = spaces,
            tag = string.rep("x", 5000):match("<(.-)>") or text:sub(-6000):match("<(.-)>"),
            plain = text:find(".-b", 1, true) == nil,
            words = select(2, text:gsub("%a+", "")),
          }
        end
        """,
        {},
    )
    assert result == {
        "trimmed": "hi there",
        "spaces": 20000,
        "tag": "tag",
        "plain": True,
        "words": 20001,  # and "tag"
    }


def test_payloads_with_many_arrays_keep_every_empty_array():
    payload = {"parts": [[] for _ in range(1000)], "few": [[], [1]]}
    assert run("function request(p) return p end", payload) == payload
