-- Time zones for schedules: IANA zones read from the system's TZif files
-- (v1, v2, v3, including the POSIX TZ footer used past the last stored
-- transition), fixed GMT offsets written the way Cloud Assistant accepts
-- them (GMT+8:00, GMT-7:00) and UTC. Also the civil-calendar arithmetic the
-- schedule code shares (proleptic Gregorian, days since 1970-01-01).
local floor, huge = math.floor, math.huge
local byte, sub, find, match, format = string.byte, string.sub, string.find, string.match, string.format
local open, tonumber, type, setmetatable = io.open, tonumber, type, setmetatable

local M = {}

M.DEFAULT_DIR = "/usr/share/zoneinfo"

---------------------------------------------------------------------------
-- calendar
---------------------------------------------------------------------------

--- Days since 1970-01-01 of a proleptic Gregorian date.
function M.days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = m > 2 and m - 3 or m + 9
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

--- Inverse of days_from_civil: year, month, day.
function M.civil_from_days(z)
  z = z + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m, d
end

--- ISO weekday of a day number: 1 = Monday .. 7 = Sunday.
function M.weekday(days)
  return (days + 3) % 7 + 1
end

function M.is_leap(y)
  return (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
end

local MDAYS = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
function M.days_in_month(y, m)
  if m == 2 and M.is_leap(y) then return 29 end
  return MDAYS[m]
end

--- Seconds since the epoch of a wall-clock date taken as if it were UTC.
function M.wall_seconds(y, mo, d, h, mi, s)
  return M.days_from_civil(y, mo, d) * 86400 + (h or 0) * 3600 + (mi or 0) * 60 + (s or 0)
end

--- Broken-down fields of wall-clock seconds: y, mo, d, h, mi, s, weekday.
function M.wall_fields(w)
  local days = floor(w / 86400)
  local sod = w - days * 86400
  local y, mo, d = M.civil_from_days(days)
  return y, mo, d, floor(sod / 3600), floor(sod % 3600 / 60), sod % 60, M.weekday(days)
end

--- "YYYY-MM-DD HH:MM:SS" of wall-clock seconds.
function M.format_wall(w)
  local y, mo, d, h, mi, s = M.wall_fields(w)
  return format("%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, s)
end

---------------------------------------------------------------------------
-- POSIX TZ strings (the TZif footer), e.g. "PST8PDT,M3.2.0,M11.1.0"
---------------------------------------------------------------------------

-- "[+-]hh[:mm[:ss]]" at position i; returns seconds and the next position.
local function posix_hms(s, i, allow_big)
  local sign, h, j = match(s, "^([+-]?)(%d+)()", i)
  if not h then return nil end
  local v = tonumber(h) * 3600
  local mm, j2 = match(s, "^:(%d%d?)()", j)
  if mm then
    v = v + tonumber(mm) * 60
    j = j2
    local ss, j3 = match(s, "^:(%d%d?)()", j)
    if ss then v = v + tonumber(ss); j = j3 end
  end
  if not allow_big and tonumber(h) > 24 then return nil end
  if sign == "-" then v = -v end
  return v, j
end

local function posix_name(s, i)
  if sub(s, i, i) == "<" then
    local name, j = match(s, "^<([%w+-]+)>()", i)
    return name, j
  end
  return match(s, "^(%a%a%a+)()", i)
end

local function posix_date(s, i)
  local r = {}
  local mth, w, d, j = match(s, "^M(%d+)%.(%d)%.(%d)()", i)
  if mth then
    r.kind, r.month, r.week, r.wday = "M", tonumber(mth), tonumber(w), tonumber(d)
    if r.month < 1 or r.month > 12 or r.week < 1 or r.week > 5 or r.wday > 6 then return nil end
  else
    local n
    n, j = match(s, "^J(%d+)()", i)
    if n then
      r.kind, r.day = "J", tonumber(n)
      if r.day < 1 or r.day > 365 then return nil end
    else
      n, j = match(s, "^(%d+)()", i)
      if not n then return nil end
      r.kind, r.day = "N", tonumber(n)
      if r.day > 365 then return nil end
    end
  end
  r.time = 7200
  if sub(s, j, j) == "/" then
    local t, k = posix_hms(s, j + 1, true)
    if not t then return nil end
    r.time, j = t, k
  end
  return r, j
end

--- Parse a POSIX TZ string; returns a rule table or nil, err.
function M.parse_posix(s)
  if type(s) ~= "string" or s == "" then return nil, "empty TZ string" end
  local rule = {}
  local name, i = posix_name(s, 1)
  if not name then return nil, "bad standard-time name in TZ string '" .. s .. "'" end
  local off
  off, i = posix_hms(s, i)
  if not off then return nil, "bad offset in TZ string '" .. s .. "'" end
  rule.std_abbr, rule.std_off = name, -off
  if i > #s then return rule end
  name, i = posix_name(s, i)
  if not name then return nil, "bad daylight-time name in TZ string '" .. s .. "'" end
  rule.dst_abbr = name
  rule.dst_off = rule.std_off + 3600
  if i <= #s and sub(s, i, i) ~= "," then
    off, i = posix_hms(s, i)
    if not off then return nil, "bad daylight offset in TZ string '" .. s .. "'" end
    rule.dst_off = -off
  end
  if sub(s, i, i) ~= "," then
    -- no rule given: the POSIX default for the US, as glibc applies it
    rule.start = { kind = "M", month = 3, week = 2, wday = 0, time = 7200 }
    rule["end"] = { kind = "M", month = 11, week = 1, wday = 0, time = 7200 }
    if i <= #s then return nil, "trailing text in TZ string '" .. s .. "'" end
    return rule
  end
  rule.start, i = posix_date(s, i + 1)
  if not rule.start or sub(s, i, i) ~= "," then return nil, "bad start rule in TZ string '" .. s .. "'" end
  rule["end"], i = posix_date(s, i + 1)
  if not rule["end"] or i <= #s then return nil, "bad end rule in TZ string '" .. s .. "'" end
  return rule
end

local function rule_day(y, r)
  if r.kind == "J" then
    local d = M.days_from_civil(y, 1, 1) + r.day - 1
    if r.day >= 60 and M.is_leap(y) then d = d + 1 end
    return d
  elseif r.kind == "N" then
    return M.days_from_civil(y, 1, 1) + r.day
  end
  local first = M.days_from_civil(y, r.month, 1)
  local wd0 = (first + 4) % 7 -- 0 = Sunday
  local d = first + (r.wday - wd0) % 7 + (r.week - 1) * 7
  local last = first + M.days_in_month(y, r.month) - 1
  while d > last do d = d - 7 end
  return d
end

--- Transitions of a POSIX rule in year y (UTC): sorted list of { t, off, isdst, abbr }.
function M.rule_transitions(rule, y)
  if not rule.start then return {} end
  local s = rule_day(y, rule.start) * 86400 + rule.start.time - rule.std_off
  local e = rule_day(y, rule["end"]) * 86400 + rule["end"].time - rule.dst_off
  local a = { t = s, off = rule.dst_off, isdst = true, abbr = rule.dst_abbr }
  local b = { t = e, off = rule.std_off, isdst = false, abbr = rule.std_abbr }
  if b.t < a.t then a, b = b, a end
  return { a, b }
end

---------------------------------------------------------------------------
-- zone objects
---------------------------------------------------------------------------

-- 9999-12-31T23:59:59Z: times beyond it have no calendar here (and 1e300 looped)
local MAX_TIME = 253402300799

local Zone = {}
Zone.__index = Zone

function Zone:__tostring()
  return "zone(" .. self.name .. ")"
end

-- Transition list (explicit ones, then rule ones) around UTC time t:
-- returns start, stop, info where info = { off, isdst, abbr }.
function Zone:segment(t)
  if type(t) ~= "number" or not (t >= -MAX_TIME and t <= MAX_TIME) then
    error("zone: time must be a number of epoch seconds within +-" .. MAX_TIME .. ", got "
      .. (type(t) == "number" and tostring(t) or type(t)), 3)
  end
  local times, n = self.times, #self.times
  if n == 0 or t >= times[n] then
    local rule = self.rule
    local base_t = n > 0 and times[n] or -huge
    local base = n > 0 and self.infos[n] or self.first
    if rule and not rule.start then
      base = { off = rule.std_off, isdst = false, abbr = rule.std_abbr }
    end
    if not rule or not rule.start then return base_t, huge, base end
    local y = M.civil_from_days(floor(t / 86400))
    local start, info, stop = base_t, base, huge
    for yy = y - 1, y + 1 do
      local list = M.rule_transitions(rule, yy)
      for k = 1, #list do
        local tr = list[k]
        if tr.t > base_t then
          if tr.t <= t then
            if tr.t >= start then start, info = tr.t, tr end
          elseif tr.t < stop then
            stop = tr.t
          end
        end
      end
    end
    return start, stop, info
  end
  if t < times[1] then return -huge, times[1], self.first end
  local lo, hi = 1, n
  while hi - lo > 1 do
    local mid = floor((lo + hi) / 2)
    if times[mid] <= t then lo = mid else hi = mid end
  end
  return times[lo], times[lo + 1], self.infos[lo]
end

--- UTC offset (seconds east), isdst, abbreviation in force at UTC time t.
function Zone:offset(t)
  local _, _, info = self:segment(t)
  return info.off, info.isdst, info.abbr
end

--- Wall-clock seconds of UTC time t.
function Zone:to_wall(t)
  return t + self:offset(t)
end

--- UTC time of wall-clock seconds w, by the schedule rule: a wall time that
-- occurs twice maps to its first occurrence ("overlap"); one that does not
-- occur (skipped by a forward jump) maps to the instant of the jump ("gap").
-- Returns t, status ("ok" | "overlap" | "gap").
function Zone:from_wall(w)
  if type(w) ~= "number" or not (w >= -MAX_TIME and w <= MAX_TIME) then
    error("zone:from_wall: wall time must be a finite number of seconds, got "
      .. (type(w) == "number" and tostring(w) or type(w)), 2)
  end
  local t = w - 2 * 86400
  local best, count, gap
  local prev_off
  while t < w + 2 * 86400 do
    local start, stop, info = self:segment(t)
    local cand = w - info.off
    if cand >= start and cand < stop then
      count = (count or 0) + 1
      if not best or cand < best then best = cand end
    end
    if prev_off and start > -huge and info.off > prev_off and w >= start + prev_off and w < start + info.off then
      gap = gap or start
    end
    prev_off = info.off
    if stop == huge then break end
    t = stop
  end
  if best then return best, count > 1 and "overlap" or "ok" end
  return gap, "gap"
end

--- True when the zone never changes its offset.
function Zone:is_fixed()
  return self.fixed == true
end

local function fixed_zone(name, off, abbr)
  local info = { off = off, isdst = false, abbr = abbr or name }
  return setmetatable({ name = name, times = {}, infos = {}, first = info, fixed = true }, Zone)
end

---------------------------------------------------------------------------
-- TZif
---------------------------------------------------------------------------

local function be32(s, i)
  local a, b, c, d = byte(s, i, i + 3)
  local v = ((a * 256 + b) * 256 + c) * 256 + d
  if a >= 128 then v = v - 4294967296 end
  return v
end

local function be64(s, i)
  local hi = be32(s, i)
  local a, b, c, d = byte(s, i + 4, i + 7)
  return hi * 4294967296 + (((a * 256 + b) * 256 + c) * 256 + d)
end

local function read_header(s, i)
  if #s < i + 43 or sub(s, i, i + 3) ~= "TZif" then return nil end
  local h = { version = sub(s, i + 4, i + 4) }
  h.isutcnt, h.isstdcnt = be32(s, i + 20), be32(s, i + 24)
  h.leapcnt, h.timecnt = be32(s, i + 28), be32(s, i + 32)
  h.typecnt, h.charcnt = be32(s, i + 36), be32(s, i + 40)
  return h
end

local function block_size(h, tsize)
  return h.timecnt * tsize + h.timecnt + h.typecnt * 6 + h.charcnt
    + h.leapcnt * (tsize + 4) + h.isstdcnt + h.isutcnt
end

--- Parse TZif data (a string). Returns a zone or nil, err.
function M.parse_tzif(data, name)
  name = type(name) == "string" and name or "?"
  if type(data) ~= "string" then return nil, "zone '" .. tostring(name) .. "': TZif data must be a string" end
  local h = read_header(data, 1)
  if not h then return nil, "zone '" .. name .. "': not a TZif file" end
  local i, tsize, read_t = 45, 4, be32
  if h.version ~= "\0" then
    local v2 = 45 + block_size(h, 4)
    h = read_header(data, v2)
    if not h then return nil, "zone '" .. name .. "': truncated TZif v2+ header" end
    i, tsize, read_t = v2 + 44, 8, be64
  end
  if h.typecnt < 1 then return nil, "zone '" .. name .. "': TZif file has no time types" end
  if h.leapcnt > 0 then
    return nil, "zone '" .. name .. "': TZif file counts leap seconds (a right/ zone); use the plain zone name"
  end
  if #data < i + block_size(h, tsize) - 1 then return nil, "zone '" .. name .. "': truncated TZif file" end
  local data_start = i
  local times, idx = {}, {}
  for k = 1, h.timecnt do
    times[k] = read_t(data, i + (k - 1) * tsize)
  end
  i = i + h.timecnt * tsize
  for k = 1, h.timecnt do idx[k] = byte(data, i + k - 1) end
  i = i + h.timecnt
  local types = {}
  local chars_at = i + h.typecnt * 6
  for k = 1, h.typecnt do
    local p = i + (k - 1) * 6
    local ai = byte(data, p + 5)
    local e = find(data, "\0", chars_at + ai, true) or (chars_at + h.charcnt)
    types[k] = { off = be32(data, p), isdst = byte(data, p + 4) == 1, abbr = sub(data, chars_at + ai, e - 1) }
  end
  local infos = {}
  for k = 1, h.timecnt do
    local ty = types[idx[k] + 1]
    if not ty then return nil, "zone '" .. name .. "': TZif transition refers to a missing time type" end
    infos[k] = ty
  end
  local zone = setmetatable({ name = name, times = times, infos = infos, first = types[1] }, Zone)
  if tsize == 8 then
    local footer = match(data, "^\n([^\n]*)\n", data_start + block_size(h, 8))
    if footer and footer ~= "" then
      local rule, err = M.parse_posix(footer)
      if not rule then return nil, "zone '" .. name .. "': " .. err end
      zone.rule = rule
    end
  end
  zone.fixed = #times == 0 and not (zone.rule and zone.rule.start)
  return zone
end

---------------------------------------------------------------------------
-- names
---------------------------------------------------------------------------

local cache = {}

--- Forget zones read so far (after the zoneinfo files changed).
function M.clear_cache()
  cache = {}
end

--- Offset in seconds of a "GMT+H:MM" name, or nil, err.
function M.parse_gmt(name)
  if type(name) ~= "string" then return nil, "zone: must be a non-empty string" end
  local sign, h, mm = match(name, "^GMT([+-])(%d%d?):(%d%d)$")
  if not sign then
    return nil, "zone: '" .. name .. "' is not a GMT offset of the form GMT+H:MM or GMT-H:MM (e.g. GMT+8:00)"
  end
  if #h == 2 and sub(h, 1, 1) == "0" then
    return nil, "zone: '" .. name .. "' has a leading zero in the hour; write GMT" .. sign
      .. tonumber(h) .. ":" .. mm .. " (the service rejects GMT" .. sign .. h .. ":" .. mm .. ")"
  end
  local hv, mv = tonumber(h), tonumber(mm)
  if hv > 14 then return nil, "zone: '" .. name .. "' hour " .. hv .. " is out of range 0-14" end
  if mv > 59 then return nil, "zone: '" .. name .. "' minute " .. mm .. " is out of range 00-59" end
  local off = hv * 3600 + mv * 60
  if sign == "-" then off = -off end
  return off
end

--- Classify a zone string as the service does: "utc", "gmt", "iana", or nil, err.
-- longer than any zone name (the longest IANA names have about 30 characters)
local MAX_NAME = 255

function M.classify(name)
  if type(name) ~= "string" or name == "" then return nil, "zone: must be a non-empty string" end
  if #name > MAX_NAME then return nil, ("zone: a %d-byte name is not a time zone name"):format(#name) end
  if name == "UTC" then return "utc" end
  if sub(name, 1, 3) == "GMT" and find(name, "[+-]") then return "gmt" end
  if find(name, "/", 1, true) then
    if not match(name, "^[%a][%w_+-]*/[%w_+/-]*[%w_]$") or find(name, "//", 1, true) then
      return nil, "zone: '" .. name .. "' is not a valid IANA time zone name"
    end
    return "iana"
  end
  if find(name, "[+-]%d") then
    return nil, "zone: '" .. name .. "' is not accepted; write an offset as GMT+H:MM (e.g. GMT+8:00)"
  end
  return nil, "zone: '" .. name .. "' is not accepted; use an IANA name such as Asia/Shanghai, "
    .. "a GMT offset such as GMT+8:00, or UTC (the only abbreviation accepted)"
end

--- Zone object for a service zone string: "UTC", "GMT+8:00", or an IANA
-- name read from opts.dir (default /usr/share/zoneinfo). Returns zone or nil, err.
function M.get(name, opts)
  if opts ~= nil and type(opts) ~= "table" then error("zoneinfo.get: opts must be a table, got " .. type(opts), 2) end
  if opts and opts.dir ~= nil and type(opts.dir) ~= "string" then
    error("zoneinfo.get: option 'dir' must be a string, got " .. type(opts.dir), 2)
  end
  local kind, err = M.classify(name)
  if not kind then return nil, err end
  if kind == "utc" then return fixed_zone("UTC", 0, "UTC") end
  if kind == "gmt" then
    local off, gerr = M.parse_gmt(name)
    if not off then return nil, gerr end
    return fixed_zone(name, off, name)
  end
  local dir = (opts and opts.dir) or M.DEFAULT_DIR
  local key = dir .. "\0" .. name
  local z = cache[key]
  if z then return z end
  local f = open(dir .. "/" .. name, "rb")
  if not f then
    local probe = open(dir .. "/UTC", "rb")
    if probe then
      probe:close()
      return nil, "zone: '" .. name .. "' is not a known IANA time zone (no such file in " .. dir .. ")"
    end
    if #dir > 300 then dir = dir:sub(1, 300) .. "..." end
    return nil, "zone: cannot read '" .. name .. "': the zoneinfo directory " .. dir
      .. " is missing or unreadable (install the tzdata package or set the zoneinfo directory)"
  end
  local data = f:read("*a")
  f:close()
  z, err = M.parse_tzif(data or "", name)
  if not z then return nil, err end
  cache[key] = z
  return z
end

--- Zone with a fixed offset in seconds east of UTC.
function M.fixed(off, name)
  if type(off) ~= "number" or off ~= floor(off) or off == huge or off == -huge then
    error("zoneinfo.fixed: offset must be whole seconds", 2)
  end
  return fixed_zone(name or format("fixed%+d", off), off)
end

M.Zone = Zone
return M
