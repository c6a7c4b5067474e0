-- ecs.frequency: build, validate, preview and describe Cloud Assistant
-- schedules (the Frequency parameter of InvokeCommand / RunCommand).
-- See docs/schedules.md.
local parse = require "ecs.frequency.parse"
local cron = require "ecs.frequency.cron"
local schedule = require "ecs.frequency.schedule"
local describe_mod = require "ecs.frequency.describe"
local build = require "ecs.frequency.build"
local zi = require "ecs.zoneinfo"

local type, tostring, tonumber, pairs, ipairs, error = type, tostring, tonumber, pairs, ipairs, error
local floor, max = math.floor, math.max
local os_time = os.time
local format = string.format

local M = {}

--- Zone a cron without zone runs in when the instance's zone is not given:
--- the service documents periodic runs as set against UTC+08:00 on the
--- instance's system clock.
M.DEFAULT_INSTANCE_ZONE = "GMT+8:00"
--- Agent versions needed by rate, at, the year field and a zone.
M.MIN_AGENT = { linux = "2.2.3.282", windows = "2.1.3.282" }
--- Smallest cron interval the service accepts, in seconds.
M.MIN_CRON_INTERVAL = 10
--- Largest `count` next() accepts.
M.MAX_COUNT = 100000

M.rate, M.at, M.cron = build.rate, build.at, build.cron
M.daily, M.weekly, M.monthly = build.daily, build.weekly, build.monthly

--- Longest expression parsed: far above any schedule the service takes, and
--- short enough that an error quoting it stays readable.
M.MAX_EXPRESSION = 4096

