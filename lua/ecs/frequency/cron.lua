-- Cron evaluation on wall-clock time (seconds since 1970-01-01 of the local
-- calendar, no zone): which days match, the next matching wall time, and the
-- shortest distance between two consecutive fire times.
local zi = require "ecs.zoneinfo"

local floor = math.floor
local days_from_civil, civil_from_days = zi.days_from_civil, zi.civil_from_days
local days_in_month, weekday = zi.days_in_month, zi.weekday

local M = {}

-- How far ahead a cron without a year field is searched: the Gregorian
-- calendar repeats every 400 years, so nothing new can appear after that.
M.SEARCH_YEARS = 400

--- Compile parsed cron fields (parse.cron_fields) for evaluation.
function M.compile(c)
  local cc = { c = c, S = c.second.list, Mi = c.minute.list, H = c.hour.list,
    months = c.month.set, cache = {}, ncache = 0 }
  if c.year then
    cc.years = c.year.set
    cc.year_min, cc.year_max = c.year.list[1], c.year.list[#c.year.list]
  end
  return cc
end

-- Sorted list of the matching days of month m of year y (month and year
-- fields not considered here).
local function compute_month_days(c, y, m)
  local dim = days_in_month(y, m)
  local wd1 = weekday(days_from_civil(y, m, 1))
  local dom, dow = c.dom, c.dow
  local out = {}
  local k = dom.kind
  if k == "set" then
    for d = 1, dim do if dom.set[d] then out[#out + 1] = d end end
  elseif k == "last" then
    out[1] = dim
  elseif k == "lastweekday" then
    local wd = (wd1 + dim - 2) % 7 + 1
    out[1] = wd == 6 and dim - 1 or (wd == 7 and dim - 2 or dim)
  elseif k == "weekday" then
    local n = dom.day
    if n <= dim then
      local wd = (wd1 + n - 2) % 7 + 1
      local d = n
      if wd == 6 then
        d = n == 1 and 3 or n - 1
      elseif wd == 7 then
        d = n == dim and n - 2 or n + 1
      end
      out[1] = d
    end
  else
    k = dow.kind
    if k == "set" then
      for d = 1, dim do if dow.set[(wd1 + d - 2) % 7 + 1] then out[#out + 1] = d end end
    elseif k == "last_of" then
      local wd_last = (wd1 + dim - 2) % 7 + 1
      out[1] = dim - (wd_last - dow.wday) % 7
    elseif k == "nth" then
      local d = 1 + (dow.wday - wd1) % 7 + (dow.nth - 1) * 7
      if d <= dim then out[1] = d end
    else
      for d = 1, dim do out[d] = d end
    end
  end
  return out
end

--- Matching days (sorted list) of year y, month m, ignoring the month and year fields.
function M.month_days(cc, y, m)
  local key = y * 12 + m
  local list = cc.cache[key]
  if list then return list end
  if cc.ncache > 2400 then cc.cache, cc.ncache = {}, 0 end
  list = compute_month_days(cc.c, y, m)
  cc.cache[key] = list
  cc.ncache = cc.ncache + 1
  return list
end

--- Last year searched when looking forward from year y.
function M.last_year(cc, y)
  if cc.year_max then return cc.year_max end
  return y + M.SEARCH_YEARS
end

-- Day number of the first matching day on or after y-m-d, or nil past ymax.
local function next_day(cc, y, m, d, ymax)
  while true do
    if y > ymax then return nil end
    if cc.years and not cc.years[y] then
      local ny
      for yy = y + 1, ymax do
        if cc.years[yy] then ny = yy; break end
      end
      if not ny then return nil end
      y, m, d = ny, 1, 1
    elseif not cc.months[m] then
      m, d = m + 1, 1
      if m > 12 then y, m = y + 1, 1 end
    else
      local list = M.month_days(cc, y, m)
      for i = 1, #list do
        if list[i] >= d then return days_from_civil(y, m, list[i]) end
      end
      m, d = m + 1, 1
      if m > 12 then y, m = y + 1, 1 end
    end
  end
end

-- First time of day (seconds) >= sod that matches, or nil.
local function next_tod(cc, sod)
  local S, Mi, H = cc.S, cc.Mi, cc.H
  local h0 = floor(sod / 3600)
  local m0 = floor(sod % 3600 / 60)
  local s0 = sod % 60
  for i = 1, #H do
    local h = H[i]
    if h > h0 then return h * 3600 + Mi[1] * 60 + S[1] end
    if h == h0 then
      for j = 1, #Mi do
        local mi = Mi[j]
        if mi > m0 then return h * 3600 + mi * 60 + S[1] end
        if mi == m0 then
          for k = 1, #S do
            if S[k] >= s0 then return h * 3600 + mi * 60 + S[k] end
          end
        end
      end
    end
  end
  return nil
end

--- First matching wall time >= w0, or nil when none up to the end of year ymax.
function M.next_wall(cc, w0, ymax)
  local day = floor(w0 / 86400)
  local sod = w0 - day * 86400
  while true do
    local y, m, d = civil_from_days(day)
    local nd = next_day(cc, y, m, d, ymax)
    if not nd then return nil end
    if nd ~= day then day, sod = nd, 0 end
    local tod = next_tod(cc, sod)
    if tod then return day * 86400 + tod end
    day, sod = day + 1, 0
  end
end

--- True when wall time w matches the expression.
function M.matches_wall(cc, w)
  local y, m, d, h, mi, s = zi.wall_fields(w)
  local c = cc.c
  if not (c.second.set[s] and c.minute.set[mi] and c.hour.set[h] and cc.months[m]) then return false end
  if cc.years and not cc.years[y] then return false end
  local list = M.month_days(cc, y, m)
  for i = 1, #list do
    if list[i] == d then return true end
  end
  return false
end

local function min_step(list)
  local best
  for i = 2, #list do
    local g = list[i] - list[i - 1]
    if not best or g < best then best = g end
  end
  return best
end

local function min2(a, b)
  if a == nil then return b end
  if b == nil then return a end
  return a < b and a or b
end

--- Shortest wall-clock distance in seconds between two consecutive fire
-- times, over the years from_year .. (the year field's last year, or
-- from_year + 28: every weekday/leap-year combination of 1901-2099 occurs
-- in 28 years). Returns gap (nil when it fires at most once) and the number
-- of matching days seen (0: never fires in that span).
function M.min_interval(cc, from_year)
  local S, Mi, H = cc.S, cc.Mi, cc.H
  local gap
  local ds, dm, dh = min_step(S), min_step(Mi), min_step(H)
  local sspan = S[#S] - S[1]
  local msspan = (Mi[#Mi] * 60 + S[#S]) - (Mi[1] * 60 + S[1])
  if ds then gap = ds end
  if dm then gap = min2(gap, dm * 60 - sspan) end
  if dh then gap = min2(gap, dh * 3600 - msspan) end
  local tspan = (H[#H] - H[1]) * 3600 + msspan
  local y_end = cc.year_max or (from_year + 28)
  local prev, dmin, ndays = nil, nil, 0
  for y = from_year, y_end do
    if not cc.years or cc.years[y] then
      for m = 1, 12 do
        if cc.months[m] then
          local list = M.month_days(cc, y, m)
          for i = 1, #list do
            local dn = days_from_civil(y, m, list[i])
            ndays = ndays + 1
            if prev then
              local delta = dn - prev
              if not dmin or delta < dmin then dmin = delta end
            end
            prev = dn
          end
        end
      end
      if dmin == 1 and ndays > 1 then break end
    end
  end
  if dmin then gap = min2(gap, dmin * 86400 - tspan) end
  return gap, ndays
end

return M
