--- What the transports share: the C client (ecs.core), built on first use
-- from the options a transport gives, and the methods that only pass
-- through to it. A transport calls base.extend(T) and defines
-- T:core_options() (its own options on top of base.core_options).
local core = require "ecs.core"

local M = {}

--- core_options(cfg, url, user_agent) -> the core.new options every transport sets.
function M.core_options(cfg, url, user_agent)
  return { endpoint = url, region = cfg.region, signature_version = cfg.signature_version,
           user_agent = user_agent }
end

--- user_agent(cfg, suffix) -> the configured User-Agent, or the module's own
-- with suffix (" (openresty)") appended when given.
function M.user_agent(cfg, suffix)
  return cfg.user_agent or ("aliyun-ecs-lua/" .. core._VERSION .. (suffix or ""))
end

local methods = {}

--- The C client, built from self:core_options() on first use.
function methods:core()
  local c = self._core
  if c then return c end
  c = core.new(self:core_options())
  self._core = c
  return c
end

function methods:set_credentials(creds)
  self:core():set_credentials(creds.access_key_id, creds.access_key_secret, creds.security_token)
end

function methods:set_time_offset(s) self:core():set_time_offset(s) end

function methods:prepare(action, params, opts)
  return self:core():prepare(action, params, opts)
end

function methods:close()
  if self._core then self._core:close() end
  self._core = nil
end

--- extend(T) -> T with core, set_credentials, set_time_offset, prepare and close.
function M.extend(T)
  for k, f in pairs(methods) do T[k] = f end
  return T
end

return M
