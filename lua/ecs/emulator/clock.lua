-- Two clocks: the wall clock (request timestamps, the Date header; it may
-- run a fixed skew away from the clock function, to test clock-skew
-- correction) and the simulated clock that drives the instance lifecycle
-- (starts at the wall clock, faster by time_scale, moved forward by
-- advance()).
local floor, type, error = math.floor, type, error
local os_date, os_time = os.date, os.time

local M = {}

local function default_now()
  local ok, socket = pcall(require, "socket")
  if ok and type(socket) == "table" and socket.gettime then
    return socket.gettime
  end
  return os_time
end

local Clock = {}
Clock.__index = Clock

-- now: function returning epoch seconds; time_scale: number > 0; skew:
-- seconds the wall clock runs ahead of now() (negative: behind).
function M.new(now, time_scale, skew)
  local fn = now or default_now()
  local t0 = fn()
  if type(t0) ~= "number" then
    error("ecs.emulator: clock must return epoch seconds (a number)", 3)
  end
  skew = skew or 0
  return setmetatable({ fn = fn, scale = time_scale or 1, t0 = t0, sim0 = t0 + skew, offset = 0, skew = skew },
    Clock)
end

-- The clock function itself (no skew): for measuring durations.
function Clock:real()
  return self.fn()
end

function Clock:wall()
  return self.fn() + self.skew
end

function Clock:sim()
  return self.sim0 + (self.fn() - self.t0) * self.scale + self.offset
end

-- Change the wall clock's skew; the simulated clock is not affected.
function Clock:set_skew(seconds)
  self.skew = seconds
end

function Clock:advance(seconds)
  self.offset = self.offset + seconds
end

local DAYS = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" }
local MONTHS = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }

-- RFC 1123 date in GMT, locale independent.
function M.http_date(t)
  local d = os_date("!*t", floor(t))
  return string.format("%s, %02d %s %04d %02d:%02d:%02d GMT",
    DAYS[d.wday], d.day, MONTHS[d.month], d.year, d.hour, d.min, d.sec)
end

-- ISO 8601 UTC, second precision, as the service prints times.
function M.iso(t)
  return os_date("!%Y-%m-%dT%H:%M:%SZ", floor(t))
end

-- UTC calendar day of an epoch time, as "YYYY-MM-DD".
function M.utc_day(t)
  return os_date("!%Y-%m-%d", floor(t))
end

local function days_from_civil(y, m, d)
  -- days since 1970-01-01 (proleptic Gregorian)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- Epoch seconds from yyyy-MM-ddTHH:mm:ssZ (optional fraction), or nil.
function M.parse_iso(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, se = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)%.?%d*Z$")
  if not y then return nil end
  y, mo, d, h, mi, se = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(se)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or se > 60 then return nil end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se
end

return M
