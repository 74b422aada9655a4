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
local host_now, host_encode, host_decode, host_count, host_log, EMPTY_ARRAY, MEMORY_LIMIT = ...

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

-- Estimated costs of work inside C calls, in seconds per unit: measured on a
-- loaded 2-core machine and rounded up, so a refusal errs on the early side.
local BYTE = 10e-9      -- copying, scanning or converting one byte
local ELEMENT = 100e-9  -- reading or writing one table slot from C
local STEP = 4e-9       -- one step of the pattern matcher
local PARSE = 300e-9    -- one byte of Lua source or JSON text turned into values
local CHECK_EVERY = 50e-6
local pending = 0.0

local function abort(reason)
  aborted = reason
  error(reason, 0)
end

-- Account for a C call about to cost `seconds`; refuse it if it would end past
-- the deadline. Small costs only add up until CHECK_EVERY is reached.
local function charge(seconds, what)
  pending = pending + seconds
  if pending < CHECK_EVERY or not active then return end
  pending = 0.0
  if host_now() + seconds > deadline then
    abort("time limit exceeded (" .. what .. " would run past it)")
  end
end

local function check_size(bytes, what)
  if bytes > MEMORY_LIMIT then
    abort("memory limit exceeded (" .. what .. " would make " .. bytes .. " bytes)")
  end
end

local function len_of(value)  -- the length of what a library function turns into a string
  local kind = type(value)
  if kind == "string" then return #value end
  if kind == "number" then return 32 end
  return 0
end

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
-- `copied` counts slots and string bytes, what the host's encoder will have to do.
local copied = 0
local function export_copy(value, depth)
  if type(value) ~= "table" then
    if type(value) == "string" then copied = copied + #value // 16 end
    return value
  end
  if value == NULL then return none end
  if depth > 200 then error("json.encode: the value is cyclic or nested too deeply", 0) end
  if next(value) == nil then
    if raw_getmetatable(value) == ARRAY then return EMPTY_ARRAY end
    return {}
  end
  local out = {}
  for k, v in next, value do
    copied = copied + 1
    out[k] = export_copy(v, depth + 1)
  end
  return out
end

-- Lua's pattern matcher backtracks inside one C call, where no hook can stop it:
-- `("a"):rep(5000):find("a-a-a-b")` would stall the event loop for hours. So the
-- pattern functions refuse a pattern whose worst case on this subject is too big:
-- the length to the power of its backtracking items (`*`, `+`, `-`, `%b`, back
-- references; plus one when unanchored), times 2 for each `?` (each doubles the
-- ways to try the rest) and then the pattern length; and charge that worst case.
local PATTERN_BUDGET = 5e7  -- about 0.2 s of backtracking in the worst case
local sub = string.sub
local byte = string.byte

-- (count of backtracking items, count of `?`)
local function backtracking_quantifiers(pattern)
  local count, optional, last, i, n = 0, 0, 0, 1, #pattern
  while i <= n do
    local c = sub(pattern, i, i)
    if c == "%" then
      local d = sub(pattern, i + 1, i + 1)
      if d == "b" then
        count, i = count + 1, i + 4
      elseif d == "f" then
        i = i + 2
      else
        if d >= "1" and d <= "9" then count = count + 1 end
        i = i + 2
      end
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
      if c == "*" or c == "+" or c == "-" then
        count, last = count + 1, i
      elseif c == "?" then
        optional = optional + 1
      end
      i = i + 1
    end
  end
  -- a quantifier ending the pattern never has to give characters back
  if last > 0 and (last == n or (last == n - 1 and sub(pattern, n, n) == "$")) then
    count = count - 1
  end
  return count, optional
end

