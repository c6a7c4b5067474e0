-- Helpers for the frequency specs: a naive, obviously-correct UTC date
-- converter (independent of ecs.zoneinfo) and formatting of result lists.
local M = {}

local function leap(y)
  return (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
end

local MDAYS = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

--- "YYYY-MM-DD HH:MM:SS" (UTC) -> epoch seconds, by counting days.
function M.utc(s)
  local y, mo, d, h, mi, se = s:match("^(%d+)-(%d+)-(%d+) (%d+):(%d+):(%d+)$")
  assert(y, "bad date " .. s)
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  local days = 0
  if y >= 1970 then
    for yy = 1970, y - 1 do days = days + (leap(yy) and 366 or 365) end
  else
    for yy = y, 1969 do days = days - (leap(yy) and 366 or 365) end
  end
  for m = 1, mo - 1 do days = days + MDAYS[m] + ((m == 2 and leap(y)) and 1 or 0) end
  days = days + d - 1
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(se)
end

--- epoch seconds -> "YYYY-MM-DD HH:MM:SS" (UTC), by counting days.
function M.fmt(t)
  local days = math.floor(t / 86400)
  local sod = t - days * 86400
  local y = 1970
  while days < 0 do y = y - 1; days = days + (leap(y) and 366 or 365) end
  while days >= (leap(y) and 366 or 365) do days = days - (leap(y) and 366 or 365); y = y + 1 end
  local mo = 1
  while true do
    local dim = MDAYS[mo] + ((mo == 2 and leap(y)) and 1 or 0)
    if days < dim then break end
    days = days - dim
    mo = mo + 1
  end
  return string.format("%04d-%02d-%02d %02d:%02d:%02d", y, mo, days + 1,
    math.floor(sod / 3600), math.floor(sod % 3600 / 60), sod % 60)
end

function M.fmt_list(list)
  local out = {}
  for i, t in ipairs(list) do out[i] = M.fmt(t) end
  return out
end

--- Park-Miller generator: the same sequence on every Lua version.
function M.rng(seed)
  local state = seed
  return function(n)
    state = (state * 16807) % 2147483647
    return state % n
  end
end

return M
