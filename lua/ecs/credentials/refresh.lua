--- Temporary credentials that refresh themselves: a fresh set is fetched a
-- few minutes before the current one expires, one fetch at a time, and the
-- current set keeps being served while it is still valid if a fetch fails.
local errors = require "ecs.errors"

local type, pcall, tostring = type, pcall, tostring
local math_min, math_max = math.min, math.max

local M = {}

M.MARGIN = 180        -- seconds before expiry at which a refresh starts
M.WAIT = 5            -- seconds a caller waits for another caller's refresh
M.RETRY_AFTER = 10    -- seconds between failed refreshes while serving the old set

-- Lua 5.1 cannot yield across pcall (LuaJIT and 5.2+ can): inside a
-- coroutine there a fetch runs unprotected, and a refresh left unfinished
-- by an error counts as abandoned after WAIT seconds.
local protected = _VERSION ~= "Lua 5.1" or rawget(_G, "jit") ~= nil
local function run(fetch)
  if protected or coroutine.running() == nil then return pcall(fetch) end
  return true, fetch()
end

local Refresher = {}
Refresher.__index = Refresher

--- new{ fetch = function() -> creds | nil, err, source =, clock =, sleep =,
--       log =, margin = } -> provider with get()
-- creds.expiration (epoch seconds) marks temporary credentials; without it
-- the first set is kept for good.
function M.new(o)
  if type(o) ~= "table" or type(o.fetch) ~= "function" then
    error("credentials.refresh: expected { fetch = function }", 2)
  end
  local self = setmetatable({
    fetch = o.fetch, source = o.source or "temporary", clock = o.clock or os.time,
    sleep = o.sleep, log = o.log, margin = o.margin or M.MARGIN,
    current = nil, refreshing = false, next_try = nil, fetches = 0,
  }, Refresher)
  self.get = function() return self:_get() end
  return self
end

local function valid(c, now)
  return c ~= nil and (c.expiration == nil or now < c.expiration)
end

local function fresh(c, now, margin)
  return c ~= nil and (c.expiration == nil or now < c.expiration - margin)
end

function Refresher:_log(ev)
  if self.log then
    ev.source = self.source
    self.log(ev)
  end
end

-- another caller is fetching: wait for it (yields inside nginx; a plain Lua
-- caller never gets here since nothing else runs during a fetch)
function Refresher:_wait()
  local deadline = self.clock() + M.WAIT
  local n = 0
  while self.refreshing and self.sleep and n < 1000 and self.clock() <= deadline do
    n = n + 1
    self.sleep(0.01)
  end
  local now = self.clock()
  if valid(self.current, now) then return self.current end
  return nil, self.last_error or errors.new { code = "Credentials.RefreshFailed",
    message = self.source .. ": timed out waiting for a credentials refresh" }
end

function Refresher:_get()
  local now = self.clock()
  local cur = self.current
  if fresh(cur, now, self.margin) then return cur end
  if self.refreshing and now - self.refreshing > M.WAIT then self.refreshing = false end
  if self.refreshing then
    if valid(cur, now) then return cur end
    return self:_wait()
  end
  if valid(cur, now) and self.next_try and now < self.next_try then return cur end
  self.refreshing = now
  self.fetches = self.fetches + 1
  local ok, new, err = run(self.fetch)
  self.refreshing = false
  if ok and type(new) == "table" then
    self.current, self.next_try, self.last_error = new, nil, nil
    self:_log { event = "credentials", action = cur and "refreshed" or "loaded", expiration = new.expiration }
    return new
  end
  if not ok then
    err = errors.new { code = "Credentials.RefreshFailed", message = self.source .. ": " .. tostring(new) }
  elseif type(err) ~= "table" then
    err = errors.new { code = "Credentials.RefreshFailed", message = self.source .. ": " .. tostring(err) }
  end
  self.last_error = err
  now = self.clock()
  if valid(cur, now) then
    self.next_try = now + math_max(1, math_min(M.RETRY_AFTER, (cur.expiration - now) / 4))
    self:_log { event = "warning", message = "credentials refresh failed (" .. tostring(err.code)
      .. "); serving the current set until it expires", expiration = cur.expiration }
    return cur
  end
  return nil, err
end

return M
