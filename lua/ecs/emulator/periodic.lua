-- Fire times of scheduled (Period) tasks on the simulated clock: rate()
-- by arithmetic (first run one interval after creation), at() and cron
-- through ecs.frequency's next() when that module is present. Times are
-- computed lazily and cached on the record; at most MAX_RUNS are kept.
local floor, pcall, type = math.floor, pcall, type

local M = {}

M.MAX_RUNS = 1000

local ok_freq, frequency = pcall(require, "ecs.frequency")
if not ok_freq or type(frequency) ~= "table" or type(frequency.next) ~= "function" then frequency = nil end

M.available = function(kind)
  return kind == "rate" or ((kind == "at" or kind == "cron") and frequency ~= nil)
end

-- sched: { kind, interval, expr, created }. Returns the list of fire times
-- <= upto (oldest first, the newest MAX_RUNS), and the total count.
function M.fires(sched, upto)
  if sched.kind == "rate" then
    local n = floor((upto - sched.created) / sched.interval)
    if n < 1 then return {}, 0 end
    local list, first = {}, n - M.MAX_RUNS + 1
    if first < 1 then first = 1 end
    for k = first, n do list[#list + 1] = sched.created + k * sched.interval end
    return list, n
  end
  if not frequency or (sched.kind ~= "at" and sched.kind ~= "cron") then return {}, 0 end
  local cache = sched.cache
  if not cache then
    cache = { times = {}, from = floor(sched.created), done = false }
    sched.cache = cache
  end
  while not cache.done and cache.from < upto and #cache.times < M.MAX_RUNS do
    local ok, list = pcall(frequency.next, sched.expr, { from = cache.from, count = 50 })
    if not ok or type(list) ~= "table" or #list == 0 then
      cache.done = true
    else
      for _, t in ipairs(list) do cache.times[#cache.times + 1] = t end
      cache.from = list[#list]
      if sched.kind == "at" then cache.done = true end
    end
  end
  local out = {}
  for _, t in ipairs(cache.times) do
    if t > upto then break end
    out[#out + 1] = t
  end
  return out, #out
end

-- Whether no run will follow the last one (at() has a single run).
function M.finished(sched, count)
  return sched.kind == "at" and count >= 1
end

return M
