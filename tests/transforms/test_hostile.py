"""Hostile scripts: each is refused at upload or aborted at run time, and the
gateway keeps serving other requests (and the same route's harmless ones).

Run-time attacks fire only on a trigger message, so they pass the dry run at
upload and meet live traffic; the same attacks made unconditional are refused
at upload.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator

import openai
import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.servers import GatewayHandle, start_gateway, stop_gateway
from tests.support.servers import test_settings as gateway_settings

PWNED = "/tmp/lowart-lua-pwned"

# name -> (attack body, pattern expected in the error)
ATTACKS = {
    "os_execute": (f'os.execute("touch {PWNED}")', "global 'os'"),
    "io_open": ('io.open("/etc/passwd"):read("a")', "global 'io'"),
    "require": ('require("os")', "global 'require'"),
    "dofile": ('dofile("/etc/passwd")', "global 'dofile'"),
    "load_bytecode": (
        'local f, err = load("\\27LuaT\\0\\25\\147\\r\\n\\26\\n", "x", "b") assert(f, err)',
        "attempt to load a binary chunk",
    ),
    "string_dump": ("load(string.dump(function() end))", "field 'dump'"),
    "python_eval": ("python.eval(\"__import__('os').system('id')\")", "global 'python'"),
    "python_builtins": ("python.builtins.open('/etc/passwd')", "global 'python'"),
    "attribute_trick_on_string": ('assert(("").__class__, "no python attributes")', "no python"),
    "attribute_trick_on_null": ("local c = json.null.__class__", "json.null has no fields"),
    "attribute_trick_on_helper": ("local g = json.encode.__globals__", "index a function value"),
    "string_metatable": ('getmetatable("").__index.upper = nil', "index a boolean value"),
    "shared_library_write": ("string.upper = nil", "string is read-only"),
    "shared_library_metatable": ("setmetatable(string, {})", "protected metatable"),
    "env_metatable": ("setmetatable(_ENV, {})", "protected metatable"),
    "null_metatable": ("setmetatable(json.null, {})", "protected metatable"),
    "ctx_metatable": ("setmetatable(ctx, {})", "protected metatable"),
    "array_metatable": (
        "getmetatable(p.messages).__newindex = function() end",
        "index a string value",
    ),
    "rawset_shared": ("rawset(string, 'upper', nil)", "global 'rawset'"),
    "debug_library": ("debug.sethook()", "global 'debug'"),
    "collectgarbage": ('collectgarbage("stop")', "global 'collectgarbage'"),
    "gc_finalizer": (
        "setmetatable({}, {__gc = function() while true do end end})",
        "__gc metamethods are not allowed",
    ),
    "infinite_loop": ("while true do end", "instruction limit exceeded"),
    "pcall_swallowing_the_limit": (
        "while true do pcall(function() while true do end end) end",
        "instruction limit exceeded",
    ),
    "deep_recursion": (
        "local function f(n) return 1 + f(n + 1) end f(1)",
        "stack overflow|memory limit exceeded|time limit exceeded",
    ),
    "string_rep_bomb": ('local s = string.rep("x", 1 << 30)', "memory limit exceeded"),
    "doubling_bomb": ('local s = "x" while true do s = s .. s end', "memory limit exceeded"),
    "table_growth": (
        'local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 1 << 20) .. i end',
        "memory limit exceeded",
    ),
    "coroutine_infinite_loop": (
        "coroutine.wrap(function() while true do end end)()",
        "instruction limit exceeded",
    ),
    "coroutine_resume_swallowing": (
        "while true do coroutine.resume(coroutine.create(function() while true do end end)) end",
        "instruction limit exceeded",
    ),
    "pattern_backtracking": (
        'string.find(string.rep("a", 5000), string.rep("a-", 3) .. "b")',
        "too complex for a subject of 5000 bytes",
    ),
    "pattern_backtracking_method": ('(("a"):rep(100000)):match(".-b")', "too complex"),
    "yield_across_the_boundary": ("coroutine.yield(p)", "yield from outside a coroutine"),
    "non_json_result": ("do return {f = print or function() end} end", "returned a function"),
    "cyclic_result": ("local t = {} t.self = t do return t end", "cyclic"),
}


def triggered(attack: str) -> str:
    return f"""
