-- Parse a Frequency expression (rate, at or cron) into a table, or return
-- nil, message naming the field and the rule broken. Zone strings are only
-- checked for form here; frequency.lua resolves them.
local zoneinfo = require "ecs.zoneinfo"

local tonumber, type, ipairs = tonumber, type, ipairs
local find, match, sub, upper, gmatch = string.find, string.match, string.sub, string.upper, string.gmatch

local M = {}

local MONTHS = { JAN = 1, FEB = 2, MAR = 3, APR = 4, MAY = 5, JUN = 6,
  JUL = 7, AUG = 8, SEP = 9, OCT = 10, NOV = 11, DEC = 12 }
local DAYS = { MON = 1, TUE = 2, WED = 3, THU = 4, FRI = 5, SAT = 6, SUN = 7 }

-- Field descriptors, in expression order.
local FIELDS = {
  { key = "second", name = "second", min = 0, max = 59 },
  { key = "minute", name = "minute", min = 0, max = 59 },
  { key = "hour", name = "hour", min = 0, max = 23 },
  { key = "dom", name = "day-of-month", min = 1, max = 31 },
  { key = "month", name = "month", min = 1, max = 12, names = MONTHS, hint = "1-12 or JAN-DEC" },
  { key = "dow", name = "day-of-week", min = 1, max = 7, names = DAYS, hint = "1-7 (1 = Monday)" },
  { key = "year", name = "year", min = 1970, max = 2099 },
}
M.FIELDS = FIELDS
M.MONTHS, M.DAYS = MONTHS, DAYS

local function fail(f, msg)
  return nil, f.name .. ": " .. msg
end

local function range_text(f)
  return f.hint or (f.min .. "-" .. f.max)
end

-- A number or a name of field f; returns value or nil, err.
local function value_of(f, tok)
  if tok == "" then return fail(f, "a value is missing") end
  if find(tok, "^%d+$") then
    if f.key == "year" then
      if #tok ~= 4 then return fail(f, "'" .. tok .. "' must be a four-digit year (" .. range_text(f) .. ")") end
    elseif #tok > 2 then
      if sub(tok, 1, 2) == "00" then
        return fail(f, "'" .. tok .. "' has more than one leading zero "
          .. "(at most one is allowed: '08' is fine, '008' is not)")
      elseif sub(tok, 1, 1) == "0" then
        return fail(f, "'" .. tok .. "' is not valid: a leading zero is allowed only before a single digit (e.g. '08')")
      end
      return fail(f, "'" .. tok .. "' is out of range " .. range_text(f))
    end
    local v = tonumber(tok)
    if v < f.min or v > f.max then return fail(f, "'" .. tok .. "' is out of range " .. range_text(f)) end
    return v
  end
  if f.names then
    local v = f.names[upper(tok)]
    if v then return v end
    return fail(f, "'" .. tok .. "' is not a valid value (" .. range_text(f) .. ")")
  end
  return fail(f, "'" .. tok .. "' is not a number (" .. range_text(f) .. ")")
end

local function step_of(f, tok, item)
  if not find(tok, "^%d+$") then return fail(f, "step in '" .. item .. "' must be a whole number") end
  if #tok > 1 and sub(tok, 1, 2) == "00" then
    return fail(f, "step '" .. tok .. "' has more than one leading zero (at most one is allowed)")
  end
  local v = tonumber(tok)
  local maxstep = f.key == "year" and (f.max - f.min) or f.max
  if v < 1 or v > maxstep then
    return fail(f, "step '" .. tok .. "' in '" .. item .. "' is out of range 1-" .. maxstep)
  end
  return v
end

