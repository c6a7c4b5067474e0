--- The nginx transport: the C core flattens, signs and decodes; requests go
-- out through cosockets (ngx.socket.tcp) with the nginx connection pool, so
-- no call ever blocks a worker. Batches fan out over ngx.thread.
local core = require "ecs.core"
local errors = require "ecs.errors"
local phase = require "ecs.ngx.phase"
local http = require "ecs.ngx.http"
local base = require "ecs.transport.base"

local type, pcall, pairs, tostring, tonumber = type, pcall, pairs, tostring, tonumber
local setmetatable, math_min, math_floor = setmetatable, math.min, math.floor

local M = base.extend {}
M.__index = M

local OPTIONS = { shared_dict = "string", credentials_key = "string", pool_size = "number",
                  keepalive_timeout = "number", server_name = "string", backlog = "number" }

--- check_options(t) -> t: validates the client's `ngx` option table; raises
-- "ngx: ..." naming a bad key.
function M.check_options(o)
  if o == nil then return {} end
  if type(o) ~= "table" then error("ngx: expected a table", 2) end
  for k, v in pairs(o) do
    local want = OPTIONS[k]
    if not want then
      local name = tostring(k)
      if #name > 40 then name = name:sub(1, 40) .. "..." end
      error(("ngx: unknown option '%s'"):format(name), 2)
    end
    if type(v) ~= want then error(("ngx: '%s' must be a %s"):format(k, want), 2) end
    if want == "number" and (v ~= v or v <= 0 or v == math.huge) then
      error(("ngx: '%s' must be a positive number"):format(k), 2)
    end
  end
  return o
end

