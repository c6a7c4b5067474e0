--- The client: configuration, credentials, local checks, retries, logging,
-- on top of a transport (the C core with libcurl, or cosockets in nginx).
local core = require "ecs.core"
local config = require "ecs.config"
local endpoints = require "ecs.endpoints"
local credentials = require "ecs.credentials"
local checks = require "ecs.checks"
local retry = require "ecs.retry"
local diagnose = require "ecs.diagnose"
local common = require "ecs.credentials.common"
local errors = require "ecs.errors"

local type, pairs, ipairs, error, tostring = type, pairs, ipairs, error, tostring
local setmetatable, pcall = setmetatable, pcall
local os_getenv = os.getenv
local short = config.short

local M = {}
local Client = {}
Client.__index = Client
M.Client = Client

local has_socket, socket = pcall(require, "socket")

local function default_clock()
  if has_socket then return socket.gettime end
  return os.time
end
-- the clock the C core signs with (real time, before any skew offset)
local wall_clock = default_clock()

local function in_nginx()
  local ngx = rawget(_G, "ngx")
  return type(ngx) == "table" and type(ngx.get_phase) == "function"
end

local function default_sleep()
  if in_nginx() then
    return function(s) return rawget(_G, "ngx").sleep(s) end
  end
  if has_socket then return socket.sleep end
  return function(s)
    local t = os.clock() + s
    while os.clock() < t do end -- no sleep primitive without luasocket
  end
end

--- ecs.new(cfg) -> client. Raises on a wrong type or an unknown option.
function M.new(user_cfg)
  local cfg = config.check(user_cfg)
  cfg.region = cfg.region or os_getenv("ALIBABA_CLOUD_REGION_ID")
  if cfg.region ~= nil and not endpoints.valid_region(cfg.region) then
    error(("ecs.new: bad option 'region': '%s' is not a region ID"):format(short(cfg.region)), 2)
  end
  local url, msg = endpoints.resolve(cfg)
  if not url then error("ecs.new: " .. msg, 2) end
  local self = setmetatable({
    config = cfg,
    url = url,
    clock = cfg.clock or default_clock(),
    sleep = cfg.sleep,
    random = cfg.random or math.random,
    logger = cfg.logger,
    policy = cfg.retry == nil and retry.check_config {} or cfg.retry,
    transports = {},
  }, Client)
  if not self.sleep then
    self.sleep = default_sleep()
  end
  self.credentials = credentials.provider(cfg, {
    clock = function() return self.clock() end,
    sleep = function(s) return self.sleep(s) end,
    log = function(ev) self:log(ev) end,
  })
  local nopts = cfg.ngx
  if type(nopts) == "table" and nopts.shared_dict then
    self.credentials = M.shared_credentials(self.credentials, nopts)
  end
  if cfg.tls.verify == false then
    local note = "TLS certificate verification is switched off for " .. url
    self:log { event = "warning", message = note }
    if not self.logger then io.stderr:write("ecs: warning: ", note, "\n") end
  end
  return self
end

--- Inside nginx with `ngx = { shared_dict = }`: the provider behind a cache
-- shared by the workers (ecs.ngx.shared), built on first use so that ecs.new
-- does nothing nginx-specific.
function M.shared_credentials(inner, nopts)
  local shared
  local p = { source = inner.source }
  function p.get()
    if not shared then
      local ok, res = pcall(function()
        return require("ecs.ngx.shared").credentials(inner, { shared_dict = nopts.shared_dict,
                                                                key = nopts.credentials_key })
      end)
      if not ok then
        return nil, errors.new { code = "Credentials.SharedDict", message = tostring(res):gsub("^[^:]*:%d+: ", "") }
      end
      shared = res
    end
    local creds, err = shared.get()
    p.source = inner.source
    return creds, err
  end
  return p
end

function Client:log(event)
  local logger = self.logger
  if logger then
    event.region = event.region or self.config.region
    if type(event.message) == "string" then event.message = self:scrub(event.message) end
    local ok, err = pcall(logger, event)
    if not ok then io.stderr:write("ecs: logger failed: ", tostring(err), "\n") end
  end
end

--- The transport for this call: cosockets inside nginx request phases, else curl.
function Client:transport()
  local kind = self.config.transport
  if kind == "auto" then
    kind = "curl"
    if in_nginx() then kind = "ngx" end
  end
  local t = self.transports[kind]
  if not t then
    t = require("ecs.transport." .. kind).new(self.config, self.url, self)
    self.transports[kind] = t
    t.creds = nil
  end
  return t
