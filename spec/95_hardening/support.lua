-- Shared pieces of the hardening specs: the catalogue of bad values, a call
-- wrapper that tells a clear error from a crash of the Lua code itself (or a
-- hang), and a child-process runner for repros that may kill the process.
local process = require "helpers.process"

local M = {}

local HUGE -- 10 MB, built once
local function huge()
  HUGE = HUGE or string.rep("A", 10 * 1024 * 1024)
  return HUGE
end

local function deep_map(n)
  local root = {}
  local t = root
  for _ = 1, n do
    t.x = {}
    t = t.x
  end
  return root
end

local function deep_list(n)
  local root = {}
  local t = root
  for _ = 1, n do
    t[1] = {}
    t = t[1]
  end
  return root
end

--- A fresh list of { name, value } bad values (tables are new on each call,
-- so a function that keeps or marks its argument cannot spoil the next case).
function M.bad_values()
  local cyclic = {}
  cyclic.self = cyclic
  local cyclic_list = { "a" }
  cyclic_list[2] = cyclic_list
  return {
    { "nil", nil }, { "true", true }, { "false", false }, { "42", 42 }, { "-1", -1 }, { "0", 0 }, { "0.5", 0.5 },
    { "NaN", 0 / 0 }, { "+inf", math.huge }, { "-inf", -math.huge }, { "1e300", 1e300 },
    { "empty string", "" }, { "NUL byte", "a\0b" }, { "invalid UTF-8", "\255\254\192\128" },
    { "10 MB string", huge() }, { "function", function() end }, { "coroutine", coroutine.create(function() end) },
    { "userdata", io.stdout }, { "10000-deep map", deep_map(10000) }, { "10000-deep list", deep_list(10000) },
    { "cyclic map", cyclic }, { "cyclic list", cyclic_list }, { "unknown keys", { no_such_option_xyz = 1 } },
    { "list", { 1, 2, 3 } }, { "word", "x" },
  }
end

M.huge = huge
M.deep_map = deep_map
M.deep_list = deep_list

-- Messages that come from the Lua VM or the standard library failing inside
-- the code under test, not from a check of the argument.
local INTERNAL = {
  "attempt to index", "attempt to call", "attempt to compare", "attempt to perform arithmetic",
  "attempt to concatenate", "attempt to get length", "attempt to add", "attempt to sub", "attempt to mul",
  "attempt to div", "attempt to mod", "attempt to pow", "attempt to unm", "invalid key to 'next'",
  "to 'format'", "to 'match'", "to 'find'", "to 'gsub'", "to 'sub'", "to 'rep'", "to 'char'",
  "to 'insert'", "to 'concat'", "to 'floor'", "to 'setmetatable'", "stack overflow", "C stack overflow",
  "not enough memory",
}

--- internal_error(msg) -> the matching pattern when msg reads like a failure
-- of the code under test rather than a message about the argument.
function M.internal_error(msg)
  msg = tostring(msg)
  -- luaL_check* naming the argument of the function called is a clear error,
  -- unless it is about a standard-library function the code called
  local fname = msg:match("bad argument #%d+ to '([^']*)'")
  if fname and not ({ format = 1, match = 1, find = 1, gsub = 1, sub = 1, rep = 1, char = 1, insert = 1,
                      concat = 1, floor = 1, setmetatable = 1, os_date = 1, date = 1, ["?"] = 1 })[fname] then
    return nil
  end
  for _, p in ipairs(INTERNAL) do
    if msg:find(p, 1, true) then return p end
  end
  return nil
end

local function pack(...) return { n = select("#", ...), ... } end

local has_socket, socket = pcall(require, "socket")
local now = has_socket and socket.gettime or os.clock

--- call(limit, fn, ...) -> outcome
-- outcome = { kind = "raise", message } | { kind = "nil_err", err } |
--           { kind = "ok", value } | { kind = "hang" } (the Lua code ran
-- longer than `limit` seconds: stopped by a count hook).
function M.call(limit, fn, ...)
  local deadline = now() + limit
  local hung = false
  local function hook()
    if now() > deadline then
      hung = true
      error("hang: still running after " .. limit .. " s", 2)
    end
  end
  debug.sethook(hook, "", 100000)
  local res = pack(pcall(fn, ...))
  debug.sethook()
  if hung then return { kind = "hang" } end
  if not res[1] then return { kind = "raise", message = tostring(res[2]) } end
  if res[2] == nil and res.n >= 3 then return { kind = "nil_err", err = res[3] } end
  return { kind = "ok", value = res[2] }
end

--- problem(outcome) -> nil when the outcome is acceptable for bad input
-- (a clear raise, a documented nil, err, or a result), else a description.
function M.problem(o)
  if o.kind == "hang" then return "hangs" end
  if o.kind == "raise" then
    local p = M.internal_error(o.message)
    if p then return "raises an internal error (" .. p .. "): " .. o.message:sub(1, 200) end
    if #o.message > 4096 then return "raises a message of " .. #o.message .. " bytes" end
    return nil
  end
  if o.kind == "nil_err" then
    local e = o.err
    if e == nil then return nil end -- a function that returns nothing
    if type(e) == "string" then
      local p = M.internal_error(e)
      if p then return "returns an internal error: " .. e:sub(1, 200) end
      return nil
    end
    if type(e) ~= "table" then return "returns nil and a " .. type(e) .. " as the error" end
    if type(e.code) ~= "string" or e.code == "" then return "returns an error without a code" end
    if type(e.message) ~= "string" then return "returns an error without a message" end
    local p = M.internal_error(e.message)
    if p then return "returns an error whose message is an internal error: " .. e.message:sub(1, 200) end
    return nil
  end
  return nil
end

--- run_child(source, env) -> exit status (number), stdout, stderr of a child
-- Lua process (same interpreter, paths) running source; env is a string of
-- VAR=value assignments put before the command.
function M.run_child(source, env)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. process.shell_quote(dir)))
  local script, out, err = dir .. "/child.lua", dir .. "/stdout", dir .. "/stderr"
  process.write_file(script, process.lua_script(source))
  local cmd = ("%s %s %s >%s 2>%s; echo $? >%s/rc"):format(env or "", process.interpreter(),
    process.shell_quote(script), process.shell_quote(out), process.shell_quote(err), process.shell_quote(dir))
  os.execute("sh -c " .. process.shell_quote(cmd))
  local rc = tonumber(process.read_file(dir .. "/rc") or "")
  local o, e = process.read_file(out) or "", process.read_file(err) or ""
  os.execute("rm -rf " .. process.shell_quote(dir))
  return rc, o, e
end

--- Snapshot of plain data reachable from t (functions and userdata by type
-- name), for "nothing changed" comparisons.
function M.snapshot(t, seen)
  seen = seen or {}
  if type(t) ~= "table" then
    if type(t) == "function" or type(t) == "userdata" or type(t) == "thread" then return "<" .. type(t) .. ">" end
    return t
  end
  if seen[t] then return "<cycle>" end
  seen[t] = true
  local out = {}
  for k, v in pairs(t) do out[tostring(k)] = M.snapshot(v, seen) end
  seen[t] = nil
  return out
end

return M