-- parse.parse with a size check first (a 10 MB string would be quoted whole)
local function parse_expr(expr)
  if type(expr) == "string" and #expr > M.MAX_EXPRESSION then
    return nil, ("expression of %d bytes: longer than any schedule (at most %d)"):format(#expr, M.MAX_EXPRESSION)
  end
  return parse.parse(expr)
end

-- 9999-12-31T23:59:59Z: the largest epoch a time option may take
local MAX_EPOCH = 253402300799

local function check_opts(fname, opts, allowed)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error("frequency." .. fname .. ": opts must be a table, got " .. type(opts), 3)
  end
  for k, v in pairs(opts) do
    local want = allowed[k]
    if not want then error("frequency." .. fname .. ": unknown option '" .. tostring(k) .. "'", 3) end
    if type(v) ~= want then
      error("frequency." .. fname .. ": option '" .. k .. "' must be a " .. want .. ", got " .. type(v), 3)
    end
    -- NaN, the infinities and times past year 9999 have no schedule (next() looped forever on them)
    if want == "number" and not (v >= -MAX_EPOCH and v <= MAX_EPOCH) then
      error("frequency." .. fname .. ": option '" .. k .. "' must be a finite number within +-" .. MAX_EPOCH
        .. ", got " .. tostring(v), 3)
    end
  end
  return opts
end

local function whole(fname, name, v, min)
  if v ~= nil and (v ~= floor(v) or v < min) then
    error("frequency." .. fname .. ": option '" .. name .. "' must be a whole number >= " .. min
      .. ", got " .. tostring(v), 3)
  end
end

local function dir_opts(opts)
  return { dir = opts.zoneinfo }
end

local function features_of(p)
  local f = {}
  if p.kind == "rate" then f[#f + 1] = "rate" end
  if p.kind == "at" then f[#f + 1] = "at" end
  if p.kind == "cron" and p.has_year then f[#f + 1] = "year" end
  if p.zone then f[#f + 1] = "zone" end
  return f
end

local function stamp(t)
  return os.date("!%Y-%m-%d %H:%M:%S UTC", t)
end

local function validate_rate(p, info, opts)
  info.interval = p.seconds
  if opts.timeout and p.seconds <= opts.timeout then
    return nil, format("rate: interval %d%s (%d s) must be longer than Timeout (%d s)",
      p.value, p.unit, p.seconds, opts.timeout)
  end
  return true
end

local function validate_at(p, info, opts, now)
  local z, err = zi.get(p.zone or "UTC", dir_opts(opts))
  if not z then return nil, err end
  local t, status = schedule.at_time(p.wall, z)
  info.time = t
  local where = zi.format_wall(p.wall) .. " " .. (p.zone or "UTC")
  if status == "gap" then
    info.warnings[#info.warnings + 1] = "at: " .. where .. " does not exist (clocks jump forward); it runs at "
      .. stamp(t) .. ", the instant of the jump"
  elseif status == "overlap" then
    info.warnings[#info.warnings + 1] = "at: " .. where .. " occurs twice (clocks turn back); it runs at its first "
      .. "occurrence, " .. stamp(t)
  end
  if t <= now then
    return nil, "at: " .. where .. " (" .. stamp(t) .. ") is not in the future (now is " .. stamp(now)
      .. "); it would never run"
  end
  return true
end

local function validate_cron(p, info, opts, now)
  local zone
  if p.zone then
    local err
    zone, err = zi.get(p.zone, dir_opts(opts))
    if not zone then return nil, err end
  end
  local c = p.fields
  -- earliest year any zone can be in now
  local cur_year = zi.civil_from_days(floor((now - 12 * 3600) / 86400))
  if c.year then
    for _, it in ipairs(c.year.items) do
      if it.kind ~= "all" and it.a < cur_year then
        return nil, "year: '" .. it.a .. "' is before the current year " .. cur_year
          .. " (the year field accepts the current year to 2099)"
      end
    end
  end
  local cc = cron.compile(c)
  local gap, ndays = cron.min_interval(cc, cur_year)
  if ndays == 0 then
    return nil, "cron: never fires: no date matches day-of-month '" .. c.dom.text .. "', month '"
      .. c.month.text .. "', day-of-week '" .. c.dow.text .. "'"
      .. (c.year and (", year '" .. c.year.text .. "'") or "")
  end
  if not cron.next_wall(cc, now - 14 * 3600, cron.last_year(cc, cur_year)) then
    return nil, "cron: never fires after " .. stamp(now) .. ": every matching time is in the past"
  end
  info.min_interval = gap
  local floor_s = max(M.MIN_CRON_INTERVAL, opts.timeout or 0)
  if gap and gap < M.MIN_CRON_INTERVAL then
    return nil, format("cron: fires %d s apart at the closest; the minimum interval is %d s",
      gap, M.MIN_CRON_INTERVAL)
  end
  if gap and opts.timeout and gap < opts.timeout then
    return nil, format("cron: fires %d s apart at the closest, shorter than Timeout (%d s); "
      .. "the interval must not be shorter than Timeout", gap, opts.timeout)
  end
  local zname = p.zone or opts.instance_zone
  if gap and zname then
    local z = zone or zi.get(zname, dir_opts(opts))
    local rule = z and z.rule
    local shift = rule and rule.start and (rule.dst_off - rule.std_off)
    if shift and gap - shift < floor_s then
      info.warnings[#info.warnings + 1] = format("cron: when clocks jump forward in %s two runs can come up to "
        .. "%d s closer than the wall-clock interval of %d s, below the %d s limit", zname, shift, gap, floor_s)
    end
  end
  return true
end

local VALIDATE_OPTS = { timeout = "number", now = "number", zoneinfo = "string", instance_zone = "string" }

--- validate(expr, opts) -> true, info | nil, err
function M.validate(expr, opts)
  opts = check_opts("validate", opts, VALIDATE_OPTS)
  whole("validate", "timeout", opts.timeout, 0)
  local p, err = parse_expr(expr)
  if not p then return nil, err end
  local features = features_of(p)
  local info = { kind = p.kind, zone = p.zone, features = features, warnings = {} }
  if #features > 0 then
    info.min_agent = { linux = M.MIN_AGENT.linux, windows = M.MIN_AGENT.windows }
  end
  local now = opts.now or os_time()
  local ok
  if p.kind == "rate" then
    ok, err = validate_rate(p, info, opts)
  elseif p.kind == "at" then
    ok, err = validate_at(p, info, opts, now)
  else
    ok, err = validate_cron(p, info, opts, now)
  end
  if not ok then return nil, err end
  return true, info
end

local NEXT_OPTS = { from = "number", count = "number", instance_zone = "string", zoneinfo = "string",
  start = "number" }

--- next(expr, opts) -> list of epoch seconds | nil, err
function M.next(expr, opts)
  opts = check_opts("next", opts, NEXT_OPTS)
  whole("next", "count", opts.count, 1)
  whole("next", "from", opts.from, -math.huge)
  local from = opts.from or os_time()
  local count = opts.count or 1
  if count > M.MAX_COUNT then
    error("frequency.next: option 'count' must be at most " .. M.MAX_COUNT .. ", got " .. count, 2)
  end
  local p, err = parse_expr(expr)
  if not p then return nil, err end
  if p.kind == "rate" then
    return schedule.rate_next(p.seconds, opts.start or from, from, count)
  end
  local zname = p.zone or (p.kind == "at" and "UTC") or opts.instance_zone or M.DEFAULT_INSTANCE_ZONE
  local z, zerr = zi.get(zname, dir_opts(opts))
  if not z then
    if not p.zone and p.kind == "cron" then return nil, "instance_zone: " .. zerr end
    return nil, zerr
  end
  if p.kind == "at" then
    local t = schedule.at_time(p.wall, z)
    if t > from then return { t } end
    return {}
  end
  return schedule.cron_next(cron.compile(p.fields), z, from, count)
end

--- describe(expr) -> string | nil, err
function M.describe(expr)
  local p, err = parse_expr(expr)
  if not p then return nil, err end
  return describe_mod.describe(p, "instance time zone")
end

local CHECK_OPTS = { default_timeout = "number", instance_zone = "string", now = "number", zoneinfo = "string",
                     in_place = "boolean" }

-- check_request runs before every InvokeCommand/RunCommand with a Frequency,
-- and validating a cron costs about 150 us of Lua (parse, compile, minimum
-- interval over a year): remember a successful rate or cron validation per
-- expression, for the same Timeout, zone options and minute of `now` (a
-- cron's only time-dependent inputs are the current year and whether a firing
-- is still ahead), at most CACHE_MAX expressions. at() and failures are not remembered
-- (they depend on the exact second). The info table is shared between hits.
local CACHE_MAX = 64
local cache, cached = {}, 0

local function validate_cached(freq, timeout, opts)
  local now = opts.now or os_time()
  local minute = floor(now / 60)
  local hit = cache[freq]
  if hit and hit.minute == minute and hit.timeout == timeout and hit.zone == opts.instance_zone
      and hit.dir == opts.zoneinfo then
    return true, hit.info
  end
  local ok, info = M.validate(freq, { timeout = timeout, now = now, zoneinfo = opts.zoneinfo,
    instance_zone = opts.instance_zone })
  if ok and info.kind ~= "at" then
    if cached >= CACHE_MAX then cache, cached = {}, 0 end
    if not cache[freq] then cached = cached + 1 end
    cache[freq] = { minute = minute, timeout = timeout, zone = opts.instance_zone, dir = opts.zoneinfo, info = info }
  end
  return ok, info
end

--- check_request(params, opts) -> new_params, warnings, info | nil, err, code
--- Used before sending InvokeCommand / RunCommand. `err` starts with the
--- parameter's name; `code` is the service's code for it (InvalidParam.Frequency,
--- MissingParam.Frequency) or InvalidParam.Timeout / InvalidParam.Timed.
function M.check_request(params, opts)
  if type(params) ~= "table" then
    error("frequency.check_request: params must be a table, got " .. type(params), 2)
  end
  opts = check_opts("check_request", opts, CHECK_OPTS)
  local out, warnings = params, {}
  if not opts.in_place then -- in_place: the caller hands over a copy of its own
    out = {}
    for k, v in pairs(params) do out[k] = v end
  end
  local timed = out.Timed
  if timed ~= nil then
    out.Timed = nil
    if timed == true or timed == "true" then
      if out.RepeatMode == nil then
        out.RepeatMode = "Period"
      elseif out.RepeatMode ~= "Period" then
        warnings[#warnings + 1] = "Timed = true is deprecated and ignored; RepeatMode '" .. tostring(out.RepeatMode)
          .. "' is kept"
      end
    elseif timed ~= false and timed ~= "false" then
      return nil, "Timed: must be a boolean (deprecated; use RepeatMode), got " .. tostring(timed), "InvalidParam.Timed"
    end
  end
  local freq = out.Frequency
  if freq == nil then
    if out.RepeatMode == "Period" then
      return nil, "Frequency: required when RepeatMode is 'Period'" .. (timed ~= nil and " (or Timed = true)" or ""),
        "MissingParam.Frequency"
    end
    return out, warnings
  end
  if type(freq) ~= "string" then
    return nil, "Frequency: must be a string, got " .. type(freq), "InvalidParam.Frequency"
  end
  if out.RepeatMode ~= nil and out.RepeatMode ~= "Period" then
    warnings[#warnings + 1] = "RepeatMode '" .. tostring(out.RepeatMode) .. "' is overridden: the service runs a "
      .. "request with Frequency as RepeatMode 'Period'"
  end
  local timeout = out.Timeout
  if timeout ~= nil then
    timeout = tonumber(timeout)
    if not timeout or timeout ~= floor(timeout) or timeout < 10 then
      return nil, "Timeout: must be a whole number of seconds >= 10, got " .. tostring(out.Timeout),
        "InvalidParam.Timeout"
    end
  else
    timeout = opts.default_timeout
  end
  local ok, info = validate_cached(freq, timeout, opts)
  if not ok then return nil, "Frequency: " .. info, "InvalidParam.Frequency" end
  if info.kind == "cron" and not info.zone then
    local iz, izerr = true, nil
    if opts.instance_zone then iz, izerr = zi.get(opts.instance_zone, dir_opts(opts)) end
    if not iz then warnings[#warnings + 1] = "instance_zone: " .. izerr end
    if opts.instance_zone then
      warnings[#warnings + 1] = "Frequency '" .. freq .. "' has no time zone: it runs in the instance's system "
        .. "time zone (" .. opts.instance_zone .. ")"
    else
      warnings[#warnings + 1] = "Frequency '" .. freq .. "' has no time zone: it runs in each instance's system "
        .. "time zone (the service's basis is UTC+08:00); add a zone such as Asia/Shanghai to be explicit"
    end
  end
  for _, w in ipairs(info.warnings) do warnings[#warnings + 1] = "Frequency: " .. w end
  return out, warnings, info
end

--- Zone object for a zone string (exposed for tools and tests).
function M.zone(name, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("frequency.zone: opts must be a table, got " .. type(opts), 2)
  end
  return zi.get(name, opts and { dir = opts.zoneinfo })
end

return M
