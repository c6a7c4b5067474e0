--- Retry policy: which failures are retried, how long to wait, and the loop
-- that signs every attempt afresh while keeping one ClientToken.
local core = require "ecs.core"
local short = require("ecs.config").short

local type, pairs, tostring, error, tonumber = type, pairs, tostring, error, tonumber
local math_min, math_max, math_floor = math.min, math.max, math.floor
local concat = table.concat

local M = {}

M.defaults = { attempts = 4, base_delay = 0.2, max_delay = 20, max_time = 60 }

local KEYS = { attempts = "count", base_delay = "seconds", max_delay = "seconds", max_time = "seconds" }

--- Validates a retry config table; returns a normalized copy. Raises on error.
function M.check_config(v)
  if type(v) ~= "table" then error("retry: expected a table or false, got " .. type(v), 2) end
  local out = {}
  for k, d in pairs(M.defaults) do out[k] = d end
  for k, x in pairs(v) do
    local want = KEYS[k]
    if not want then
      error(("retry: unknown option '%s' (known: attempts, base_delay, max_delay, max_time)"):format(short(k)), 2)
    end
    if type(x) ~= "number" or x ~= x or x < 0 or x == math.huge then
      error(("retry: '%s' must be a non-negative finite number"):format(k), 2)
    end
    if want == "count" and (x < 1 or x ~= math_floor(x) or x > 100) then
      error("retry: 'attempts' must be a whole number from 1 to 100", 2)
    end
    out[k] = x
  end
  if out.base_delay > out.max_delay then error("retry: 'base_delay' must not exceed 'max_delay'", 2) end
  return out
end

-- actions whose retries must never run the command twice: they carry a ClientToken
M.TOKEN_ACTIONS = { InvokeCommand = true, RunCommand = true, CreateCommand = true, SendFile = true }

-- actions that give the same outcome when the service runs them twice
local IDEMPOTENT = { StopInvocation = true, ModifyCommand = true, ModifyInvocationAttribute = true }

--- Whether running `action` a second time is harmless (reads, ClientToken
-- actions, idempotent changes). Other actions are retried only after
-- failures that show the service did not act.
function M.safe_to_repeat(action)
  if type(action) ~= "string" then return false end
  return M.TOKEN_ACTIONS[action] or IDEMPOTENT[action] or action:match("^Describe") ~= nil
    or action:match("^List") ~= nil or false
end

-- codes retried whatever the HTTP status
local RETRY_PREFIXES = { "Throttling", "ServiceUnavailable", "InternalError" }
local RETRY_CODES = { IdempotentProcessing = true, LastTokenProcessing = true, UnknownError = true,
                      SignatureNonceUsed = true }

