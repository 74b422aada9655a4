"""The Lua side of the sandbox, run once per Lua runtime with full privileges.

It captures what the host needs (the instruction hook, raw metatable access)
in locals, builds the read-only base environment scripts see, protects the
string metatable, and deletes every dangerous global (`python`, `debug`, `io`,
`os`, `package`, `require`, `load*`, `dofile`, `collectgarbage`). Scripts can
only reach what the base environment lists, and each call gets a fresh global
table on top of it, so nothing survives from one call to the next.
"""

from __future__ import annotations

__all__ = ["SANDBOX_LUA"]

SANDBOX_LUA = r"""
local host_now, host_encode, host_decode, host_count, host_log, EMPTY_ARRAY = ...

local none = python.none
local sethook = debug.sethook
local raw_getmetatable, raw_setmetatable = debug.getmetatable, debug.setmetatable
local next, rawset = next, rawset
local error, pcall, xpcall, type, select, tostring = error, pcall, xpcall, type, select, tostring
local setmetatable, getmetatable, rawget, load = setmetatable, getmetatable, rawget, load
local pack, unpack = table.pack, table.unpack
local co_resume = coroutine.resume

-- Limits of the call in progress; the hook enforces them every 1000 instructions.
local active, ticks, max_ticks, deadline, aborted = false, 0, 0, 0.0, nil

local function hook()
  if not active then return end
  if aborted then error(aborted, 0) end
  ticks = ticks + 1
  if ticks > max_ticks then
    aborted = "instruction limit exceeded"
    error(aborted, 0)
  end
  if host_now() > deadline then
    aborted = "time limit exceeded"
    error(aborted, 0)
  end
end
-- This covers the main thread; `co_create` gives each coroutine the same hook.
sethook(hook, "", 1000)

-- A limit or memory error must end the call: protected calls re-raise it.
local function fatal(ok, ...)
  if not ok then
    local err = ...
    if err == "not enough memory" then aborted = aborted or "memory limit exceeded" end
    if aborted then error(aborted, 0) end
  end
  return ok, ...
end

-- The debug library keeps hook functions per thread: every coroutine needs its own.
local function co_create(f)
  local co = coroutine.create(f)
  sethook(co, hook, "", 1000)
  return co
end

local function co_wrap(f)
  local co = co_create(f)
  return function(...)
    local results = pack(co_resume(co, ...))
    if results[1] then return unpack(results, 2, results.n) end
    fatal(false, results[2])
    error(results[2], 0)
  end
end

local function readonly(lib, name)
  return setmetatable({}, {
    __index = lib,
    __newindex = function() error(name .. " is read-only", 2) end,
    __metatable = false,
  })
end

local function copy(lib, except)
  local out = {}
  for k, v in pairs(lib) do
    if not except[k] then out[k] = v end
  end
  return out
end

-- Host helpers run outside the hook's reach; this bounds how long one call takes.
local HOST_TEXT_LIMIT = 4 * 1024 * 1024

local ARRAY = {__metatable = "json.array"}
local NULL = setmetatable({}, {
  __index = function() error("json.null has no fields", 2) end,
  __newindex = function() error("json.null is read-only", 2) end,
  __tostring = function() return "null" end,
  __metatable = false,
})

local function array(t)
  if t == nil then t = {} end
  if type(t) ~= "table" then error("json.array expects a table", 2) end
  return setmetatable(t, ARRAY)
end

-- What `export` does, on a copy: json.encode must not change the script's tables.
local function export_copy(value, depth)
  if type(value) ~= "table" then return value end
  if value == NULL then return none end
  if depth > 200 then error("json.encode: the value is cyclic or nested too deeply", 0) end
  if next(value) == nil then
    if raw_getmetatable(value) == ARRAY then return EMPTY_ARRAY end
    return {}
  end
  local out = {}
  for k, v in next, value do out[k] = export_copy(v, depth + 1) end
  return out
end

-- Lua's pattern matcher backtracks inside one C call, where no hook can stop it:
-- `("a"):rep(5000):find("a-a-a-b")` would stall the event loop for hours. So the
-- pattern functions refuse a pattern whose worst case on this subject (length to
-- the power of its backtracking quantifiers, plus one when unanchored) is too big.
local PATTERN_BUDGET = 5e7  -- about 0.2 s of backtracking in the worst case
local sub = string.sub

local function backtracking_quantifiers(pattern)
  local count, last, i, n = 0, 0, 1, #pattern
  while i <= n do
    local c = sub(pattern, i, i)
    if c == "%" then
      i = i + 2
    elseif c == "[" then
      i = i + 1
      if sub(pattern, i, i) == "^" then i = i + 1 end
      if sub(pattern, i, i) == "]" then i = i + 1 end
      while i <= n and sub(pattern, i, i) ~= "]" do
        if sub(pattern, i, i) == "%" then i = i + 1 end
        i = i + 1
      end
      i = i + 1
    else
      if c == "*" or c == "+" or c == "-" then count, last = count + 1, i end
      i = i + 1
    end
  end
  -- a quantifier ending the pattern never has to give characters back
  if last > 0 and (last == n or (last == n - 1 and sub(pattern, n, n) == "$")) then
    count = count - 1
  end
  return count
end

local function check_pattern(subject, pattern)
  if type(subject) ~= "string" or type(pattern) ~= "string" then return end
  local quantifiers = backtracking_quantifiers(pattern)
  if quantifiers == 0 then return end
  local power = quantifiers + (sub(pattern, 1, 1) == "^" and 0 or 1)
  if (#subject) ^ power > PATTERN_BUDGET then
    error("pattern '" .. sub(pattern, 1, 40) .. "' is too complex for a subject of "
      .. #subject .. " bytes (it may backtrack for too long); use a simpler pattern, "
      .. "a shorter subject or a plain find", 3)
  end
end

local safe_string = copy(string, {dump = true})
do
  local find, match, gmatch, gsub = string.find, string.match, string.gmatch, string.gsub
  safe_string.find = function(s, pattern, init, plain)
    if not plain then check_pattern(s, pattern) end
    return find(s, pattern, init, plain)
  end
  safe_string.match = function(s, pattern, init)
    check_pattern(s, pattern)
    return match(s, pattern, init)
  end
  safe_string.gmatch = function(s, pattern, init)
    check_pattern(s, pattern)
    return gmatch(s, pattern, init)
  end
  safe_string.gsub = function(s, pattern, repl, n)
    check_pattern(s, pattern)
    return gsub(s, pattern, repl, n)
  end
end
local string_mt = getmetatable("")
string_mt.__index = safe_string
string_mt.__metatable = false

local BASE = {
  _VERSION = _VERSION,
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs,
  select = select, tonumber = tonumber, tostring = tostring, type = type,
  rawequal = rawequal, rawget = rawget, rawlen = rawlen, getmetatable = getmetatable,
  pcall = function(f, ...) return fatal(pcall(f, ...)) end,
  xpcall = function(f, h, ...) return fatal(xpcall(f, h, ...)) end,
  setmetatable = function(t, mt)
    if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
      error("__gc metamethods are not allowed", 2)
    end
    return setmetatable(t, mt)
  end,
  string = readonly(safe_string, "string"),
  table = readonly(copy(table, {}), "table"),
  math = readonly(copy(math, {randomseed = true}), "math"),
  utf8 = readonly(copy(utf8, {}), "utf8"),
  coroutine = readonly({
    create = co_create, wrap = co_wrap, isyieldable = coroutine.isyieldable,
    running = coroutine.running, status = coroutine.status,
    yield = coroutine.yield, close = coroutine.close,
    resume = function(co, ...) return fatal(co_resume(co, ...)) end,
  }, "coroutine"),
  json = readonly({
    encode = function(value)
      local ok, result = host_encode(export_copy(value, 0))
      if not ok then error(result, 2) end
      return result
    end,
    decode = function(text)
      if type(text) ~= "string" then error("json.decode expects a string", 2) end
      if #text > HOST_TEXT_LIMIT then error("json.decode: the text is too long", 2) end
      local ok, result, arrays = host_decode(text)
      if not ok then error(result, 2) end
      for i = 1, #arrays do raw_setmetatable(arrays[i], ARRAY) end
      return result
    end,
    null = NULL,
    array = array,
  }, "json"),
  count_tokens = function(text)
    if type(text) ~= "string" then error("count_tokens expects a string", 2) end
    if #text > HOST_TEXT_LIMIT then error("count_tokens: the text is too long", 2) end
    return host_count(text)
  end,
  log = function(level, message)
    host_log(tostring(level), tostring(message))
  end,
}
local ENV_MT = {__index = BASE, __metatable = false}

local function new_env()
  local env = setmetatable({}, ENV_MT)
  env._G = env
  return env
end

-- Text-only `load`; the chunk gets its own fresh globals unless given some.
BASE.load = function(chunk, name, mode, chunk_env)
  if type(chunk) ~= "string" then error("load expects a string", 2) end
  return load(chunk, name, "t", chunk_env or new_env())
end

local function message(err)
  if type(err) == "string" then return err end
  return "error object is a " .. type(err) .. " value"
end

-- Results go back to the host as tables whose nulls are Python's None and whose
-- empty arrays are the host's marker; everything else it reads raw.
local function export(value, depth)
  if type(value) ~= "table" then return value end
  if value == NULL then return none end
  if depth > 200 then error("the result is cyclic or nested too deeply", 0) end
  if next(value) == nil then
    if raw_getmetatable(value) == ARRAY then return EMPTY_ARRAY end
    return value
  end
  for k, v in next, value do
    if type(v) == "table" then
      local out = export(v, depth + 1)
      if out ~= v then rawset(value, k, out) end
    end
  end
  return value
end

local function body(factory, phase, payload, ctx)
  local env = new_env()
  factory(env)
  local fn = rawget(env, phase)
  if fn == nil then return "skip" end
  if type(fn) ~= "function" then error(phase .. " is not a function", 0) end
  return "ok", export(fn(payload, ctx), 0)
end

local function start(instructions, until_time)
  ticks, max_ticks, aborted = 0, instructions // 1000, nil
  deadline = until_time
  active = true
end

-- A runner for one compiled script: run(phase, payload, ctx, deadline, many, ...) returns
-- (true, "ok", result), (true, "skip") when the script lacks the phase, or (false, message).
-- The payload's array tables come as the extra arguments, or as the table `many`.
local function runner(factory, instructions)
  return function(phase, payload, ctx, until_time, many, ...)
    local arrays = many or {...}
    for i = 1, #arrays do raw_setmetatable(arrays[i], ARRAY) end
    start(instructions, until_time)
    local ok, status, result = xpcall(body, message, factory, phase, payload, ctx)
    active = false
    -- (memory errors skip the message handler)
    if not ok and status == "not enough memory" then aborted = "memory limit exceeded" end
    if aborted then return false, aborted end
    if not ok then return false, status end
    return true, status, result
  end
end

local function run(factory, phase, payload, ctx, instructions, seconds)
  start(instructions, host_now() + seconds)
  local ok, status = xpcall(body, message, factory, phase, payload, ctx)
  active = false
  if not ok and status == "not enough memory" then aborted = "memory limit exceeded" end
  if aborted then return false, aborted end
  if not ok then return false, status end
  return true, status
end

-- Which phases a script defines (its top level runs once, under the same limits).
local function phases(factory, instructions, seconds)
  local found = {}
  local ok, err = run(function(env)
    factory(env)
    for _, name in ipairs({"request", "response", "chunk"}) do
      if type(rawget(env, name)) == "function" then found[#found + 1] = name end
    end
  end, "none", nil, nil, instructions, seconds)
  if not ok then return false, err end
  return true, table.concat(found, ",")
end

local function compile(source, instructions, seconds)
  -- The script becomes the body of a factory taking its globals, on the same
  -- line numbers; text only, and with no globals (and the usual limits) if a
  -- crafted source escapes the wrapper.
  local wrapper, err = load("return function(_ENV, ...) " .. source .. "\nend", "=script", "t", {})
  if not wrapper then return false, err end
  start(instructions, host_now() + seconds)
  local ok, made = pcall(wrapper)
  active = false
  if aborted then return false, aborted end
  if not ok then return false, message(made) end
  if type(made) ~= "function" then return false, "script must not return at its top level" end
  return true, made
end

local function make_ctx(fields)
  return setmetatable({}, {
    __index = fields,
    __newindex = function() error("ctx is read-only", 2) end,
    __metatable = false,
  })
end

local exports = {
  compile = compile, runner = runner, phases = phases, make_ctx = make_ctx, null = NULL,
}

-- Nothing privileged stays reachable through the runtime's own globals either.
for _, name in ipairs({
  "python", "debug", "io", "os", "package", "require", "dofile", "loadfile", "load",
  "collectgarbage", "print", "rawset", "setmetatable", "getmetatable",
}) do
  _G[name] = nil
end

return exports
"""
