-- Randomized property test (fixed seed): over a bounded window, the times
-- frequency.next returns are exactly the times a brute-force scan of every
-- second finds. The scan knows the expression only through the sets the
-- generator chose, and applies the documented DST rule directly: a second
-- fires when its wall time matches and was never shown before, or when the
-- clock jumped over a matching wall time.
local frequency = require "ecs.frequency"
local zoneinfo = require "ecs.zoneinfo"
local support = require "40_frequency.support"

local floor = math.floor
local rng = support.rng(20261127)

local MDAYS = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
local function leap(y) return (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0 end
local function dim_of(y, m) return MDAYS[m] + ((m == 2 and leap(y)) and 1 or 0) end

-- day number -> y, m, d, weekday (1 = Monday); 1970-01-01 was a Thursday.
local civil_cache = {}
local function civil(days)
  local c = civil_cache[days]
  if c then return c[1], c[2], c[3], c[4] end
  local y, m, d = support.fmt(days * 86400):match("^(%d+)-(%d+)-(%d+)")
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  local wd = (days + 3) % 7 + 1
  civil_cache[days] = { y, m, d, wd }
  return y, m, d, wd
end

local function wday_of(y, m, d)
  return (floor(support.utc(string.format("%04d-%02d-%02d 00:00:00", y, m, d)) / 86400) + 3) % 7 + 1
end

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

local function range(a, b, step)
  local out = {}
  for v = a, b, step or 1 do out[#out + 1] = v end
  return out
end

local function pick(list) return list[rng(#list) + 1] end

-- A time field: returns text and the set of values it means.
local function time_field(min, max, dense)
  local kind = rng(dense and 5 or 4)
  if kind == 0 then
    local a = min + rng(max - min + 1)
    return tostring(a), set_of({ a })
  elseif kind == 1 then
    local a, b = min + rng(max - min + 1), min + rng(max - min + 1)
    if a > b then a, b = b, a end
    return a .. "," .. b, set_of({ a, b })
  elseif kind == 2 then
    local a = min + rng(max - min + 1)
    local b = a + rng(max - a + 1)
    return a .. "-" .. b, set_of(range(a, b))
  elseif kind == 3 then
    local a, k = min + rng(10), 7 + rng(20)
    if a > max then a = max end
    return a .. "/" .. k, set_of(range(a, max, k))
  end
  return "*", set_of(range(min, max))
end

local NAMES = { "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN" }

-- Day part: returns dom text, dow text, predicate(y, m, d, wd).
local function day_part()
  local kind = rng(11)
  if kind <= 2 then
    return "*", "?", function() return true end
  elseif kind == 3 then
    local s = set_of({ 1 + rng(31), 1 + rng(31), 28 + rng(4) })
    local list = {}
    for v = 1, 31 do if s[v] then list[#list + 1] = v end end
    return table.concat(list, ","), "?", function(_, _, d) return s[d] == true end
  elseif kind == 4 then
    return "L", "?", function(y, m, d) return d == dim_of(y, m) end
  elseif kind == 5 then
    return "LW", "?", function(y, m, d, wd)
      if wd > 5 then return false end
      for x = d + 1, dim_of(y, m) do
        if wday_of(y, m, x) <= 5 then return false end
      end
      return true
    end
  elseif kind == 6 then
    local n = pick({ 1, 2, 15, 28, 29, 30, 31, 1 + rng(31) })
    return n .. "W", "?", function(y, m, d, wd)
      local dim = dim_of(y, m)
      if n > dim or wd > 5 then return false end
      -- the weekday of this month closest to day n
      for dist = 0, 3 do
        for _, x in ipairs({ n - dist, n + dist }) do
          if x >= 1 and x <= dim and wday_of(y, m, x) <= 5 then return x == d end
        end
      end
      return false
    end
  elseif kind == 7 then
    local a = 1 + rng(7)
    local b = a + rng(8 - a)
    local text = rng(2) == 0 and (a .. "-" .. b) or (NAMES[a] .. "-" .. NAMES[b])
    return "?", text, function(_, _, _, wd) return wd >= a and wd <= b end
  elseif kind == 8 then
    local w = 1 + rng(7)
    return "?", w .. "L", function(y, m, d, wd) return wd == w and d + 7 > dim_of(y, m) end
  elseif kind == 9 then
    local w, k = 1 + rng(7), 1 + rng(5)
    return "?", w .. "#" .. k, function(_, _, d, wd) return wd == w and floor((d - 1) / 7) + 1 == k end
  end
  local s = set_of({ 1 + rng(7), 1 + rng(7) })
  local list = {}
  for v = 1, 7 do if s[v] then list[#list + 1] = NAMES[v] end end
  return "?", table.concat(list, ","), function(_, _, _, wd) return s[wd] == true end
end

local function month_part()
  if rng(3) > 0 then return "*", set_of(range(1, 12)) end
  local a = 1 + rng(12)
  local b = a + rng(13 - a)
  return a .. "-" .. b, set_of(range(a, b))
end

local ZONES = { "UTC", "GMT+5:30", "GMT-7:00", "America/Los_Angeles", "Europe/Berlin", "Australia/Lord_Howe" }

local function gen()
  local c = {}
  local sec_text, min_text, hour_text
  sec_text, c.sec = time_field(0, 59, false)
  min_text, c.min = time_field(0, 59, false)
  hour_text, c.hour = time_field(0, 23, true)
  local dom, dow
  dom, dow, c.day = day_part()
  local month_text
  month_text, c.month = month_part()
  c.zone = pick(ZONES)
  c.expr = table.concat({ sec_text, min_text, hour_text, dom, month_text, dow, c.zone }, " ")
  c.sparse = not (dom == "*" or (dow ~= "?" and dow:find("[-,]")))
  return c
end

local function day_ok(c, days)
  c.days = c.days or {}
  local v = c.days[days]
  if v == nil then
    local y, m, d, wd = civil(days)
    v = c.month[m] == true and c.day(y, m, d, wd)
    c.days[days] = v
  end
  return v
end

local function minute_matches(c, wm)
  local days = floor(wm / 86400)
  local sod = wm - days * 86400
  return c.min[floor(sod % 3600 / 60)] == true and c.hour[floor(sod / 3600)] == true and day_ok(c, days)
end

local function wall_matches(c, w)
  local days = floor(w / 86400)
  local sod = w - days * 86400
  return c.sec[sod % 60] == true and c.min[floor(sod % 3600 / 60)] == true
    and c.hour[floor(sod / 3600)] == true and day_ok(c, days)
end

-- Brute force over UTC seconds [t0, t1]; the scan starts 4 hours earlier so
-- that wall times shown before t0 count as seen.
local function brute(c, zone, t0, t1)
  local out = {}
  local t = t0 - 4 * 3600
  t = t - t % 60
  local hw = nil
  while t <= t1 do
    local start, stop, info = zone:segment(t)
    local off = info.off
    if t % 86400 == 0 and hw and start < t and stop > t + 86400 and t + 86400 <= t1
      and not day_ok(c, floor((t + off) / 86400)) and not day_ok(c, floor((t + off + 86399) / 86400)) then
      -- a whole UTC day without a transition and without a matching wall day
      if t + off + 86399 > hw then hw = t + off + 86399 end
      t = t + 86400
    else
    local wm = t + off -- wall time at the start of this UTC minute
    if hw and wm > hw + 1 then
      -- clocks jumped over (hw, wm): fires at t if any skipped wall time matches
      for w = hw + 1, wm - 1 do
        if wall_matches(c, w) then
          if t >= t0 then out[#out + 1] = t end
          break
        end
      end
    end
    for s = 0, minute_matches(c, wm) and 59 or -1 do
      local w = wm + s
      if (not hw or w > hw) and wall_matches(c, w) then
        local ft = t + s
        if ft >= t0 and ft <= t1 and out[#out] ~= ft then out[#out + 1] = ft end
      end
    end
    if not hw or wm + 59 > hw then hw = wm + 59 end
    t = t + 60
    end
  end
  return out
end

local START = support.utc("2026-01-01 00:00:00")
local SPAN = 5 * 365 * 86400

local DST_ZONES = { "America/Los_Angeles", "Europe/Berlin", "Australia/Lord_Howe" }

-- Dense expressions around a DST change: every hour, many minutes.
local function gen_dst()
  local c = {}
  local sec_text, min_text
  sec_text, c.sec = time_field(0, 59, false)
  local k = pick({ 1, 5, 7, 10, 15, 20, 30 })
  min_text, c.min = "*/" .. k, set_of(range(0, 59, k))
  c.hour = set_of(range(0, 23))
  c.month = set_of(range(1, 12))
  c.day = function() return true end
  c.zone = pick(DST_ZONES)
  c.expr = table.concat({ sec_text, min_text, "*", "*", "*", "?", c.zone }, " ")
  return c
end

describe("frequency.next property (seeded random expressions, brute force)", function()
  for case = 1, 36 do
    local c = gen()
    it(case .. ": " .. c.expr, function()
      local zone = assert(zoneinfo.get(c.zone))
      local from = START + rng(SPAN)
      if not zone:is_fixed() and rng(2) == 0 then
        -- start the window shortly before a DST change
        local _, stop = zone:segment(from)
        from = stop - rng(2 * 86400)
      end
      local window = c.sparse and 150 * 86400 or 3 * 86400
      local expected = brute(c, zone, from + 1, from + window)
      local got = assert(frequency.next(c.expr, { from = from, count = #expected + 1 }))
      local inside = {}
      for i = 1, #got do
        if got[i] <= from + window then inside[#inside + 1] = got[i] end
      end
      assert.same(support.fmt_list(expected), support.fmt_list(inside))
      if #got > #inside then
        assert.is_true(got[#inside + 1] > from + window)
      end
      for i = 2, #got do assert.is_true(got[i] > got[i - 1]) end
    end)
  end

  for case = 1, 16 do
    local c = gen_dst()
    it("DST " .. case .. ": " .. c.expr, function()
      local zone = assert(zoneinfo.get(c.zone))
      local _, stop = zone:segment(START + rng(SPAN))
      local from = stop - 3600 - rng(4 * 3600)
      local expected = brute(c, zone, from + 1, from + 8 * 3600)
      local got = assert(frequency.next(c.expr, { from = from, count = #expected + 1 }))
      local inside = {}
      for i = 1, #got do
        if got[i] <= from + 8 * 3600 then inside[#inside + 1] = got[i] end
      end
      assert.same(support.fmt_list(expected), support.fmt_list(inside))
    end)
  end
end)
