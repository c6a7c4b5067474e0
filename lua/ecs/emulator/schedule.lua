-- Basic syntax check of Frequency expressions: rate(...), at(...) and
-- 6/7-field cron with an optional time zone (reference section 6). When the
-- project's ecs.frequency module is present its validate() decides syntax.
local tonumber, ipairs, type, pcall, tostring = tonumber, ipairs, type, pcall, tostring

local M = {}

local UNIT = { s = 1, m = 60, h = 3600, d = 86400 }
local MONTHS = { JAN = 1, FEB = 2, MAR = 3, APR = 4, MAY = 5, JUN = 6, JUL = 7, AUG = 8, SEP = 9, OCT = 10,
  NOV = 11, DEC = 12 }
local DAYS = { MON = 1, TUE = 2, WED = 3, THU = 4, FRI = 5, SAT = 6, SUN = 7 }

local function valid_zone(z)
  if z == "" or z == "UTC" then return true end
  if z:find("^GMT[%+%-]%d%d?:%d%d$") then
    return not z:find("^GMT[%+%-]0%d") or z:find("^GMT[%+%-]0:")
  end
  return z:find("^%a+/[%w_%+%-/]+$") ~= nil
end

local function number(tok, names)
  if names and names[tok:upper()] then return names[tok:upper()] end
  if not tok:find("^%d+$") then return nil end
  if tok:find("^00%d") then return nil end -- at most one leading zero
  return tonumber(tok)
end

-- spec: { lo, hi, names, q (allows ?), L, W, hash }
local function field_ok(text, spec)
  if text == "?" then return spec.q end
  for part in (text .. ","):gmatch("([^,]*),") do
    if part == "" then return false end
    local ok = false
    if part == "*" then ok = true
    elseif part == "L" or part == "LW" then ok = spec.L and (part == "L" or spec.W)
    else
      local base, step = part:match("^([^/]+)/(%d+)$")
      if base then
        local s = tonumber(step)
        if s < 1 then return false end
        if base == "*" then ok = true else part = base end
      end
      if not ok then
        local a, b = part:match("^([^%-]+)%-([^%-]+)$")
        if a then
          local x, y = number(a, spec.names), number(b, spec.names)
          ok = x ~= nil and y ~= nil and x >= spec.lo and y <= spec.hi
        else
          local n, suffix = part:match("^(%w-)([LW]?)$")
          local d, k = part:match("^(%w+)#(%d)$")
          if d then
            local x = number(d, spec.names)
            ok = spec.hash and x ~= nil and x >= spec.lo and x <= spec.hi and tonumber(k) >= 1 and tonumber(k) <= 5
          elseif n and n ~= "" then
            local x = number(n, spec.names)
            ok = x ~= nil and x >= spec.lo and x <= spec.hi
            if suffix == "L" then ok = ok and spec.L end
            if suffix == "W" then ok = ok and spec.W end
          end
        end
      end
    end
    if not ok then return false end
  end
  return true
end

local FIELDS = {
  { name = "seconds", lo = 0, hi = 59 },
  { name = "minutes", lo = 0, hi = 59 },
  { name = "hours", lo = 0, hi = 23 },
  { name = "day-of-month", lo = 1, hi = 31, q = true, L = true, W = true },
  { name = "month", lo = 1, hi = 12, names = MONTHS },
  { name = "day-of-week", lo = 1, hi = 7, names = DAYS, q = true, L = true, hash = true },
  { name = "year", lo = 1970, hi = 2099 },
}

local function check_cron(expr)
  local toks = {}
  for t in expr:gmatch("%S+") do toks[#toks + 1] = t end
  local zone = ""
  if #toks == 7 or #toks == 8 then
    local last = toks[#toks]
    if #toks == 8 or last == "UTC" or last:find("^GMT") or last:find("^%a+/") then
      zone = table.remove(toks)
    end
  end
  if #toks ~= 6 and #toks ~= 7 then
    return false, "a cron expression has 6 or 7 fields (seconds first), got " .. #toks
  end
  if not valid_zone(zone) then return false, "unknown time zone " .. zone end
  for i, t in ipairs(toks) do
    if not field_ok(t, FIELDS[i]) then return false, "bad " .. FIELDS[i].name .. " field '" .. t .. "'" end
  end
  local dom, dow = toks[4], toks[6]
  if dom ~= "?" and dow ~= "?" and dom ~= "*" and dow ~= "*" then
    return false, "day-of-month and day-of-week cannot both be set (use ? in one)"
  end
  local sec = toks[1]
  local step = sec:match("/(%d+)$")
  if sec == "*" or (step and tonumber(step) < 10) then
    return false, "the schedule fires more often than every 10 seconds"
  end
  return true, nil, nil
end

-- Syntax check alone. Returns true, kind, interval (rate, seconds) or
-- false, message.
function M.syntax(expr, timeout)
  if type(expr) ~= "string" or expr == "" then return false, "empty expression" end
  local kind, interval
  local v, u = expr:match("^rate%((%d+)([smhd])%)$")
  if v then
    kind, interval = "rate", tonumber(v) * UNIT[u]
    if interval < 60 or interval > 7 * 86400 then
      return false, "a rate interval must be between 60 seconds and 7 days"
    end
    if timeout and interval <= timeout then
      return false, "a rate interval must be longer than the Timeout"
    end
  elseif expr:find("^rate%(") then
    return false, "rate expressions read rate(<value><s|m|h|d>)"
  elseif expr:find("^at%(") then
    local y, mo, d, h, mi, s, z = expr:match("^at%((%d%d%d%d)%-(%d%d)%-(%d%d) (%d%d):(%d%d):(%d%d)%s*(.-)%)$")
    if not y then return false, "at expressions read at(yyyy-MM-dd HH:mm:ss [zone])" end
    mo, d, h, mi, s = tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(s)
    if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or s > 59 then
      return false, "at(...) holds an impossible date or time"
    end
    if not valid_zone(z) then return false, "unknown time zone " .. z end
    kind = "at"
  else
    local ok, msg = check_cron(expr)
    if not ok then return false, msg end
    kind = "cron"
  end
  return true, kind, interval
end

local ok_freq, frequency = pcall(require, "ecs.frequency")
if not ok_freq or type(frequency) ~= "table" or type(frequency.validate) ~= "function" then frequency = nil end

-- The syntax check, then ecs.frequency's validate (when installed) at the
-- emulator's time `now`. Same returns as syntax().
function M.check(expr, timeout, now)
  local ok, kind, interval = M.syntax(expr, timeout)
  if not ok or not frequency then return ok, kind, interval end
  local called, res, msg = pcall(frequency.validate, expr, { timeout = timeout, now = now and math.floor(now) })
  if not called then return false, tostring(res) end
  if not res then return false, tostring(msg or "invalid expression") end
  return true, kind, interval
end

-- Whether a cron expression carries a year field or a time zone (these
-- need a newer agent, as rate and at do).
function M.needs_new_agent(expr, kind)
  if kind == "rate" or kind == "at" then return true end
  local n = 0
  for _ in expr:gmatch("%S+") do n = n + 1 end
  return n > 6
end

return M
