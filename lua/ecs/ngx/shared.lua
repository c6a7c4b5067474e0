--- State shared by nginx workers through a lua_shared_dict: a credential
-- cache (one worker refreshes temporary credentials, the others read) and the
-- daily invocation count per region. Without a dict name, a per-worker table
-- with the same interface is used.
-- luacheck: read globals ngx
local core = require "ecs.core"
local cjson = require("cjson").new()

local type, tostring, error, pcall, setmetatable, rawget, _G = type, tostring, error, pcall, setmetatable, rawget, _G
local os_date, math_max, math_floor = os.date, math.max, math.floor

local M = {}

local function ngx_table()
  local n = rawget(_G, "ngx")
  if type(n) == "table" and type(n.get_phase) == "function" then return n end
  return nil
end

local function default_clock()
  local n = ngx_table()
  if n then return function() n.update_time(); return n.now() end end
  return os.time
end

local function default_sleep()
  local n = ngx_table()
  if n then return n.sleep end
  return function() end
end

-- ------------------------------------------------------------ dictionaries

local Local = {}
Local.__index = Local

--- A per-worker stand-in for ngx.shared.DICT (get, set, add, incr, delete;
-- expiry in seconds, 0 or nil for none).
function M.local_dict(clock)
  return setmetatable({ data = {}, exp = {}, clock = clock or default_clock() }, Local)
end

function Local:get(k)
  local e = self.exp[k]
  if e and e <= self.clock() then self.data[k], self.exp[k] = nil, nil end
  return self.data[k]
end

function Local:set(k, v, ttl)
  self.data[k] = v
  self.exp[k] = (ttl and ttl > 0) and (self.clock() + ttl) or nil
  return true
end

function Local:add(k, v, ttl)
  if self:get(k) ~= nil then return false, "exists" end
  return self:set(k, v, ttl)
end

function Local:delete(k)
  self.data[k], self.exp[k] = nil, nil
  return true
end

function Local:incr(k, n, init, init_ttl)
  local v = self:get(k)
  if v == nil then
    if init == nil then return nil, "not found" end
    self:set(k, init + n, init_ttl)
    return init + n
  end
  self.data[k] = v + n
  return v + n
end

--- The dict for a lua_shared_dict name (raises naming it when nginx.conf
-- does not declare it), or a per-worker table when name is nil.
function M.dict(name, clock)
  if name == nil then return M.local_dict(clock) end
  if type(name) ~= "string" then error("ecs.ngx.shared: dict name must be a string", 2) end
  local n = ngx_table()
  local d = n and n.shared and n.shared[name]
  if not d then
    error(("ecs.ngx.shared: no lua_shared_dict '%s' (declare it in the http block of nginx.conf: "
      .. "lua_shared_dict %s 1m;)"):format(name, name), 2)
  end
  return d
end

-- ------------------------------------------------------------ credentials

local function epoch_of(exp)
  if type(exp) == "number" then return exp end
  if type(exp) == "string" then return core.parse_timestamp(exp) end
  return nil
end

--- credentials(inner, opts) -> provider whose get() reads the shared cache
-- and lets one worker at a time refresh through inner.get().
-- opts: dict (a dict object) or shared_dict (a name), key (default
-- "ecs:credentials"), refresh_before (seconds before expiry, default 300),
-- lock_timeout (default 10), clock, sleep.
-- Credentials without an expiration are not cached (they cost nothing to get).
function M.credentials(inner, opts)
  if type(inner) ~= "table" or type(inner.get) ~= "function" then
    error("ecs.ngx.shared.credentials: expected a provider with get()", 2)
  end
  opts = opts or {}
  local clock = opts.clock or default_clock()
  local sleep = opts.sleep or default_sleep()
  local dict = opts.dict or M.dict(opts.shared_dict, clock)
  local key = opts.key or "ecs:credentials"
  local lock = key .. ":lock"
  local before = opts.refresh_before or 300
  local lock_timeout = opts.lock_timeout or 10
  local last_text, last

  local function read()
    local text = dict:get(key)
    if text == nil then return nil end
    if text ~= last_text then
      local ok, v = pcall(cjson.decode, text)
      if not ok or type(v) ~= "table" then return nil end
      last_text, last = text, v
    end
    return last
  end

  local function fresh(c, now, margin)
    return c ~= nil and c.expiration_epoch - margin > now
  end

  local function refresh(now)
    local creds, err = inner.get()
    if not creds then return nil, err end
    local exp = epoch_of(creds.expiration)
    if exp and exp > now then
      local c = { access_key_id = creds.access_key_id, access_key_secret = creds.access_key_secret,
                  security_token = creds.security_token, expiration = creds.expiration,
                  expiration_epoch = exp, source = creds.source }
      dict:set(key, cjson.encode(c), math_max(1, math_floor(exp - now)))
      return read() or creds
    end
    return creds
  end

  local p = { source = "shared(" .. tostring(inner.source or "provider") .. ")" }
  function p.get()
    local now = clock()
    local c = read()
    if fresh(c, now, before) then return c end
    if dict:add(lock, true, lock_timeout) then
      local creds, err = refresh(now)
      dict:delete(lock)
      if creds then return creds end
      if fresh(c, now, 0) then return c end -- refresh failed: the cached ones still work
      return nil, err
    end
    if fresh(c, now, 0) then return c end -- another worker is refreshing
    local deadline = now + lock_timeout
    while clock() < deadline do
      sleep(0.02)
      c = read()
      if fresh(c, clock(), 0) then return c end
      if dict:get(lock) == nil then break end
    end
    return refresh(clock())
  end
  p.refresh = function() dict:delete(key) end
  return p
end

-- ------------------------------------------------------------ counter

--- counter(opts) -> { add(region [, n]) -> count, get(region) -> count }:
-- invocations per region and UTC day, shared by workers when the dict is.
-- opts: dict or shared_dict, prefix (default "ecs:invocations:"), clock.
function M.counter(opts)
  opts = opts or {}
  local clock = opts.clock or default_clock()
  local dict = opts.dict or M.dict(opts.shared_dict, clock)
  local prefix = opts.prefix or "ecs:invocations:"
  local function key(region)
    return prefix .. tostring(region) .. ":" .. os_date("!%Y-%m-%d", math_floor(clock()))
  end
  return {
    add = function(region, n)
      local v, err = dict:incr(key(region), n or 1, 0, 2 * 86400)
      if not v then return nil, err end
      return v
    end,
    get = function(region)
      return dict:get(key(region)) or 0
    end,
  }
end

return M