-- One list item: "*", "v", "a-b", with optional "/step". Returns item table.
local function parse_item(f, item)
  local base, step = match(item, "^([^/]*)/(.*)$")
  if not base then base = item end
  local it = {}
  if base == "*" then
    it.kind, it.a, it.b = "all", f.min, f.max
  elseif base == "" then
    return fail(f, "'" .. item .. "' is missing a value before '/'")
  else
    local a, b = match(base, "^([^-]+)-([^-]+)$")
    if a then
      local va, err = value_of(f, a)
      if not va then return nil, err end
      local vb, err2 = value_of(f, b)
      if not vb then return nil, err2 end
      if vb < va then
        return fail(f, "range '" .. base .. "' runs backwards; write it as a list such as '"
          .. a .. "-" .. f.max .. "," .. f.min .. "-" .. b .. "'")
      end
      it.kind, it.a, it.b = "range", va, vb
    elseif find(base, "-", 1, true) then
      return fail(f, "'" .. base .. "' is not a valid range (a-b)")
    else
      local v, err = value_of(f, base)
      if not v then return nil, err end
      it.kind, it.a, it.b = "value", v, v
      if step then it.b = f.max end
    end
  end
  if step then
    local s, err = step_of(f, step, item)
    if not s then return nil, err end
    it.step = s
  else
    it.step = 1
  end
  it.text = item
  return it
end