end

-- Secrets the client knows of (for scrubbing messages).
function Client:secrets()
  local out = {}
  local function add(v) if type(v) == "string" then out[#out + 1] = v end end
  add(self.config.access_key_secret)
  add(self.config.security_token)
  local c = self.last_creds
  if type(c) == "table" then
    add(c.access_key_secret)
    add(c.security_token)
  end
  return out
end

--- Text with every known secret (raw or percent-encoded) replaced by ****.
function Client:scrub(text)
  return common.scrub(text, self:secrets())
end

-- Removes secrets the service may have echoed from an error's message.
function Client:scrub_error(err)
  if type(err) == "table" and type(err.message) == "string" then
    err.message = self:scrub(err.message)
  end
  return err
end

-- Puts current credentials on the transport; nil, err when none can be had
-- (or when the transport cannot send from here, e.g. an nginx phase that
-- cannot yield: asked first, so no credential lookup is attempted there).
function Client:apply_credentials(t, action)
  if action and t.check_phase then
    local ok, perr = t:check_phase(action)
    if not ok then return nil, perr end
  end
  local creds, err = self.credentials.get()
  if not creds then return nil, err end
  self.last_creds = creds
  if t.creds ~= creds then
    t:set_credentials(creds)
    t.creds = creds
  end
  if self.time_offset and t.offset ~= self.time_offset then
    t:set_time_offset(self.time_offset)
    t.offset = self.time_offset
  end
  return true
end

local CALL_OPTS = { retry = true, timeout = true, connect_timeout = true, validate = true }

local function check_args(action, params, opts, level, allowed)
  if type(action) ~= "string" or #action > 128 or not action:match("^%u%w*$") then
    error(("ecs: bad action name %s: expected an API action such as 'InvokeCommand'"):format(short(action)), level)
  end
  if params ~= nil and type(params) ~= "table" then
    error(("ecs: %s: bad params: expected a table, got %s"):format(action, type(params)), level)
  end
  if opts ~= nil then
    if type(opts) ~= "table" then
      error(("ecs: %s: bad options: expected a table, got %s"):format(action, type(opts)), level)
    end
    for k, v in pairs(opts) do
      if not (allowed or CALL_OPTS)[k] then
        error(("ecs: %s: unknown call option '%s'"):format(action, short(k)), level)
      end
      if (k == "timeout" or k == "connect_timeout") and (type(v) ~= "number" or v ~= v or v <= 0 or v > 86400) then
        error(("ecs: %s: call option '%s' must be a number of seconds between 0 and 86400"):format(action, k), level)
      end
    end
  end
end

local function copy(t)
  local out = {}
  for k, v in pairs(t or {}) do out[k] = v end
  return out
end

-- params after local checks and the ClientToken, or nil, err
function Client:prepare_params(action, params, opts)
  params = copy(params)
  if self.config.validate and not (opts and opts.validate == false) then
    local copts = self._check_opts
    if not copts then
      copts = { instance_zone = self.config.instance_zone, log = function(ev) self:log(ev) end, owned = true }
      self._check_opts = copts
    end
    local out, err = checks.check(action, params, copts)
    if not out then return nil, err end
    params = out
  end
  if retry.TOKEN_ACTIONS[action] and params.ClientToken == nil then
    params.ClientToken = retry.new_token()
  end
  return params
end

function Client:policy_for(opts)
  local p = self.policy
  if opts and opts.retry ~= nil then
    if opts.retry == false then return false end
    local ok, res = pcall(retry.check_config, opts.retry)
    if not ok then error("ecs: call option " .. tostring(res):gsub("^[^:]*:%d+: ", ""), 3) end
    p = res
  end
  return p
end

-- clock-skew correction from the response Date header: the offset between
-- the server's clock and the one requests are signed with, kept on the client.
function Client:correct_skew(err)
  local date = type(err.headers) == "table" and err.headers.date
  local server = date and core.parse_http_date(date)
  if not server then return false end
  local offset = math.floor(server - wall_clock() + 0.5)
  if offset == (self.time_offset or 0) then return false end
  self.time_offset = offset
  self:log { event = "clock_skew", offset = offset, action = err.action }
  return true
end

function Client:retry_env(action)
  return {
    action = action,
    clock = self.clock,
    sleep = function(s) return self.sleep(s) end,
    random = self.random,
    log = function(ev) self:log(ev) end,
    skew = function(err) return self:correct_skew(err) end,
  }
end

-- On SignatureDoesNotMatch, says whether the secret is wrong or the request
-- was canonicalized differently (err.diagnosis, and a note in the message).
function Client:diagnose(err, action, params)
  if type(err) ~= "table" or err.code ~= "SignatureDoesNotMatch" then return err end
  local t = self:transport()
  local d = diagnose.diagnose(err, function(o)
    local ok, req = pcall(t.prepare, t, action, params, o)
    return ok and req or nil
  end, self:secrets(), self.config.signature_version)
  if d then
    err.diagnosis = d
    err.message = tostring(err.message) .. " [diagnosis: " .. d.text .. "]"
    self:log { event = "diagnosis", action = action, kind = d.kind, offset = d.offset }
  end
  return err
end

local function transport_opts(opts)
  if not opts or (opts.timeout == nil and opts.connect_timeout == nil) then return nil end
  return { timeout = opts.timeout, connect_timeout = opts.connect_timeout }
end

-- One attempt: current credentials on the transport, a freshly signed
-- request, events for the logger, diagnosis of a signature mismatch.
function Client:attempt(action, p, topts, n)
  local t = self:transport()
  local ok, cerr = self:apply_credentials(t, action)
  if not ok then
    cerr.retryable = false
    return nil, cerr
  end
  local logging = self.logger ~= nil
  local started = logging and self.clock()
  if logging then self:log { event = "request", action = action, attempt = n } end
  local r, e = t:call(action, p, topts)
  if e then self:scrub_error(e) end
  if logging then
    self:log { event = "response", action = action, attempt = n, duration = self.clock() - started,
               request_id = r and r.RequestId or e and e.request_id, code = e and e.code,
               http_status = e and e.http_status or (r and 200) or nil }
  end
  if e and e.code == "SignatureDoesNotMatch" then self:diagnose(e, action, p) end
  return r, e
end

--- client:call(action, params, opts) -> result | nil, err
function Client:call(action, params, opts)
  check_args(action, params, opts, 3)
  local p, err = self:prepare_params(action, params, opts)
  if not p then
    self:log { event = "invalid", action = action, code = err.code, message = err.message }
    return nil, err
  end
  local topts = transport_opts(opts)
  local policy = self:policy_for(opts)
  -- the first attempt runs before any retry bookkeeping: most calls succeed at once
  local start = self.clock()
  local res, first = self:attempt(action, p, topts, 1)
  if res ~= nil then return res end
  return retry.run(policy, self:retry_env(action), function(n)
    if n == 1 then return nil, first end
    return self:attempt(action, p, topts, n)
  end, start)
end
Client.request = Client.call

local BATCH_OPTS = { concurrency = true, retry = true }
M.MAX_CONCURRENCY = 256

-- call_batch's options: { concurrency = 1..256 (whole), retry = policy | false }
local function check_batch_opts(opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(("ecs: call_batch: bad options: expected a table, got %s"):format(type(opts)), 3)
  end
  for k in pairs(opts) do
    if not BATCH_OPTS[k] then
      error(("ecs: call_batch: unknown option '%s' (concurrency, retry)"):format(short(k)), 3)
    end
  end
  local n = opts.concurrency
  if n ~= nil and (type(n) ~= "number" or n ~= math.floor(n) or n < 1 or n > M.MAX_CONCURRENCY) then
    error(("ecs: call_batch: bad option 'concurrency': expected a whole number from 1 to %d, got %s")
      :format(M.MAX_CONCURRENCY, short(n)), 3)
  end
  return opts
end

--- client:call_batch(calls, opts) -> list of { result, err }, one per call,
-- sent concurrently (opts.concurrency, default 8); retryable failures are
-- sent again (signed afresh, same ClientToken) under the retry policy.
function Client:call_batch(calls, opts)
  if type(calls) ~= "table" then error("ecs: call_batch: expected a list of { action, params }", 2) end
  opts = check_batch_opts(opts)
  local out, pending, prepared = {}, {}, {}
  for i = 1, #calls do
    local c = calls[i]
    if type(c) ~= "table" then error(("ecs: call_batch: call #%d is not a table"):format(i), 2) end
    check_args(c[1], c[2], c[3], 3)
    local p, err = self:prepare_params(c[1], c[2], c[3])
    if p then
      prepared[i] = { c[1], p }
      pending[#pending + 1] = i
    else
      out[i] = { nil, err }
    end
  end
  local policy = self:policy_for(opts)
  local env = self:retry_env()
  local attempt, start = 0, self.clock()
  local history = {}
  local skewed = false
  while #pending > 0 do
    attempt = attempt + 1
    local t = self:transport()
    local ok, cerr = self:apply_credentials(t, "batch")
    if not ok then
      for _, i in ipairs(pending) do out[i] = { nil, cerr } end
      break
    end
    local batch = {}
    for j, i in ipairs(pending) do batch[j] = prepared[i] end
    self:log { event = "batch", size = #batch, attempt = attempt }
    local results = t:call_batch(batch, { concurrency = opts.concurrency or 8 })
    local again, wait, last = {}, 0, {}
    local corrected = false
    for j, i in ipairs(pending) do
      local r = results[j]
      local action = prepared[i][1]
      if r[1] ~= nil then
        out[i] = r
      else
        local e = self:scrub_error(r[2])
        local h = history[i] or {}
        history[i] = h
        h[#h + 1] = { attempt = #h + 1, code = tostring(type(e) == "table" and e.code or e),
                      http_status = type(e) == "table" and e.http_status or nil,
                      request_id = type(e) == "table" and e.request_id or nil }
        if type(e) == "table" and e.code == "InvalidTimeStamp.Expired" and not skewed then
          corrected = corrected or self:correct_skew(e)
        end
        if corrected and type(e) == "table" and e.code == "InvalidTimeStamp.Expired" then
          again[#again + 1] = i
        elseif policy and attempt < policy.attempts and retry.is_retryable(e, action) then
          again[#again + 1] = i
          local d = retry.delay(policy, attempt, e, env.random)
          if d > wait then wait = d end
        else
          if type(e) == "table" and e.code == "SignatureDoesNotMatch" then self:diagnose(e, action, prepared[i][2]) end
          out[i] = { nil, retry.finish(e, h, (policy and retry.is_retryable(e, action)) and "attempts"
                                               or "not_retryable") }
        end
        last[i] = e
      end
    end
    if corrected then skewed = true end
    if #again > 0 and policy and self.clock() - start + wait > policy.max_time then
      for _, i in ipairs(again) do out[i] = { nil, retry.finish(last[i], history[i], "time") } end
      break
    end
    pending = again
    if #pending > 0 then
      self:log { event = "retry", attempt = attempt, delay = wait, count = #pending }
      if wait > 0 then env.sleep(wait) end
    end
  end
  return out
end

--- client:prepare(action, params) -> signed request table (for custom transports)
local PREPARE_OPTS = { validate = true }

function Client:prepare(action, params, opts)
  check_args(action, params, opts, 3, PREPARE_OPTS)
  local p, err = self:prepare_params(action, params, opts)
  if not p then return nil, err end
  local t = self:transport()
  local ok, cerr = self:apply_credentials(t)
  if not ok then return nil, cerr end
  return t:prepare(action, p)
end

function Client:stats()
  local t = self.transports.curl or self.transports.ngx
  return t and t:stats() or { requests = 0, connections = 0 }
end

function Client:close()
  for _, t in pairs(self.transports) do t:close() end
  self.transports = {}
end
Client.__close = Client.close
Client.__gc = nil

function Client:__tostring()
  return ("ecs.client(region=%s, endpoint=%s, signature=%s, credentials=%s)"):format(
    tostring(self.config.region), self.url, self.config.signature_version, tostring(self.credentials.source))
end

-- one method per action of the core
for _, a in ipairs(core.actions) do
  local action = a.action
  Client[a.method] = function(self, params, opts)
    return self:call(action, params, opts)
  end
end

-- Capabilities built on the client (fleet operations, ...) live in their own
-- modules, each with install(Client); a module not present yet is skipped.
for _, name in ipairs { "ecs.fleet" } do
  local ok, mod = pcall(require, name)
  if ok then
    mod.install(Client)
  elseif not tostring(mod):find("module '" .. name .. "' not found", 1, true) then
    error(mod, 0)
  end
end

return M
