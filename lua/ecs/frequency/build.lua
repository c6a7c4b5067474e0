-- Builders: Lua values in, exact Frequency strings out. Misuse raises.
local parse = require "ecs.frequency.parse"
local zi = require "ecs.zoneinfo"

local type, tostring, tonumber, ipairs, pairs, error = type, tostring, tonumber, ipairs, pairs, error
local floor, abs = math.floor, math.abs
local format, match, upper, lower, find = string.format, string.match, string.upper, string.lower, string.find
local concat = table.concat

local M = {}

-- messages echo the caller's values: a 10 MB value must not make a 10 MB error
local MAX_MESSAGE = 300

local function raise(fname, msg)
  if #msg > MAX_MESSAGE then msg = msg:sub(1, MAX_MESSAGE) .. "... (" .. #msg .. " bytes)" end
  error("frequency." .. fname .. ": " .. msg, 3)
end

-- whole numbers within 2^53 (format's %d fails beyond what an integer holds)
local function is_int(v)
  return type(v) == "number" and v == floor(v) and v > -2 ^ 53 and v < 2 ^ 53
end

-- Offset seconds -> "GMT+H:MM".
local function gmt_name(off)
  local sign = off < 0 and "-" or "+"
  off = abs(off)
  return format("GMT%s%d:%02d", sign, floor(off / 3600), floor(off % 3600 / 60))
end

--- Normalize a zone argument to a service zone string: nil stays nil; a
--- number is hours east of UTC (8, -7, 5.5); "Z"/"UTC" -> "UTC";
--- "GMT+08:00", "UTC+8", "+08:00" -> "GMT+8:00"; IANA names unchanged.
function M.zone(z, fname)
  fname = fname or "zone"
  if z == nil then return nil end
  if type(z) == "number" then
    local off = z * 3600
    if off ~= floor(off) or off % 60 ~= 0 or abs(z) > 14 then
      raise(fname, "zone offset " .. tostring(z) .. " must be whole minutes of hours within -14..14")
    end
    if off == 0 then return "UTC" end
    return gmt_name(off)
  end
  if type(z) ~= "string" then raise(fname, "zone must be a string or a number of hours, got " .. type(z)) end
  if z == "Z" or z == "UTC" then return "UTC" end
  local sign, h, mm = match(z, "^[GU][MT][TC]([+-])(%d%d?):?(%d?%d?)$")
  if not sign then sign, h, mm = match(z, "^([+-])(%d%d?):?(%d?%d?)$") end
  if sign then
    if mm == "" then mm = "00" end
    if #mm ~= 2 then raise(fname, "zone '" .. z .. "' has malformed minutes") end
    local off = tonumber(h) * 3600 + tonumber(mm) * 60
    if sign == "-" then off = -off end
    if off == 0 then return "UTC" end
    z = gmt_name(off)
  end
  local kind, err = zi.classify(z)
  if not kind then raise(fname, err) end
  if kind == "gmt" then
    local ok, gerr = zi.parse_gmt(z)
    if not ok then raise(fname, gerr) end
  end
  return z
end

local UNIT_NAMES = { s = "s", sec = "s", second = "s", seconds = "s",
  m = "m", min = "m", minute = "m", minutes = "m",
  h = "h", hour = "h", hours = "h", d = "d", day = "d", days = "d" }

function M.rate(n, unit)
  if not is_int(n) or n < 1 then raise("rate", "value must be a positive whole number, got " .. tostring(n)) end
  local u = type(unit) == "string" and UNIT_NAMES[lower(unit)]
  if not u then raise("rate", "unit must be 's', 'm', 'h' or 'd' (or seconds/minutes/hours/days), got "
    .. tostring(unit)) end
  local expr = format("rate(%d%s)", n, u)
  local p, err = parse.parse(expr)
  if not p then raise("rate", err) end
  return expr
end

local function wall_text(w)
  return zi.format_wall(w)
end

-- Wall time (seconds) from a date table {year, month, day, hour, min|minute, sec|second}.
local function wall_of_table(t)
  local y, mo, d = t.year, t.month, t.day
  local h, mi, s = t.hour or 0, t.minute or t.min or 0, t.second or t.sec or 0
  -- a fixed list: a field left out (nil) must be reported too
  local fields = { "year", y, "month", mo, "day", d, "hour", h, "minute", mi, "second", s } -- 12 slots
  for i = 1, 11, 2 do
    local v = fields[i + 1]
    if not is_int(v) then
      raise("at", "date table field '" .. fields[i] .. "' must be a whole number, got " .. tostring(v))
    end
  end
  if mo < 1 or mo > 12 then raise("at", "month " .. mo .. " is out of range 1-12") end
  local dim = zi.days_in_month(y, mo)
  if d < 1 or d > dim then raise("at", "day " .. d .. " is out of range 1-" .. dim) end
  if h < 0 or h > 23 then raise("at", "hour " .. h .. " is out of range 0-23") end
  if mi < 0 or mi > 59 then raise("at", "minute " .. mi .. " is out of range 0-59") end
  if s < 0 or s > 59 then raise("at", "second " .. s .. " is out of range 0-59") end
  return zi.wall_seconds(y, mo, d, h, mi, s)
end

--- at(time, zone, opts): time is epoch seconds (formatted in `zone`, UTC if
--- none), a date table, or "YYYY-MM-DD HH:MM:SS" / "YYYY-MM-DDTHH:MM:SS"
--- with an optional "Z" or "+HH:MM" suffix (which then gives the zone).
function M.at(time, zone, opts)
  zone = M.zone(zone, "at")
  local w
  if type(time) == "number" then
    if not is_int(time) then raise("at", "epoch seconds must be a whole number, got " .. tostring(time)) end
    local z, err = zi.get(zone or "UTC", { dir = opts and opts.zoneinfo })
    if not z then raise("at", err) end
    w = z:to_wall(time)
  elseif type(time) == "table" then
    w = wall_of_table(time)
  elseif type(time) == "string" then
    local y, mo, d, h, mi, s, rest = match(time, "^(%d%d%d%d)%-(%d%d)%-(%d%d)[T ](%d%d):(%d%d):(%d%d)(.*)$")
    if not y then
      raise("at", "time string '" .. time .. "' must look like 2022-06-06 13:15:30 (optionally with Z or +08:00)")
    end
    if rest ~= "" then
      local suffix = M.zone(rest, "at")
      if zone and zone ~= suffix then
        raise("at", "time string '" .. time .. "' carries zone " .. suffix .. " but zone " .. zone .. " was also given")
      end
      zone = suffix
    end
    w = wall_of_table({ year = tonumber(y), month = tonumber(mo), day = tonumber(d),
      hour = tonumber(h), minute = tonumber(mi), second = tonumber(s) })
  else
    raise("at", "time must be epoch seconds, a date table or a string, got " .. type(time))
  end
  local expr = "at(" .. wall_text(w) .. (zone and (" " .. zone) or "") .. ")"
  local p, err = parse.parse(expr)
  if not p then raise("at", err) end
  return expr
end

-- One cron field from a Lua value: number, string, or a list of them.
-- longest field string taken (a field of the service's syntax is far shorter)
local MAX_FIELD = 1024

local function field_text(fname, key, v)
  local tv = type(v)
  if tv == "number" then
    if not is_int(v) then raise(fname, key .. " must be a whole number, got " .. tostring(v)) end
    return format("%d", v)
  elseif tv == "string" then
    if #v > MAX_FIELD then raise(fname, key .. ": " .. #v .. " bytes, longer than any cron field") end
    if v == "" or find(v, "%s") then raise(fname, key .. " must be a non-empty string without spaces") end
    if key == "weekday" or key == "month" then
      local u = upper(v)
      local name3 = u:sub(1, 3)
      local names = key == "weekday" and parse.DAYS or parse.MONTHS
      if #u > 3 and names[name3] and find(u, "^%a+$") then return name3 end
      return u
    end
    return upper(v)
  elseif tv == "table" then
    if #v == 0 then raise(fname, key .. " list is empty") end
    local parts = {}
    for i, x in ipairs(v) do
      if type(x) == "table" then raise(fname, key .. " list item " .. i .. " must be a number or a string") end
      parts[i] = field_text(fname, key, x)
    end
    return concat(parts, ",")
  end
  raise(fname, key .. " must be a number, a string or a list, got " .. tv)
end

local CRON_KEYS = { second = true, minute = true, hour = true, day = true, day_of_month = true,
  month = true, weekday = true, day_of_week = true, year = true }

local function cron_from_table(fname, t)
  for k in pairs(t) do
    if not CRON_KEYS[k] then raise(fname, "unknown cron field '" .. tostring(k) .. "'") end
  end
  local day = t.day
  if t.day_of_month ~= nil then
    if day ~= nil then raise(fname, "give day or day_of_month, not both") end
    day = t.day_of_month
  end
  local wd = t.weekday
  if t.day_of_week ~= nil then
    if wd ~= nil then raise(fname, "give weekday or day_of_week, not both") end
    wd = t.day_of_week
  end
  if day ~= nil and wd ~= nil then
    raise(fname, "give a day of the month or a day of the week, not both (the other must be '?')")
  end
  -- Time fields finer than the coarsest one given default to 0, coarser ones to '*'.
  local s, mi, h = t.second, t.minute, t.hour
  local zero_below = h ~= nil and 3 or (mi ~= nil and 2 or 1)
  if s == nil then s = 0 end
  if mi == nil then mi = zero_below >= 3 and 0 or "*" end
  if h == nil then h = "*" end
  local parts = {
    field_text(fname, "second", s), field_text(fname, "minute", mi), field_text(fname, "hour", h),
    day ~= nil and field_text(fname, "day", day) or (wd ~= nil and "?" or "*"),
    t.month ~= nil and field_text(fname, "month", t.month) or "*",
    wd ~= nil and field_text(fname, "weekday", wd) or "?",
  }
  if t.year ~= nil then parts[7] = field_text(fname, "year", t.year) end
  return concat(parts, " ")
end

--- cron(spec, zone): spec is a 6/7-field string or a table of fields.
function M.cron(spec, zone, fname)
  fname = fname or "cron"
  zone = M.zone(zone, fname)
  local text
  if type(spec) == "string" then
    if #spec > 4096 then raise(fname, "spec of " .. #spec .. " bytes: longer than any schedule (at most 4096)") end
    text = spec
  elseif type(spec) == "table" then
    text = cron_from_table(fname, spec)
  else
    raise(fname, "spec must be a string or a table of fields, got " .. type(spec))
  end
  local p, err = parse.parse(text)
  if not p then raise(fname, err) end
  if p.kind ~= "cron" then raise(fname, "'" .. text .. "' is not a cron expression") end
  if not zone then return text end
  if p.zone then raise(fname, "'" .. text .. "' already has a zone; give it once") end
  local expr = text .. " " .. zone
  p, err = parse.parse(expr)
  if not p then raise(fname, err) end
  return expr
end

local function opts_table(fname, o, allowed)
  if type(o) ~= "table" then raise(fname, "expected a table of options, got " .. type(o)) end
  for k in pairs(o) do
    if not allowed[k] then raise(fname, "unknown option '" .. tostring(k) .. "'") end
  end
  return o
end

local DAILY = { hour = true, minute = true, second = true, zone = true }
function M.daily(o)
  opts_table("daily", o, DAILY)
  if o.hour == nil then raise("daily", "hour is required") end
  return M.cron({ second = o.second or 0, minute = o.minute or 0, hour = o.hour }, o.zone, "daily")
end

local WEEKLY = { day = true, hour = true, minute = true, second = true, zone = true }
function M.weekly(o)
  opts_table("weekly", o, WEEKLY)
  if o.day == nil then raise("weekly", "day is required (a name such as 'monday' or 1-7, 1 = Monday)") end
  if o.hour == nil then raise("weekly", "hour is required") end
  return M.cron({ second = o.second or 0, minute = o.minute or 0, hour = o.hour, weekday = o.day },
    o.zone, "weekly")
end

local MONTHLY = { day = true, hour = true, minute = true, second = true, zone = true }
function M.monthly(o)
  opts_table("monthly", o, MONTHLY)
  if o.day == nil then raise("monthly", "day is required (1-31, 'L', 'LW' or e.g. '15W')") end
  if o.hour == nil then raise("monthly", "hour is required") end
  return M.cron({ second = o.second or 0, minute = o.minute or 0, hour = o.hour, day = o.day },
    o.zone, "monthly")
end

return M
