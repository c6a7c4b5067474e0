-- Fire times in UTC: a cron's wall-clock matches mapped through a zone with
-- the one DST rule of this module, an at(...) time, a rate's fixed steps.
--
-- The rule: every wall-clock time that matches fires exactly once.
--   * A wall time that occurs twice (clocks turned back) fires at its first
--     occurrence only.
--   * A wall time that does not occur (clocks turned forward) fires at the
--     instant of the jump; several such times collapse into that one fire.
local cron = require "ecs.frequency.cron"
local zi = require "ecs.zoneinfo"

local huge, floor = math.huge, math.floor

local M = {}

--- Next `count` fire times (UTC epoch seconds) strictly after `from` of the
--- compiled cron `cc` evaluated in `zone`.
function M.cron_next(cc, zone, from, count)
  local out = {}
  local t = from + 1
  local ymax = cron.last_year(cc, (zi.civil_from_days(floor(from / 86400))))
  while #out < count do
    local start, stop, info = zone:segment(t)
    local off = info.off
    local prev_off = off
    if start > -huge then prev_off = zone:offset(start - 1) end
    local fired
    if t == start and off > prev_off then
      -- forward jump at `start`: wall times [start + prev_off, start + off) are skipped
      local w = cron.next_wall(cc, start + prev_off, ymax)
      if w and w < start + off then fired = start end
    end
    if not fired then
      local w0 = t + off
      if off < prev_off and w0 < start + prev_off then
        -- backward jump: these wall times already occurred before `start`
        w0 = start + prev_off
      end
      local w = cron.next_wall(cc, w0, ymax)
      if not w then break end
      local ft = w - off
      if ft < stop then fired = ft else t = stop end
    end
    if fired then
      out[#out + 1] = fired
      t = fired + 1
    end
  end
  return out
end

--- UTC time of an at(...) wall time in `zone` (same rule), and its status.
function M.at_time(wall, zone)
  return zone:from_wall(wall)
end

--- Fire times of rate(...): the first one interval after `start` (the task's
--- creation time), then every interval; those strictly after `from`.
function M.rate_next(seconds, start, from, count)
  local k = 1
  if from >= start then k = floor((from - start) / seconds) + 1 end
  local out = {}
  for i = 0, count - 1 do out[#out + 1] = start + (k + i) * seconds end
  return out
end

return M