local function check_pattern(subject, pattern)
  if type(subject) ~= "string" or type(pattern) ~= "string" then return end
  local quantifiers, optional = backtracking_quantifiers(pattern)
  local steps
  if quantifiers == 0 and optional == 0 then
    steps = #subject  -- one pass, or a plain search
  else
    local power = quantifiers + (byte(pattern, 1) == 94 and 0 or 1)  -- 94 is "^"
    steps = (#subject + 1) ^ power
    if optional > 0 then steps = steps * 2 ^ optional * #pattern end
    if steps > PATTERN_BUDGET then
      error("pattern '" .. sub(pattern, 1, 40) .. "' is too complex for a subject of "
        .. #subject .. " bytes (it may backtrack for too long); use a simpler pattern, "
        .. "a shorter subject or a plain find", 3)
    end
  end
  charge(steps * STEP, "a pattern match")
end

local safe_string = copy(string, {dump = true})
do
  local find, match, gmatch, gsub = string.find, string.match, string.gmatch, string.gsub
  local rep, format, upper, lower, reverse = string.rep, string.format, string.upper,
    string.lower, string.reverse
  local pack, sub_ = string.pack, string.sub
  local tointeger = math.tointeger
  safe_string.find = function(s, pattern, init, plain)
    if plain then charge(len_of(s) * BYTE, "string.find") else check_pattern(s, pattern) end
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
    if type(repl) == "string" then  -- every position may match and get `repl`
      charge((len_of(s) + 1) * (#repl + 1) * BYTE, "string.gsub")
    end
    return gsub(s, pattern, repl, n)
  end
  -- rep loops once per copy even when the copies are empty
  safe_string.rep = function(s, n, sep)
    local count = tointeger(tonumber(n))
    if count and count > 0 then
      local size = count * len_of(s) + (count - 1) * len_of(sep)
      check_size(size, "string.rep")
      charge((count + size) * BYTE, "string.rep")
    end
    return rep(s, n, sep)
  end
  safe_string.format = function(fmt, ...)
    local size = len_of(fmt) + 128 * select("#", ...)
    for i = 1, select("#", ...) do
      size = size + 4 * len_of((select(i, ...)))  -- %q may quadruple a string
    end
    charge(size * BYTE, "string.format")
    return format(fmt, ...)
  end
  safe_string.pack = function(fmt, ...)
    local size = len_of(fmt)
    if type(fmt) == "string" then  -- counts in the format are sizes and paddings
      for digits in gmatch(fmt, "%d+") do size = size + (tonumber(digits) or 0) end
    end
    for i = 1, select("#", ...) do size = size + len_of((select(i, ...))) end
    check_size(size, "string.pack")
    charge(size * BYTE, "string.pack")
    return pack(fmt, ...)
  end
  local function linear(f, name)
    return function(s, ...)
      charge(len_of(s) * BYTE, name)
      return f(s, ...)
    end
  end
  safe_string.upper = linear(upper, "string.upper")
  safe_string.lower = linear(lower, "string.lower")
  safe_string.reverse = linear(reverse, "string.reverse")
  -- sub and byte cost what they return, not the subject's length
  local function span(s, i, j, default_j)
    local l = len_of(s)
    i, j = tointeger(tonumber(i or 1)), tointeger(tonumber(j or default_j))
    if not i or not j then return 0 end
    if i < 0 then i = l + i + 1 end
    if i < 1 then i = 1 end
    if j < 0 then j = l + j + 1 elseif j > l then j = l end
    return j >= i and j - i + 1 or 0
  end
  safe_string.sub = function(s, i, j)
    charge(span(s, i, j, -1) * BYTE, "string.sub")
    return sub_(s, i, j)
  end
  local str_byte = string.byte
  safe_string.byte = function(s, i, j)
    charge(span(s, i, j, i or 1) * ELEMENT, "string.byte")
    return str_byte(s, i, j)
  end
  local s_unpack = string.unpack
  safe_string.unpack = function(fmt, s, ...)
    charge((len_of(fmt) + len_of(s)) * BYTE, "string.unpack")
    return s_unpack(fmt, s, ...)
  end
end
-- The table functions: each slot they touch is charged. A `__len` metamethod
-- could answer differently when the C function asks again, so the shims pass
-- explicit bounds where the function takes them and refuse such tables where
-- it does not (insert, remove, sort).
local safe_table = copy(table, {})
do
  local move, concat, insert, remove, t_unpack, sort = table.move, table.concat,
    table.insert, table.remove, table.unpack, table.sort
  local tointeger, log2 = math.tointeger, math.log
  local function length(t, name)
    local mt = raw_getmetatable(t)
    if mt ~= nil and type(mt) == "table" and rawget(mt, "__len") ~= nil then
      error(name .. " does not take tables with a __len metamethod", 3)
    end
    return type(t) == "table" and #t or 0
  end
  local function count(i, j)
    i, j = tointeger(tonumber(i)), tointeger(tonumber(j))
    if not i or not j or j < i then return 0 end
    return j - i + 1
  end
  safe_table.move = function(a1, f, e, t, a2)
    charge(count(f, e) * ELEMENT, "table.move")
    return move(a1, f, e, t, a2)
  end
  safe_table.concat = function(list, sep, i, j)
    i = i or 1
    if j == nil and type(list) == "table" then j = #list end
    local n = count(i, j)
    charge(n * (ELEMENT + len_of(sep) * BYTE), "table.concat")
    return concat(list, sep, i, j)
  end
  safe_table.unpack = function(list, i, j)
    i = i or 1
    if j == nil and type(list) == "table" then j = #list end
    charge(count(i, j) * ELEMENT, "table.unpack")
    return t_unpack(list, i, j)
  end
  safe_table.insert = function(t, ...)
    if select("#", ...) >= 2 then  -- insert(t, pos, v) shifts the slots after pos
      local n = length(t, "table.insert")
      charge(count(..., n) * ELEMENT, "table.insert")
    end
    return insert(t, ...)
  end
  safe_table.remove = function(t, ...)
    local n = length(t, "table.remove")
    if select("#", ...) >= 1 then charge(count(..., n) * ELEMENT, "table.remove") end
    return remove(t, ...)
  end
  safe_table.sort = function(t, less)
    local n = length(t, "table.sort")
    if n > 1 then charge(n * (log2(n, 2) + 1) * ELEMENT, "table.sort") end
    return sort(t, less)
  end
end

-- utf8 and the base functions that scan a whole string in one call.
local safe_utf8 = copy(utf8, {})
do
  local u_len, u_codepoint, u_offset, u_char = utf8.len, utf8.codepoint, utf8.offset, utf8.char
  safe_utf8.len = function(s, ...)
    charge(len_of(s) * BYTE, "utf8.len")
    return u_len(s, ...)
  end
  safe_utf8.codepoint = function(s, ...)
    charge(len_of(s) * ELEMENT, "utf8.codepoint")
    return u_codepoint(s, ...)
  end
  safe_utf8.offset = function(s, ...)
    charge(len_of(s) * BYTE, "utf8.offset")
    return u_offset(s, ...)
  end
  safe_utf8.char = function(...)
    charge(select("#", ...) * ELEMENT, "utf8.char")
    return u_char(...)
  end
end
local raw_tonumber = tonumber
local function safe_tonumber(value, base)
  charge(len_of(value) * BYTE, "tonumber")
  return raw_tonumber(value, base)
end

local string_mt = getmetatable("")
string_mt.__index = safe_string
string_mt.__metatable = false

local BASE = {
  _VERSION = _VERSION,
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs,
  select = select, tonumber = safe_tonumber, tostring = tostring, type = type,
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
  table = readonly(safe_table, "table"),
  math = readonly(copy(math, {randomseed = true}), "math"),
  utf8 = readonly(safe_utf8, "utf8"),
  coroutine = readonly({
    create = co_create, wrap = co_wrap, isyieldable = coroutine.isyieldable,
    running = coroutine.running, status = coroutine.status,
    yield = coroutine.yield, close = coroutine.close,
    resume = function(co, ...) return fatal(co_resume(co, ...)) end,
  }, "coroutine"),
  json = readonly({
    encode = function(value)
      copied = 0
      local exported = export_copy(value, 0)
      charge(copied * ELEMENT, "json.encode")
      local ok, result = host_encode(exported)
      if not ok then error(result, 2) end
      return result
    end,
    decode = function(text)
      if type(text) ~= "string" then error("json.decode expects a string", 2) end
      if #text > HOST_TEXT_LIMIT then error("json.decode: the text is too long", 2) end
      charge(#text * PARSE, "json.decode")
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
    -- the host counts long text in pieces and gives up (nil) at the deadline
    local n = host_count(text, deadline)
    if n == nil then abort("time limit exceeded (count_tokens would run past it)") end
    return n
  end,
  log = function(level, message)
    host_log(sub(tostring(level), 1, 16), sub(tostring(message), 1, 1000))
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
  charge(#chunk * PARSE, "load")  -- the compiler runs outside the hook too
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
  ticks, max_ticks, aborted, pending = 0, instructions // 1000, nil, 0.0
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
