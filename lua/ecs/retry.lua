--- Retry policy: which failures are retried, how long to wait, and the loop
-- that signs every attempt afresh while keeping one ClientToken.
local core = require "ecs.core"

local type, pairs, tostring, error = type, pairs, tostring, error
local math_min, math_max, math_floor = math.min, math.max, math.floor

local M = {}

M.defaults = { attempts = 4, base_delay = 0.2, max_delay = 20, max_time = 60 }

local KEYS = { attempts = "count", base_delay = "seconds", max_delay = "seconds", max_time = "seconds" }

--- Validates a retry config table; returns a normalized copy. Raises on error.
function M.check_config(v)
  if type(v) ~= "table" then error("retry: expected a table or false", 2) end
  local out = {}
  for k, d in pairs(M.defaults) do out[k] = d end
  for k, x in pairs(v) do
    local want = KEYS[k]
    if not want then error(("retry: unknown option '%s'"):format(tostring(k)), 2) end
    if type(x) ~= "number" or x ~= x or x < 0 or x == math.huge then
      error(("retry: '%s' must be a non-negative finite number"):format(k), 2)
    end
    if want == "count" and (x < 1 or x ~= math_floor(x) or x > 100) then
      error("retry: 'attempts' must be a whole number from 1 to 100", 2)
    end
    out[k] = x
  end
  return out
end

-- codes retried whatever the HTTP status
local RETRY_PREFIXES = { "Throttling", "ServiceUnavailable", "InternalError" }
local RETRY_CODES = { IdempotentProcessing = true, LastTokenProcessing = true, UnknownError = true }

--- Whether an error may succeed when tried again.
function M.is_retryable(err)
  if type(err) ~= "table" then return false end
  local code = err.code or ""
  if code:sub(1, 8) == "Network." then return err.retryable ~= false end
  if RETRY_CODES[code] then return true end
  for i = 1, #RETRY_PREFIXES do
    local p = RETRY_PREFIXES[i]
    if code:sub(1, #p) == p then return true end
  end
  local st = err.http_status
  return st ~= nil and (st >= 500 or st == 429)
end

--- Server-requested wait in seconds (x-acs-retry-after is milliseconds,
-- Retry-After is seconds), or nil.
function M.retry_after(err)
  local h = type(err) == "table" and err.headers
  if type(h) ~= "table" then return nil end
  local ms = tonumber(h["x-acs-retry-after"])
  if ms and ms > 0 then return ms / 1000 end
  local s = tonumber(h["retry-after"])
  if s and s >= 0 then return s end
  return nil
end

--- Delay before attempt n+1 after attempt n failed with err: exponential
-- backoff with full jitter, at least what the server asked for, at most the cap.
function M.delay(policy, n, err, random)
  local cap = math_min(policy.max_delay, policy.base_delay * 2 ^ (n - 1))
  local d = (random or math.random)() * cap
  local after = M.retry_after(err)
  if after then d = math_max(d, math_min(after, policy.max_delay)) end
  return d
end

-- actions whose retries must never run the command twice
M.TOKEN_ACTIONS = { InvokeCommand = true, RunCommand = true, CreateCommand = true, SendFile = true }

--- A new ClientToken: 128 random bits as a UUID-shaped string (ASCII, 36 chars).
function M.new_token()
  local h = core.random_hex(16)
  return ("%s-%s-%s-%s-%s"):format(h:sub(1, 8), h:sub(9, 12), h:sub(13, 16), h:sub(17, 20), h:sub(21, 32))
end

--- Runs attempt(n) until it succeeds, fails for good, or the policy gives up.
-- env: { clock =, sleep =, random =, log = function(event) end, skew = function(err) -> bool }
-- Returns the result, or nil and the last error with `attempts` and `history`.
function M.run(policy, env, attempt)
  local history = {}
  local start = env.clock()
  local max_attempts = policy and policy.attempts or 1
  local skew_retried = false
  local n = 0
  while true do
    n = n + 1
    local res, err = attempt(n)
    if res ~= nil then return res end
    history[#history + 1] = tostring(err and err.code or "unknown")
    local again = false
    local wait = 0
    if err and err.code == "InvalidTimeStamp.Expired" and not skew_retried and env.skew and env.skew(err) then
      skew_retried = true
      again = true
      max_attempts = math_max(max_attempts, n + 1)
    elseif policy and n < max_attempts and M.is_retryable(err) then
      wait = M.delay(policy, n, err, env.random)
      again = env.clock() - start + wait <= policy.max_time
    end
    if not again then
      if type(err) == "table" then
        err.attempts = n
        err.history = history
      end
      return nil, err
    end
    if env.log then
      env.log { event = "retry", attempt = n, delay = wait, code = err and err.code,
                http_status = err and err.http_status, request_id = err and err.request_id }
    end
    if wait > 0 then env.sleep(wait) end
  end
end

return M
