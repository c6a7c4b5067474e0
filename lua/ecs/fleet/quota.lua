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

local function key(client, region)
  return tostring(region) .. " " .. os_date("!%Y-%m-%d", math_floor(client.clock()))
end

local function store(client)
  local s = client._fleet_quota
  if not s then
    s = {}
    client._fleet_quota = s
  end
  return s
end

--- status(client, region) -> { region =, day =, used =, limit =, remaining = }
function M.status(client, region)
  local k = key(client, region)
  local used = store(client)[k] or 0
  local limit = M.limit(client)
  local remaining = limit - used
  if remaining < 0 then remaining = 0 end
  return { region = region, day = k:match("(%S+)$"), used = used, limit = limit, remaining = remaining }
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
  local s = store(client)
  local k = key(client, region)
  s[k] = (s[k] or 0) + n
end

--- exhaust(client, region): the service said the quota is spent (Invocation.ExceedQuota).
function M.exhaust(client, region)
  local s = store(client)
  local k = key(client, region)
  local limit = M.limit(client)
  if (s[k] or 0) < limit then s[k] = limit end
end

return M