function request(p, ctx)
  if p.messages[#p.messages].content == "attack" then
    {attack}
  end
  return p
end
"""


@pytest.fixture(scope="module")
def hostile_gateway(loop_thread, tmp_path_factory) -> Iterator[GatewayHandle]:
    fake = FakeOpenAI()
    loop_thread.run(fake.start())
    # a generous wall-time limit, so each attack meets the limit it is aimed at
    settings = gateway_settings(tmp_path_factory.mktemp("hostile"), lua_timeout=2.0)
    handle = start_gateway(loop_thread, settings)
    handle.add_model("target", "openai", base_url=fake.base_url, upstream_model="echo")
    handle.extra["fake"] = fake
    yield handle
    stop_gateway(handle)
    loop_thread.run(fake.stop())


def sdk(gateway: GatewayHandle) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0)


def ask(gateway: GatewayHandle, model: str, text: str) -> str:
    reply = sdk(gateway).chat.completions.create(
        model=model, messages=[{"role": "user", "content": text}]
    )
    return reply.choices[0].message.content


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_is_aborted_at_run_time_and_the_gateway_keeps_serving(hostile_gateway, name):
    attack, expected = ATTACKS[name]
    status, body = hostile_gateway.admin_call(
        "PATCH", "/admin/models/target", {"script": triggered(attack)}
    )
    assert status == 200, body
    with pytest.raises(openai.APIStatusError) as caught:
        ask(hostile_gateway, "target", "attack")
    assert caught.value.status_code == 502
    assert caught.value.body["type"] == "transform_error"
    assert re.search(expected, caught.value.body["message"]), caught.value.body["message"]
    assert "Traceback" not in caught.value.body["message"]
    # everything else is unaffected: other routes, and this route's harmless requests
    assert ask(hostile_gateway, "mock", "still there?").endswith("still there?")
    assert ask(hostile_gateway, "target", "harmless") == "echo: harmless"
    assert not os.path.exists(PWNED)


@pytest.mark.parametrize(
    "name", ["os_execute", "infinite_loop", "string_rep_bomb", "load_bytecode", "deep_recursion"]
)
def test_unconditional_attack_is_refused_at_upload(hostile_gateway, name):
    attack, expected = ATTACKS[name]
    script = f"function request(p)\n  {attack}\n  return p\nend\n"
    status, body = hostile_gateway.admin_call("PATCH", "/admin/models/target", {"script": script})
    assert status == 400
    assert body["error"]["code"] == "invalid_script"
    assert re.search(expected, body["error"]["message"]), body["error"]["message"]


def test_attack_at_the_top_level_is_refused_at_upload(hostile_gateway):
    status, body = hostile_gateway.admin_call(
        "PATCH", "/admin/models/target", {"script": "while true do end"}
    )
    assert status == 400 and "instruction limit exceeded" in body["error"]["message"]


def test_escaping_the_wrapper_is_refused(hostile_gateway):
    script = "end\nlocal x = python\nreturn function(_ENV) function request(p) return p end"
    status, body = hostile_gateway.admin_call("PATCH", "/admin/models/target", {"script": script})
    assert status == 400 and body["error"]["code"] == "invalid_script"


def test_a_hostile_stream_script_ends_only_its_own_stream(hostile_gateway):
    script = """
    function chunk(e)
      local choice = e.choices[1]
      if choice and choice.delta.content == "w1 " then while true do end end
      return e
    end
    """
    status, body = hostile_gateway.admin_call("PATCH", "/admin/models/target", {"script": script})
    assert status == 200, body
    stream = sdk(hostile_gateway).chat.completions.create(
        model="target", messages=[{"role": "user", "content": "x"}], stream=True
    )
    with pytest.raises(openai.APIError) as caught:
        for _ in stream:
            pass
    assert "instruction limit exceeded" in caught.value.message
    assert ask(hostile_gateway, "mock", "next").endswith("next")


# Work inside one C call, where the instruction hook never runs: each must end
# at the wall-time limit (or earlier, refused by size), not when the C call does.
C_CALL_ATTACKS = {
    "table_move_huge_range": ("table.move({}, 1, 4e8, 2)", "time limit exceeded"),
    "table_concat_huge_range": (
        'local t = setmetatable({}, {__index = function() return "x" end}) '
        "table.concat(t, '', 1, 1e8)",
        "time limit exceeded",
    ),
    "table_unpack_huge_range": ("for _ = 1, 500 do table.unpack({}, 1, 9e5) end", "limit"),
    "table_insert_quadratic": (
        "local t = {} for i = 1, 2e5 do t[i] = i end for i = 1, 1e4 do table.insert(t, 1, i) end",
        "time limit exceeded",
    ),
    "string_rep_empty_huge": ('string.rep("", 1e12)', "time limit exceeded"),
    "string_rep_big": ('local s = string.rep("x", 6e7)', "time limit exceeded|memory limit"),
    "string_rep_loop": (
        'local s = ("x"):rep(4e6) while true do local t = s:upper() end',
        "time limit exceeded",
    ),
    "optional_backtracking_find": (
        'string.find(("a"):rep(30), ("a?"):rep(26) .. ("a"):rep(30))',
        "too complex|time limit exceeded",
    ),
    "optional_backtracking_match": (
        '(("a"):rep(30)):match(("a?"):rep(30) .. ("a"):rep(30))',
        "too complex|time limit exceeded",
    ),
    "optional_backtracking_gsub": (
        '(("a"):rep(30)):gsub(("a?"):rep(26) .. ("a"):rep(30), "b")',
        "too complex|time limit exceeded",
    ),
    "optional_backtracking_gmatch": (
        'for m in (("a"):rep(30)):gmatch(("a?"):rep(26) .. ("a"):rep(30)) do end',
        "too complex|time limit exceeded",
    ),
    "gsub_loop_on_long_text": (
        'local s = ("ab "):rep(2e6) while true do s:gsub("b", "c") end',
        "time limit exceeded",
    ),
    "format_of_long_strings": (
        'local s = ("x"):rep(4e6) while true do local t = string.format("%q", s) end',
        "time limit exceeded",
    ),
    "utf8_len_loop": (
        'local s = ("x"):rep(4e6) while true do utf8.len(s) end',
        "time limit exceeded",
    ),
    "count_tokens_loop": (
        'local s = ("x"):rep(4 * 1024 * 1024) while true do count_tokens(s) end',
        "time limit exceeded",
    ),
    "json_decode_loop": (
        'local s = "[" .. ("1,"):rep(1e6) .. "1]" while true do json.decode(s) end',
        "time limit exceeded",
    ),
    "load_huge_chunk": ('load(("x=1 "):rep(4e6))', "time limit exceeded"),
}
C_CALL_TIMEOUT = 0.1


@pytest.mark.parametrize("name", sorted(C_CALL_ATTACKS))
def test_work_inside_one_c_call_ends_at_the_time_limit(name):
    from lowart.accounting import count_text
    from lowart.transforms import ScriptLimits
    from lowart.transforms._script import CompiledScript, ScriptError

    count_text("warm up", "gpt-4o")  # the gateway loads the tokenizer at start
    attack, expected = C_CALL_ATTACKS[name]
    limits = ScriptLimits(instructions=10**9, seconds=C_CALL_TIMEOUT)
    script = CompiledScript(triggered(attack), limits, label="hostile")
    ctx = script.context({})
    payload = {"messages": [{"role": "user", "content": "attack"}]}
    started = time.perf_counter()
    with pytest.raises(ScriptError) as caught:
        script.call("request", payload, ctx)
    elapsed = time.perf_counter() - started
    assert re.search(expected, caught.value.message), caught.value.message
    assert elapsed < C_CALL_TIMEOUT + 0.2, f"{name} ran {elapsed:.2f} s"


def test_ordinary_uses_of_the_guarded_functions_still_work():
    from lowart.accounting import count_text
    from lowart.transforms import ScriptLimits
    from lowart.transforms._script import CompiledScript

    script = CompiledScript(
        """
        function request(p)
          local t = {1, 2, 3}
          table.move(t, 1, 3, 2)
          table.insert(t, 1, 0)
          local text = ("word "):rep(2000)
          return {
            rep = ("ab"):rep(3, "-"),
            moved = table.concat(t, ","),
            removed = table.remove(t, 1),
            unpacked = select("#", table.unpack(t)),
            optional = ("colour color"):gsub("colou?r", "c"),
            words = select(2, text:gsub("%a+", "")),
            first = text:match("^(%a+)"),
            fmt = string.format("%5s|%-3d|%q", "x", 7, "a\\n"),
            len = utf8.len("héllo"),
            sub = text:sub(-5, -2),
            tokens = count_tokens(("hello world "):rep(2000)),
            json = json.decode(json.encode({a = {1, 2}})).a[2],
            sorted = (function() local s = {3, 1, 2} table.sort(s) return s[1] end)(),
          }
        end
        """,
        ScriptLimits(),
    )
    result = script.call("request", {}, script.context({}))
    assert result == {
        "rep": "ab-ab-ab",
        "moved": "0,1,1,2,3",
        "removed": 0,
        "unpacked": 4,
        "optional": "c c",
        "words": 2000,
        "first": "word",
        "fmt": '    x|7  |"a\\\n"',
        "len": 5,
        "sub": "word",
        "tokens": count_text("hello world " * 2000, "gpt-4o"),  # long text, counted in pieces
        "json": 2,
        "sorted": 1,
    }
