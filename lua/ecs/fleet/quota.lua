--- The daily invocation quota, counted per region and UTC day on the client
-- (the service allows a fixed number of command runs a day in a region; the
-- original InvokeCommand page gives 500). Configure with
-- ecs.new { quota = { daily_invocations = N } }.
local type, error, tostring, math_floor = type, error, tostring, math.floor
local os_date = os.date

local M = {}

M.DEFAULT_DAILY = 500

--- limit(client) -> invocations allowed a day per region. Raises on a bad config value.
function M.limit(client)
  local q = client.config.quota
  local n = q and q.daily_invocations
  if n == nil then return M.DEFAULT_DAILY end
  if type(n) ~= "number" or n ~= n or n < 0 or n ~= math_floor(n) then
    error("ecs: bad option 'quota.daily_invocations': expected a whole number >= 0, got " .. tostring(n), 3)
  end
  return n
end

local function day(client)
  return os_date("!%Y-%m-%d", math_floor(client.clock()))
end

local function key(client, region)
  return tostring(region) .. " " .. day(client)
end

-- The count lives on the client; inside nginx with `ngx = { shared_dict = }`
-- it lives in the shared dict, so every worker sees the same count.
local function shared_counter(client)
  local o = client.config.ngx
  local ngx = rawget(_G, "ngx")
  if not (o and o.shared_dict) or type(ngx) ~= "table" or type(ngx.get_phase) ~= "function" then return nil end
  local c = client._fleet_quota_shared
  if not c then
    c = require("ecs.ngx.shared").counter { shared_dict = o.shared_dict, clock = client.clock,
                                            prefix = "ecs:fleet-invocations:" }
    client._fleet_quota_shared = c
  end
  return c
end

local function used_count(client, region)
  local sc = shared_counter(client)
  if sc then return sc.get(region) end
  local s = client._fleet_quota
  return s and s[key(client, region)] or 0
end

local function add_count(client, region, n)
  local sc = shared_counter(client)
  if sc then return sc.add(region, n) end
  local s = client._fleet_quota
  if not s then
    s = {}
    client._fleet_quota = s
  end
  local k = key(client, region)
  s[k] = (s[k] or 0) + n
end

--- status(client, region) -> { region =, day =, used =, limit =, remaining = }
function M.status(client, region)
  local used = used_count(client, region)
  local limit = M.limit(client)
  local remaining = limit - used
  if remaining < 0 then remaining = 0 end
  return { region = region, day = day(client), used = used, limit = limit, remaining = remaining }
end

--- check(client, region, n) -> true | nil, err when n more invocations would cross the quota.
function M.check(client, region, n)
  local s = M.status(client, region)
  if s.used + n > s.limit then
    return nil, require("ecs.errors").new {
      code = "Fleet.QuotaExceeded", retryable = false, region = region, used = s.used, limit = s.limit,
      needed = n,
      message = ("this run needs %d invocation%s in %s but only %d of the daily quota of %d remain%s "
        .. "(used %d on %s UTC); nothing was sent"):format(n, n == 1 and "" or "s", tostring(region),
        s.remaining, s.limit, s.remaining == 1 and "s" or "", s.used, s.day),
    }
  end
  return true
end

--- add(client, region, n): count n invocations made.
function M.add(client, region, n)
  add_count(client, region, n)
end

--- exhaust(client, region): the service said the quota is spent (Invocation.ExceedQuota).
function M.exhaust(client, region)
  local used, limit = used_count(client, region), M.limit(client)
  if used < limit then add_count(client, region, limit - used) end
end

return M
