--- Sending for fleet operations: one call or a concurrent list through the
-- client (retries under its policy), paced by an optional rate (calls per
-- second on the client's clock) and counted per action.
local type = type

local M = {}

local Sender = {}
Sender.__index = Sender

--- new(client, { concurrency =, rate = }) -> sender
function M.new(client, opts)
  opts = opts or {}
  return setmetatable({
    client = client,
    concurrency = opts.concurrency or 4,
    rate = opts.rate,
    next_at = nil,
    calls = {},
    total = 0,
  }, Sender)
end

-- Waits until n more calls fit under the rate, then books them.
function Sender:pace(n)
  local rate = self.rate
  if not rate then return end
  local c = self.client
  local now = c.clock()
  local at = self.next_at or now
  if at > now then
    c.sleep(at - now)
    now = at
  end
  self.next_at = now + n / rate
end

function Sender:count(action, n)
  self.calls[action] = (self.calls[action] or 0) + (n or 1)
  self.total = self.total + (n or 1)
end

--- one(action, params) -> result | nil, err
function Sender:one(action, params)
  self:pace(1)
  self:count(action)
  return self.client:call(action, params)
end

--- many(calls) -> list of { result, err }; calls = list of { action, params }.
-- At most `concurrency` requests are in flight; with a rate, the list is
-- sent in slices so the pace holds.
function Sender:many(calls)
  local out = {}
  if #calls == 0 then return out end
  local slice = #calls
  if self.rate then
    slice = self.concurrency
  end
  local i = 1
  while i <= #calls do
    local part = {}
    for j = i, math.min(#calls, i + slice - 1) do part[#part + 1] = calls[j] end
    self:pace(#part)
    for _, c in ipairs(part) do self:count(c[1]) end
    local res = self.client:call_batch(part, { concurrency = self.concurrency })
    for k = 1, #part do
      local r = res[k]
      if type(r) ~= "table" then r = { nil, r } end
      out[i + k - 1] = r
    end
    i = i + #part
  end
  return out
end

return M
