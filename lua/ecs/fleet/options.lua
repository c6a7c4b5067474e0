--- Checks of the client-side options of the fleet functions. A wrong type or
-- an unknown option raises at once, naming it.
local type, pairs, ipairs, error, tonumber = type, pairs, ipairs, error, tonumber
local math_floor = math.floor
local wait = require "ecs.fleet.wait"
local short = require("ecs.config").short

local M = {}

M.short = short
-- upper bounds of the numeric options: a day for grace and slack, a week for
-- a wait deadline or a command's timeout, calls per second for rate
M.MAX_SECONDS = 86400
M.MAX_WAIT = 7 * 86400
M.MIN_RATE, M.MAX_RATE = 0.001, 10000

local function bad(where, name, msg, level)
  error(("ecs: %s: bad option '%s': %s"):format(where, name, msg), level + 1)
end
M.bad = bad

function M.whole(where, name, v, lo, hi, level)
  if v == nil then return nil end
  if type(v) ~= "number" or v ~= math_floor(v) or v < lo or v > hi then
    bad(where, name, ("expected a whole number from %d to %d, got %s"):format(lo, hi, short(v)), level + 1)
  end
  return v
end

function M.kind(where, name, v, want, level)
  if v ~= nil and type(v) ~= want then
    bad(where, name, ("expected a %s, got %s"):format(want, type(v)), level + 1)
  end
  return v
end

--- seconds(where, name, v, level [, max]): nil or a number of seconds from 0
-- to max (default MAX_SECONDS, a day).
function M.seconds(where, name, v, level, max)
  if v == nil then return nil end
  max = max or M.MAX_SECONDS
  if type(v) ~= "number" or v ~= v or v < 0 or v > max then
    bad(where, name, ("expected a number of seconds from 0 to %d, got %s"):format(max, short(v)), level + 1)
  end
  return v
end

--- max_errors: a count (whole number >= 0) or a percentage string such as "5%".
-- Returns { count = n } or { percent = p }.
function M.max_errors(where, v, level)
  if v == nil then return nil end
  if type(v) == "number" then
    if v ~= math_floor(v) or v < 0 then
      bad(where, "max_errors", "a count must be a whole number >= 0", level + 1)
    end
    return { count = v }
  end
  if type(v) == "string" then
    local p = v:match("^%s*(%d+%.?%d*)%s*%%%s*$")
    p = p and tonumber(p)
    if not p or p > 100 then
      bad(where, "max_errors", ("expected a count or a percentage such as \"5%%\", got '%s'"):format(short(v)),
        level + 1)
    end
    return { percent = p }
  end
  bad(where, "max_errors", ("expected a count or a percentage string, got %s"):format(type(v)), level + 1)
end

--- The number of errors allowed out of `total` instances (more stops the run).
function M.error_limit(spec, total)
  if not spec then return nil end
  if spec.count then return spec.count end
  return spec.percent * total / 100
end

--- copy(t) -> a shallow copy of t (nil gives an empty table).
function M.copy(t)
  local o = {}
  for k, v in pairs(t or {}) do o[k] = v end
  return o
end

--- common(where, o, level): the options every fleet function shares
-- (concurrency, rate, hooks, grace, slack, poll); o.poll is normalized.
function M.common(where, o, level)
  M.whole(where, "concurrency", o.concurrency, 1, 100, level + 1)
  local rate = o.rate
  if rate ~= nil and (type(rate) ~= "number" or rate ~= rate or rate < M.MIN_RATE or rate > M.MAX_RATE) then
    bad(where, "rate", ("expected calls per second from %g to %d, got %s"):format(M.MIN_RATE, M.MAX_RATE,
      short(rate)), level + 1)
  end
  for _, k in ipairs { "on_result", "on_progress", "on_batch", "on_launch" } do
    M.kind(where, k, o[k], "function", level + 1)
  end
  M.seconds(where, "grace", o.grace, level + 1)
  M.seconds(where, "slack", o.slack, level + 1)
  o.poll = wait.check_poll(where, o.poll, level + 1)
end

--- Splits a table into service parameters (names starting with a capital)
-- and client options (checked against `allowed`).
function M.split(where, opts, allowed, level)
  if type(opts) ~= "table" then
    error(("ecs: %s: expected a table of options, got %s"):format(where, type(opts)), level + 1)
  end
  local params, client = {}, {}
  for k, v in pairs(opts) do
    if type(k) ~= "string" then
      error(("ecs: %s: option names must be strings, got %s"):format(where, type(k)), level + 1)
    end
    if k:match("^%u") then
      params[k] = v
    elseif allowed[k] then
      client[k] = v
    else
      error(("ecs: %s: unknown option '%s'"):format(where, short(k)), level + 1)
    end
  end
  return params, client
end

return M