-- Generic list field: returns { any = bool, items = {...}, set = {}, list = {} }.
local function parse_list(f, text)
  local fld = { items = {}, set = {}, list = {}, text = text }
  if find(text, ",,", 1, true) or sub(text, 1, 1) == "," or sub(text, -1) == "," then
    return fail(f, "'" .. text .. "' has an empty list item")
  end
  for item in gmatch(text, "[^,]+") do
    local it, err = parse_item(f, item)
    if not it then return nil, err end
    fld.items[#fld.items + 1] = it
    for v = it.a, it.b, it.step do fld.set[v] = true end
  end
  fld.any = #fld.items == 1 and fld.items[1].kind == "all" and fld.items[1].step == 1
  for v = f.min, f.max do
    if fld.set[v] then fld.list[#fld.list + 1] = v end
  end
  return fld
end

local function alone(f, text, what)
  if find(text, ",", 1, true) then
    return fail(f, "'" .. text .. "': " .. what .. " cannot be combined with other values in a list")
  end
  return true
end

local function parse_dom(f, text)
  local u = upper(text)
  if u == "?" then return { kind = "none", text = text } end
  if find(u, "[LW?]") then
    local ok, err = alone(f, text, "'L', 'W' and '?'")
    if not ok then return nil, err end
    if u == "L" then return { kind = "last", text = text } end
    if u == "LW" then return { kind = "lastweekday", text = text } end
    local n = match(u, "^(%d+)W$")
    if n then
      local v, err2 = value_of(f, n)
      if not v then return nil, err2 end
      return { kind = "weekday", day = v, text = text }
    end
    if u == "?" then return { kind = "none", text = text } end
    return fail(f, "'" .. text .. "' is not valid; day-of-month accepts * , - / ? L W "
      .. "(e.g. 15, 1-15, */2, L, LW, 15W)")
  end
  local fld, err = parse_list(f, text)
  if not fld then return nil, err end
  fld.kind = fld.any and "any" or "set"
  return fld
end

local function parse_dow(f, text)
  local u = upper(text)
  if u == "?" then return { kind = "none", text = text } end
  if u == "L" then return { kind = "set", set = { [7] = true }, list = { 7 }, last_alias = true, text = text } end
  if find(u, "#", 1, true) then
    local ok, err = alone(f, text, "'#'")
    if not ok then return nil, err end
    local d, n = match(u, "^([^#]+)#(.*)$")
    local v, err2 = value_of(f, d)
    if not v then return nil, err2 end
    if not find(n, "^[1-5]$") then
      return fail(f, "'" .. text .. "': the week number after '#' must be 1-5")
    end
    return { kind = "nth", wday = v, nth = tonumber(n), text = text }
  end
  if find(u, "L", 1, true) and find(u, "^[%d%a]+L$") and not DAYS[u] then
    local ok, err = alone(f, text, "'L'")
    if not ok then return nil, err end
    local v, err2 = value_of(f, sub(u, 1, -2))
    if not v then return nil, err2 end
    return { kind = "last_of", wday = v, text = text }
  end
  if find(u, "?", 1, true) then return fail(f, "'?' must stand alone") end
  if find(u, "L", 1, true) and not find(u, "%a%a%a") then
    return fail(f, "'" .. text .. "': 'L' cannot be combined with other values in a list")
  end
  local fld, err = parse_list(f, text)
  if not fld then return nil, err end
  fld.kind = fld.any and "any" or "set"
  return fld
end

--- Parse the fields of a cron expression (6 or 7 fields, no zone).
function M.cron_fields(tokens)
  local c = {}
  for i, f in ipairs(FIELDS) do
    local text = tokens[i]
    if text == nil then break end
    local fld, err
    if f.key == "dom" then
      fld, err = parse_dom(f, text)
    elseif f.key == "dow" then
      fld, err = parse_dow(f, text)
    else
      if text == "?" then return nil, f.name .. ": '?' is allowed only in day-of-month and day-of-week" end
      if find(text, "[LW#]") and f.key ~= "month" then
        return nil, f.name .. ": '" .. text .. "' uses a character allowed only in day-of-month or day-of-week"
      end
      fld, err = parse_list(f, text)
    end
    if not fld then return nil, err end
    c[f.key] = fld
  end
  local dom, dow = c.dom, c.dow
  if dom.kind == "none" and dow.kind == "none" then
    return nil, "day-of-month and day-of-week: only one of them may be '?'"
  end
  if dom.kind ~= "any" and dom.kind ~= "none" and dow.kind ~= "none" then
    return nil, "day-of-week: must be '?' when day-of-month is set (day-of-month is '" .. dom.text
      .. "', day-of-week is '" .. dow.text .. "')"
  end
  if dow.kind ~= "any" and dow.kind ~= "none" and dom.kind ~= "none" then
    return nil, "day-of-month: must be '?' when day-of-week is set (day-of-week is '" .. dow.text
      .. "', day-of-month is '" .. dom.text .. "')"
  end
  return c
end

-- The last token is a zone when it starts with a letter (a year never does).
local function looks_like_zone(tok)
  return find(tok, "^%a") ~= nil
end

-- A sixth token that can only be a zone (a 5-field cron followed by a zone).
local function surely_zone(tok)
  return tok == "UTC" or find(tok, "^GMT[+-]") ~= nil or (find(tok, "^%a") ~= nil and find(tok, "/", 1, true) ~= nil)
end

local CRON_SHAPE = "second minute hour day-of-month month day-of-week [year] [zone]"

-- A zone the service accepts: an IANA name, UTC, or a GMT offset without a
-- leading zero in the hour. true, or nil and the reason.
local function check_zone(zone)
  local kind, zerr = zoneinfo.classify(zone)
  if not kind then return nil, zerr end
  if kind == "gmt" then
    local ok, gerr = zoneinfo.parse_gmt(zone)
    if not ok then return nil, gerr end
  end
  return true
end

local function parse_cron(expr)
  local tokens = {}
  for tok in gmatch(expr, "%S+") do tokens[#tokens + 1] = tok end
  local n = #tokens
  local zone
  if n >= 7 and looks_like_zone(tokens[n]) then
    zone = tokens[n]
    tokens[n] = nil
    n = n - 1
  end
  if n == 5 or (n == 6 and surely_zone(tokens[6])) then
    local given = n == 5 and (zone and "5 fields and a zone" or "5 fields") or "5 fields and a zone"
    return nil, "cron: " .. given .. " given; 6 or 7 fields are needed (" .. CRON_SHAPE
      .. "); the seconds field is mandatory, so a 5-field Unix cron such as '*/5 * * * *' is not accepted"
  end
  if n < 6 or n > 7 then
    return nil, "cron: " .. n .. " fields given; 6 or 7 are needed (" .. CRON_SHAPE .. ")"
  end
  local c, err = M.cron_fields(tokens)
  if not c then return nil, err end
  if zone then
    local ok, zerr = check_zone(zone)
    if not ok then return nil, zerr end
  end
  return { kind = "cron", fields = c, zone = zone, has_year = c.year ~= nil, text = expr }
end

local UNITS = { s = 1, m = 60, h = 3600, d = 86400 }
M.UNITS = UNITS

local function parse_rate(expr)
  local body = match(expr, "^rate%((.*)%)$") or ""
  local num, unit = match(body, "^(%d+)([smhd])$")
  if not num then
    if find(body, "^%d+%s+[smhd]$") then
      return nil, "rate: '" .. expr .. "' has a space between the value and the unit; write rate("
        .. match(body, "^(%d+)") .. match(body, "([smhd])$") .. ")"
    end
    return nil, "rate: '" .. expr .. "' must be rate(<value><unit>) with a whole number and a unit "
      .. "s, m, h or d, e.g. rate(5m)"
  end
  if #num > 1 and sub(num, 1, 1) == "0" then
    return nil, "rate: '" .. num .. "' must not have leading zeros"
  end
  local v = tonumber(num)
  local secs = v * UNITS[unit]
  if secs < 60 then
    return nil, "rate: interval " .. num .. unit .. " is " .. secs .. " s, below the minimum of 60 s"
  end
  if secs > 7 * 86400 then
    return nil, "rate: interval " .. num .. unit .. " is longer than the maximum of 7 days"
  end
  return { kind = "rate", value = v, unit = unit, seconds = secs, text = expr }
end

local function parse_at(expr)
  local body = match(expr, "^at%((.*)%)$") or ""
  local y, mo, d, h, mi, s, rest = match(body, "^(%d%d%d%d)%-(%d%d)%-(%d%d) (%d%d):(%d%d):(%d%d)(.*)$")
  if not y then
    return nil, "at: '" .. expr .. "' must be at(yyyy-MM-dd HH:mm:ss [zone]), "
      .. "e.g. at(2022-06-06 13:15:30 Asia/Shanghai)"
  end
  y, mo, d, h, mi, s = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(s)
  if mo < 1 or mo > 12 then return nil, "at: month " .. mo .. " is out of range 01-12" end
  local dim = zoneinfo.days_in_month(y, mo)
  if d < 1 or d > dim then
    return nil, "at: day " .. d .. " is out of range 01-" .. dim .. " for " .. y .. "-" .. (mo < 10 and "0" or "") .. mo
  end
  if h > 23 then return nil, "at: hour " .. h .. " is out of range 00-23" end
  if mi > 59 then return nil, "at: minute " .. mi .. " is out of range 00-59" end
  if s > 59 then return nil, "at: second " .. s .. " is out of range 00-59" end
  local zone
  if rest ~= "" then
    zone = match(rest, "^ (%S+)$")
    if not zone then return nil, "at: expected one space and a time zone after the time, got '" .. rest .. "'" end
    local ok, zerr = check_zone(zone)
    if not ok then return nil, zerr end
  end
  return { kind = "at", wall = zoneinfo.wall_seconds(y, mo, d, h, mi, s), zone = zone, text = expr,
    date = { year = y, month = mo, day = d, hour = h, minute = mi, second = s } }
end

--- Parse an expression. Returns a table (kind = "rate" | "at" | "cron") or nil, err.
function M.parse(expr)
  if type(expr) ~= "string" then return nil, "frequency: expected a string, got " .. type(expr) end
  if expr == "" or find(expr, "^%s*$") then return nil, "frequency: the expression is empty" end
  if find(expr, "^rate%(") then return parse_rate(expr) end
  if find(expr, "^at%(") then return parse_at(expr) end
  local lower = expr:lower()
  if find(lower, "^%s*rate%s*%(") or find(lower, "^%s*at%s*%(") then
    return nil, "frequency: '" .. expr .. "' must start exactly with 'rate(' or 'at(' (lower case, no spaces)"
  end
  if find(expr, "^%s") or find(expr, "%s$") then
    return nil, "cron: '" .. expr .. "' has leading or trailing spaces"
  end
  return parse_cron(expr)
end

return M