--- new(cfg, url, client): nothing is opened until the first call.
function M.new(cfg, url, client)
  local u, msg = http.parse_url(url)
  if not u then error("ecs.new: bad endpoint '" .. tostring(url) .. "': " .. msg, 3) end
  local okc, o = pcall(M.check_options, cfg.ngx)
  if not okc then
    error("ecs.new: bad option 'ngx': " .. tostring(o):gsub("^[^:]*:%d+: ", ""):gsub("^ngx: ", ""), 3)
  end
  local self = setmetatable({
    cfg = cfg, url = url, client = client, u = u, opts = o,
    verify = cfg.tls.verify ~= false,
    server_name = o.server_name or u.host,
    user_agent = base.user_agent(cfg, " (openresty)"),
    counters = { requests = 0, connections = 0, reused = 0, in_flight = 0, max_in_flight = 0 },
  }, M)
  if client and client.log then
    local unused = {}
    if cfg.tls.ca_file or cfg.tls.ca_path then
      unused[#unused + 1] = "tls.ca_file/tls.ca_path (nginx verifies with lua_ssl_trusted_certificate)"
    end
    if cfg.proxy then unused[#unused + 1] = "proxy (cosockets connect directly)" end
    if #unused > 0 then
      client:log { event = "warning", message = "inside nginx these options are not used: "
        .. table.concat(unused, "; ") }
    end
  end
  self.pool = ("ecs:%s://%s:%d/%s/%s"):format(u.scheme, u.host, u.port, self.verify and "verify" or "noverify",
    self.server_name)
  return self
end

--- The C client (self:core()) is used for flatten, sign and decode only,
-- never for I/O: the options all transports set are enough.
function M:core_options()
  return base.core_options(self.cfg, self.url, self.user_agent)
end

--- check_phase(action) -> true | nil, err: whether this nginx phase can send
-- (the client asks before it gathers credentials).
function M:check_phase(action) -- luacheck: no unused args
  return phase.check(action)
end

local function net_error(action, code, message, sent, extra)
  local e = errors.new { code = code, message = message, action = action, retryable = true, sent = sent }
  if extra then for k, v in pairs(extra) do e[k] = v end end
  return e
end

-- maps a cosocket connect error to an error object
local function connect_error(self, action, err)
  local target = self.u.host .. ":" .. self.u.port
  err = tostring(err)
  if err == "timeout" then
    return net_error(action, "Network.Timeout", "connect to " .. target .. " timed out", false)
  end
  if err:find("resolve", 1, true) or err:find("resolver", 1, true) then
    return net_error(action, "Network.ResolveFailed", "cannot resolve " .. self.u.host .. ": " .. err
      .. " (nginx needs a 'resolver' directive to look up host names from Lua)", false)
  end
  return net_error(action, "Network.ConnectFailed", "connect to " .. target .. " failed: " .. err, false)
end

local function ms(s) return math_floor(s * 1000 + 0.5) end

-- one exchange on one connection: response | nil, err, retry_fresh
function M:exchange(ngx, action, bytes, opts, fresh)
  local cfg = self.cfg
  local sock = ngx.socket.tcp()
  local connect_t = opts and opts.connect_timeout or cfg.timeout.connect
  local read_t = opts and opts.timeout or cfg.timeout.read
  sock:settimeouts(ms(connect_t), ms(read_t), ms(read_t))
  local popts = { pool = self.pool, pool_size = self.opts.pool_size, backlog = self.opts.backlog }
  local ok, err = sock:connect(self.u.host, self.u.port, popts)
  if not ok then return nil, connect_error(self, action, err) end
  local reused = sock:getreusedtimes() or 0
  local c = self.counters
  if reused == 0 then
    c.connections = c.connections + 1
    if self.u.scheme == "https" then
      ok, err = sock:sslhandshake(false, self.server_name, self.verify)
      if not ok then
        sock:close()
        return nil, errors.new { code = "Network.TLS", action = action, retryable = false, sent = false,
          message = "TLS handshake with " .. self.server_name .. " failed: " .. tostring(err)
            .. (self.verify and " (is the CA in nginx's lua_ssl_trusted_certificate?)" or "") }
      end
    end
  else
    c.reused = c.reused + 1
  end
  ok, err = sock:send(bytes)
  if not ok then
    sock:close()
    if reused > 0 and not fresh then return nil, nil, true end
    if reused == 0 and self.u.scheme == "https" and err == "closed" then
      -- a handshake that finished asynchronously can report success although
      -- certificate verification failed and nginx closed the connection
      return nil, errors.new { code = "Network.TLS", action = action, retryable = false, sent = false,
        message = "TLS connection to " .. self.server_name .. " closed right after the handshake"
          .. (self.verify and " (certificate verification failed? is the CA in nginx's "
            .. "lua_ssl_trusted_certificate? see nginx's error log)" or "") }
    end
    return nil, net_error(action, err == "timeout" and "Network.Timeout" or "Network.SendFailed",
      "sending the request failed: " .. tostring(err), false)
  end
  local res, rerr, stage = http.read(sock)
  if not res then
    sock:close()
    if reused > 0 and not fresh and stage == "status" and rerr == "closed" then return nil, nil, true end
    if rerr == "timeout" then
      return nil, net_error(action, "Network.Timeout", "no answer within " .. read_t .. " s", true)
    end
    if stage == "status" and rerr == "closed" then
      return nil, net_error(action, "Network.EmptyReply", "the server closed the connection without an answer",
        true)
    end
    return nil, net_error(action, "Network.ReceiveFailed", "reading the answer failed (" .. stage .. "): "
      .. tostring(rerr), true)
  end
  if res.keepalive then
    local idle = self.opts.keepalive_timeout and ms(self.opts.keepalive_timeout) or 60000
    ok = sock:setkeepalive(idle, self.opts.pool_size)
    if not ok then sock:close() end
  else
    sock:close()
  end
  return res
end

--- call(action, params, opts) -> result | nil, err
-- opts: timeout, connect_timeout (seconds) for this call.
function M:call(action, params, opts)
  local ok, perr = phase.check(action)
  if not ok then return nil, perr end
  local ngx = phase.ngx()
  local req = self:core():prepare(action, params)
  local bytes = http.serialize(req, self.user_agent)
  local c = self.counters
  c.requests = c.requests + 1
  c.in_flight = c.in_flight + 1
  if c.in_flight > c.max_in_flight then c.max_in_flight = c.in_flight end
  local okc, res, err, again = pcall(self.exchange, self, ngx, action, bytes, opts, false)
  if okc and again then -- a pooled connection the server had already closed
    okc, res, err = pcall(self.exchange, self, ngx, action, bytes, opts, true)
  end
  c.in_flight = c.in_flight - 1
  if not okc then
    return nil, errors.new { code = "Network.Error", action = action, retryable = false,
      message = "cosocket failure: " .. tostring(res) }
  end
  if not res then return nil, err end
  return core.decode(res.status, res.body, res.headers, action)
end

--- call_batch(calls, opts) -> list of { result, err }, one per call, in order;
-- at most opts.concurrency (default 8) in flight, each in its own ngx.thread.
function M:call_batch(calls, opts)
  local n = #calls
  local out = {}
  if n == 0 then return out end
  local ok, perr = phase.check(calls[1][1])
  if not ok then
    for i = 1, n do out[i] = { nil, perr } end
    return out
  end
  local ngx = phase.ngx()
  local cap = math_floor(tonumber(opts and opts.concurrency) or 8)
  if cap < 1 then cap = 1 end
  local next_i = 0
  local function worker()
    while next_i < n do
      next_i = next_i + 1
      local i = next_i
      local c = calls[i]
      local pok, r, e = pcall(self.call, self, c[1], c[2], c[3])
      if not pok then
        e = errors.new { code = "Network.Error", action = c[1], retryable = false, message = tostring(r) }
        r = nil
      end
      out[i] = { r, e }
    end
  end
  local threads = {}
  for t = 1, math_min(cap, n) do
    local sok, th = pcall(ngx.thread.spawn, worker)
    if not sok or not th then break end -- light threads unavailable here: the rest run in this one
    threads[t] = th
  end
  for t = 1, #threads do ngx.thread.wait(threads[t]) end
  worker()
  for i = 1, n do
    if not out[i] then
      out[i] = { nil, errors.new { code = "Network.Error", action = calls[i][1], retryable = true, sent = false,
        message = "the batch thread ended before sending this call" } }
    end
  end
  return out
end

function M:stats()
  local c = self.counters
  return { requests = c.requests, connections = c.connections, reused = c.reused,
           in_flight = c.in_flight, max_in_flight = c.max_in_flight }
end

return M
