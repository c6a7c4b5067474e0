-- Short English reading of a parsed Frequency expression.
local concat, format = table.concat, string.format

local M = {}

local MONTH_NAMES = { "January", "February", "March", "April", "May", "June", "July",
  "August", "September", "October", "November", "December" }
local DAY_NAMES = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday" }
local ORD = { "1st", "2nd", "3rd", "4th", "5th" }
local UNIT_WORDS = { s = "second", m = "minute", h = "hour", d = "day" }

local function plural(n, word)
  if n == 1 then return word end
  return n .. " " .. word .. "s"
end

local function join(list)
  if #list <= 1 then return list[1] or "" end
  return concat(list, ", ", 1, #list - 1) .. " and " .. list[#list]
end

-- Value name for a field: month and weekday names, numbers otherwise.
local function vname(key, v)
  if key == "month" then return MONTH_NAMES[v] end
  if key == "dow" then return DAY_NAMES[v] end
  return tostring(v)
end

local FIELD_MIN = { second = 0, minute = 0, hour = 0, dom = 1, month = 1, dow = 1 }

-- Phrase for one list item of field `key` whose unit word is `unit`.
local function item_phrase(key, unit, it)
  local s = it.step
  if it.kind == "all" or (it.kind == "value" and s > 1 and it.a == FIELD_MIN[key]) then
    if s == 1 then return "every " .. unit end
    return "every " .. plural(s, unit)
  elseif it.kind == "value" and s == 1 then
    return vname(key, it.a)
  elseif it.kind == "value" then
    return "every " .. plural(s, unit) .. " from " .. vname(key, it.a)
  elseif s == 1 then
    return vname(key, it.a) .. " through " .. vname(key, it.b)
  end
  return "every " .. plural(s, unit) .. " from " .. vname(key, it.a) .. " through " .. vname(key, it.b)
end

local function is_every(fld)
  return #fld.items == 1 and fld.items[1].kind == "all"
end

local function singles(fld)
  for _, it in ipairs(fld.items) do
    if it.kind ~= "value" or it.step ~= 1 then return false end
  end
  return true
end

-- "at second 0", "every 20 minutes", "at minutes 0, 30", "during hours 9 through 17".
local function clause(key, unit, fld, lead)
  if is_every(fld) then return item_phrase(key, unit, fld.items[1]) end
  local parts = {}
  for _, it in ipairs(fld.items) do parts[#parts + 1] = item_phrase(key, unit, it) end
  local plain = singles(fld)
  local word = unit
  if #fld.list > 1 then word = unit .. "s" end
  if plain or (#parts == 1 and fld.items[1].step == 1) then
    return lead .. " " .. word .. " " .. join(parts)
  end
  return join(parts)
end

local function time_part(f)
  local S, Mi, H = f.second, f.minute, f.hour
  if #S.list == 1 and #Mi.list == 1 and singles(S) and singles(Mi) and singles(H) and #H.list <= 6 then
    local times = {}
    for _, h in ipairs(H.list) do
      times[#times + 1] = format("%02d:%02d:%02d", h, Mi.list[1], S.list[1])
    end
    return "at " .. join(times)
  end
  local parts = { clause("second", "second", S, "at") }
  local mi_every = is_every(Mi) and Mi.items[1].step == 1
  if not (mi_every and is_every(S)) then
    parts[#parts + 1] = clause("minute", "minute", Mi, "at")
  end
  if not is_every(H) or H.items[1].step ~= 1 then
    parts[#parts + 1] = clause("hour", "hour", H, "during")
  elseif not is_every(Mi) then
    parts[#parts + 1] = "every hour"
  end
  return concat(parts, ", ")
end

local function day_part(f)
  local dom, dow = f.dom, f.dow
  local k = dom.kind
  if k == "set" then
    return clause("dom", "day", dom, "on") .. " of the month"
  elseif k == "last" then
    return "on the last day of the month"
  elseif k == "lastweekday" then
    return "on the last weekday (Monday to Friday) of the month"
  elseif k == "weekday" then
    return "on the weekday (Monday to Friday) nearest day " .. dom.day .. " of the month"
  end
  k = dow.kind
  if k == "set" then
    local parts = {}
    for _, it in ipairs(dow.items or { { kind = "value", a = 7, b = 7, step = 1 } }) do
      parts[#parts + 1] = item_phrase("dow", "day", it)
    end
    return "on " .. join(parts)
  elseif k == "last_of" then
    return "on the last " .. DAY_NAMES[dow.wday] .. " of the month"
  elseif k == "nth" then
    return "on the " .. ORD[dow.nth] .. " " .. DAY_NAMES[dow.wday] .. " of the month"
  end
  return "every day"
end

local function list_part(key, unit, fld)
  local parts = {}
  for _, it in ipairs(fld.items) do parts[#parts + 1] = item_phrase(key, unit, it) end
  local text = join(parts)
  if text:sub(1, 6) == "every " then return text end
  return "in " .. text
end

--- Reading of a parsed expression; `zone_note` replaces the zone text for a
--- cron without a zone (e.g. "instance time zone").
function M.describe(p, zone_note)
  if p.kind == "rate" then
    return "every " .. plural(p.value, UNIT_WORDS[p.unit])
  elseif p.kind == "at" then
    local d = p.date
    return format("once at %04d-%02d-%02d %02d:%02d:%02d %s", d.year, d.month, d.day,
      d.hour, d.minute, d.second, p.zone or "UTC")
  end
  local f = p.fields
  local parts = { time_part(f), day_part(f) }
  if not is_every(f.month) or f.month.items[1].step ~= 1 then
    parts[#parts + 1] = list_part("month", "month", f.month)
  end
  if f.year and (not is_every(f.year) or f.year.items[1].step ~= 1) then
    parts[#parts + 1] = list_part("year", "year", f.year)
  end
  local text = concat(parts, ", ")
  if p.zone then return text .. " (" .. p.zone .. ")" end
  if zone_note then return text .. " (" .. zone_note .. ")" end
  return text
end

return M
