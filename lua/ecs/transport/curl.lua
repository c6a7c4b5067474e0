--- The libcurl transport: the C core does sign, send and decode in one call;
-- batches go through libcurl's multi interface.
local core = require "ecs.core"

local M = {}
M.__index = M

--- new(cfg, url) builds the C client lazily on first use.
function M.new(cfg, url)
  return setmetatable({ cfg = cfg, url = url }, M)
end

function M:core()
  local c = self._core
  if c then return c end
  local cfg = self.cfg
  c = core.new {
    endpoint = self.url,
    region = cfg.region,
    signature_version = cfg.signature_version,
    connect_timeout = cfg.timeout.connect,
    timeout = cfg.timeout.read,
    verify = cfg.tls.verify,
    ca_file = cfg.tls.ca_file,
    ca_path = cfg.tls.ca_path,
    proxy = cfg.proxy,
    no_proxy = cfg.no_proxy,
    user_agent = cfg.user_agent or ("aliyun-ecs-lua/" .. core._VERSION),
  }
  self._core = c
  return c
end

function M:set_credentials(creds)
  self:core():set_credentials(creds.access_key_id, creds.access_key_secret, creds.security_token)
end

function M:set_time_offset(s) self:core():set_time_offset(s) end

--- call(action, params, opts) -> result | nil, err
function M:call(action, params, opts)
  return self:core():call(action, params, opts)
end

--- call_batch(calls, opts) -> list of { result, err }
function M:call_batch(calls, opts)
  return self:core():call_batch(calls, opts)
end

function M:prepare(action, params, opts)
  return self:core():prepare(action, params, opts)
end

function M:stats()
  return self._core and self._core:stats() or { requests = 0, connections = 0 }
end

function M:close()
  if self._core then self._core:close() end
  self._core = nil
end

return M
