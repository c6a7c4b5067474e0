--- The libcurl transport: the C core does sign, send and decode in one call;
-- batches go through libcurl's multi interface.
local base = require "ecs.transport.base"

local M = base.extend {}
M.__index = M

--- new(cfg, url) builds the C client lazily on first use.
function M.new(cfg, url)
  return setmetatable({ cfg = cfg, url = url }, M)
end

--- The C client's options: it also sends, so timeouts, TLS and proxy too.
function M:core_options()
  local cfg = self.cfg
  local o = base.core_options(cfg, self.url, base.user_agent(cfg))
  o.connect_timeout = cfg.timeout.connect
  o.timeout = cfg.timeout.read
  o.verify = cfg.tls.verify
  o.ca_file = cfg.tls.ca_file
  o.ca_path = cfg.tls.ca_path
  o.proxy = cfg.proxy
  o.no_proxy = cfg.no_proxy
  return o
end

--- call(action, params, opts) -> result | nil, err
function M:call(action, params, opts)
  return self:core():call(action, params, opts)
end

--- call_batch(calls, opts) -> list of { result, err }
function M:call_batch(calls, opts)
  return self:core():call_batch(calls, opts)
end

function M:stats()
  return self._core and self._core:stats() or { requests = 0, connections = 0 }
end

return M