local function code_retryable(code)
  if RETRY_CODES[code] then return true end
  for i = 1, #RETRY_PREFIXES do
    local p = RETRY_PREFIXES[i]
    if code:sub(1, #p) == p then return true end
  end
  return false
end

-- Whether the failure proves the service did not act on the request.
local function surely_not_run(err)
  local code = err.code or ""
  if code:sub(1, 8) == "Network." then return err.sent == false end
  if code:sub(1, 10) == "Throttling" or code:sub(1, 18) == "ServiceUnavailable" then return true end
  if code == "IdempotentProcessing" or code == "LastTokenProcessing" or code == "SignatureNonceUsed" then
    return true
  end
  return err.http_status == 429 or err.http_status == 503
end

--- Whether an error may succeed when tried again. With `action`, failures
-- that leave it unknown whether the service acted (a timeout, a connection
-- lost after sending, HTTP 500) are retried only when repeating is safe.
function M.is_retryable(err, action)
  if type(err) ~= "table" then return false end
  local code = tostring(err.code or "")
  local yes
  if code:sub(1, 8) == "Network." then
    yes = err.retryable ~= false
  elseif code_retryable(code) then
    yes = true
  else
    local st = err.http_status
    yes = st ~= nil and (st >= 500 or st == 429)
  end
  if yes and action ~= nil and not M.safe_to_repeat(action) then
    yes = surely_not_run(err)
  end
  return yes
end

--- Server-requested wait in seconds (x-acs-retry-after is milliseconds,
-- Retry-After is seconds or an HTTP date), or nil.
function M.retry_after(err)
  local h = type(err) == "table" and err.headers
  if type(h) ~= "table" then return nil end
  local ms = tonumber(h["x-acs-retry-after"])
  if ms and ms > 0 and ms < math.huge then return ms / 1000 end
  local ra = h["retry-after"]
  local s = tonumber(ra)
  if s and s >= 0 and s < math.huge then return s end
  -- an HTTP date, measured against the response's own Date (else our clock)
  local at = type(ra) == "string" and core.parse_http_date(ra)
  if at then
    local now = type(h.date) == "string" and core.parse_http_date(h.date) or os.time()
    return math_max(0, at - now)
  end
  return nil
end

--- Delay before attempt n+1 after attempt n failed with err: exponential
-- backoff with full jitter (uniform in [0, min(max_delay, base_delay * 2^(n-1))]),
-- raised to what the server asked for, never above max_delay.
function M.delay(policy, n, err, random)
  local cap = math_min(policy.max_delay, policy.base_delay * 2 ^ (n - 1))
  local d = (random or math.random)() * cap
  local after = M.retry_after(err)
  if after then d = math_max(d, math_min(after, policy.max_delay)) end
  return d
end

--- A new ClientToken: a random (version 4) UUID from OpenSSL's generator
-- (ASCII, 36 chars). Random per call rather than a per-process prefix and a
-- counter, which nginx workers forked from one master would share.
M.new_token = core.uuid

local function describe(entry)
  local s = entry.attempt .. " " .. entry.code
  if entry.http_status then s = s .. " (HTTP " .. entry.http_status .. ")" end
  return s
end

--- Adds the attempt count and history to the final error (and its message).
function M.finish(err, history, reason)
  if type(err) ~= "table" then return err end
  err.attempts = #history
  err.history = history
  err.gave_up = reason
  if #history > 1 and type(err.message) == "string" then
    local parts = {}
    for i = 1, #history do parts[i] = describe(history[i]) end
    local why = reason == "time" and "retry time budget spent" or reason == "attempts" and "attempts exhausted"
      or "not retryable"
    err.message = ("%s [attempts: %s; %s]"):format(err.message, concat(parts, "; "), why)
  end
  return err
end

--- Runs attempt(n) until it succeeds, fails for good, or the policy gives up.
-- env: { clock =, sleep =, random =, log = function(event) end,
--        skew = function(err) -> bool, action = name }
-- Returns the result, or nil and the last error with `attempts`, `history`
-- (one { attempt, code, http_status, request_id, delay } per attempt) and
-- `gave_up` ("not_retryable", "attempts" or "time"). start: when the first
-- attempt began (default now), for max_time.
function M.run(policy, env, attempt, start)
  local history = {}
  start = start or env.clock()
  local max_attempts = policy and policy.attempts or 1
  local skew_retried = false
  local n = 0
  while true do
    n = n + 1
    local res, err = attempt(n)
    if res ~= nil then return res end
    local entry = { attempt = n, code = tostring(type(err) == "table" and err.code or err or "unknown"),
                    http_status = type(err) == "table" and err.http_status or nil,
                    request_id = type(err) == "table" and err.request_id or nil }
    history[n] = entry
    local wait, reason = 0, nil
    if type(err) == "table" and err.code == "InvalidTimeStamp.Expired" and not skew_retried
        and env.skew and env.skew(err) then
      skew_retried = true
      max_attempts = math_max(max_attempts, n + 1)
    elseif not policy then
      reason = "not_retryable"
    elseif not M.is_retryable(err, env.action) then
      reason = "not_retryable"
    elseif n >= max_attempts then
      reason = "attempts"
    else
      wait = M.delay(policy, n, err, env.random)
      if env.clock() - start + wait > policy.max_time then reason = "time" end
    end
    if reason then return nil, M.finish(err, history, reason) end
    entry.delay = wait
    if env.log then
      env.log { event = "retry", action = env.action, attempt = n, delay = wait, code = entry.code,
                http_status = entry.http_status, request_id = entry.request_id }
    end
    if wait > 0 then env.sleep(wait) end
  end
end

return M
