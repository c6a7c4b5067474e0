-- The request log: one entry per API request (action, time, flat
-- parameters without secrets, outcome), newest last, bounded.
local clock = require "ecs.emulator.clock"

local pairs = pairs

local M = {}

local SECRET = { Signature = true, SecurityToken = true, AccessKeySecret = true }

local Log = {}
Log.__index = Log

function M.new(limit)
  return setmetatable({ entries = {}, first = 1, seq = 0, limit = limit or 10000 }, Log)
end

function Log:add(action, version, params, now)
  self.seq = self.seq + 1
  local flat = {}
  for k, v in pairs(params) do
    if not SECRET[k] then flat[k] = v end
  end
  local e = { seq = self.seq, time = clock.iso(now), epoch = now, action = action or "", version = version,
    params = flat }
  self.entries[self.seq] = e
  if self.seq - self.first + 1 > self.limit then
    self.entries[self.first] = nil
    self.first = self.first + 1
  end
  return e
end

-- Entries with seq > since (all by default), optionally of one action.
function Log:list(since, action)
  local out = {}
  for i = math.max(self.first, (since or 0) + 1), self.seq do
    local e = self.entries[i]
    if e and (action == nil or e.action == action) then out[#out + 1] = e end
  end
  return out
end

function Log:clear()
  self.entries, self.first = {}, self.seq + 1
end

return M
