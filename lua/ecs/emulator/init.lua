-- ecs.emulator: a local Cloud Assistant service as pure Lua (request in,
-- response out). See docs/emulator.md.
local json = require "ecs.emulator.json"
local codec = require "ecs.emulator.codec"
local clock = require "ecs.emulator.clock"
local ids = require "ecs.emulator.ids"
local errors = require "ecs.emulator.errors"
local signature = require "ecs.emulator.signature"
local faults = require "ecs.emulator.faults"
local fleet = require "ecs.emulator.fleet"
local commands = require "ecs.emulator.commands"
local invocations = require "ecs.emulator.invocations"
local sendfile = require "ecs.emulator.sendfile"
local instances = require "ecs.emulator.instances"
local idempotency = require "ecs.emulator.idempotency"
local requestlog = require "ecs.emulator.requestlog"
local validate = require "ecs.emulator.validate"

local type, pairs, ipairs, pcall, error, tostring, setmetatable = type, pairs, ipairs, pcall, error, tostring,
  setmetatable

local M = { _VERSION = "ecs.emulator 1" }

local function describe_regions(st)
  local list = json.array()
  local names = {}
  for r in pairs(st.fleet.regions) do names[#names + 1] = r end
  table.sort(names)
  for _, r in ipairs(names) do
    list[#list + 1] = { RegionId = r, LocalName = r, RegionEndpoint = "ecs." .. r .. ".aliyuncs.com" }
  end
  return { Regions = { Region = list } }
end

M.ACTIONS = {
  CreateCommand = commands.create,
  DescribeCommands = commands.describe,
  ModifyCommand = commands.modify,
  DeleteCommand = commands.delete,
  InvokeCommand = invocations.invoke_command,
  RunCommand = invocations.run_command,
  StopInvocation = invocations.stop,
  DescribeInvocations = invocations.describe_invocations,
  DescribeInvocationResults = invocations.describe_invocation_results,
  SendFile = sendfile.send_file,
  DescribeSendFileResults = sendfile.describe_results,
  DescribeCloudAssistantStatus = instances.describe_status,
  DescribeInstances = instances.describe_instances,
  DescribeRegions = describe_regions,
}

local OPTIONS = {
  credentials = "table", fleet = true, clock = "function", time_scale = "number", check_timestamp = "boolean",
  quota = "table", faults = "table", seed = "number", verify_signatures = "boolean", timing = "table",
  request_log_limit = "number", clock_offset = "number",
}

local function opt_error(msg)
  error("ecs.emulator.new: " .. msg, 3)
end

local function check_options(o)
  if o == nil then return {} end
  if type(o) ~= "table" then opt_error("options must be a table, got " .. type(o)) end
  for k, v in pairs(o) do
    local want = OPTIONS[k]
    if not want then opt_error("unknown option '" .. tostring(k) .. "'") end
    if want ~= true and type(v) ~= want then
      opt_error("option '" .. k .. "' must be a " .. want .. ", got " .. type(v))
    end
  end
  if o.fleet ~= nil and type(o.fleet) ~= "table" and type(o.fleet) ~= "string" then
    opt_error("option 'fleet' must be a table or a path to a JSON file")
  end
  if o.time_scale ~= nil and o.time_scale <= 0 then opt_error("option 'time_scale' must be positive") end
  local lim = o.request_log_limit
  if lim ~= nil and (lim < 0 or lim ~= math.floor(lim)) then
    opt_error("option 'request_log_limit' must be a whole number >= 0")
  end
  local off = o.clock_offset
  if off ~= nil and not (off >= -100 * 366 * 86400 and off <= 100 * 366 * 86400) then
    opt_error("option 'clock_offset' must be a finite number of seconds")
  end
  for id, c in pairs(o.credentials or {}) do
    if type(id) ~= "string" or id == "" then opt_error("credentials: AccessKeyId must be a non-empty string") end
    if type(c) == "table" then
      if type(c.secret) ~= "string" then opt_error("credentials[" .. id .. "].secret must be a string") end
      local tok = c.security_token
      if tok ~= nil and (type(tok) ~= "string" or tok == "") then
        opt_error("credentials[" .. id .. "].security_token must be a non-empty string")
      end
      for k in pairs(c) do
        if k ~= "secret" and k ~= "security_token" then
          opt_error("credentials[" .. id .. "]: unknown key '" .. tostring(k) .. "'")
        end
      end
    elseif type(c) ~= "string" then
      opt_error("credentials[" .. id .. "] must be a secret string or { secret =, security_token = }")
    end
  end
  local q = o.quota or {}
  for k, v in pairs(q) do
    if k ~= "daily_invocations" and k ~= "commands" then opt_error("quota: unknown key '" .. tostring(k) .. "'") end
    if type(v) ~= "number" or not (v >= 0 and v < math.huge) then
      opt_error("quota." .. k .. " must be a non-negative number")
    end
  end
  for k, v in pairs(o.timing or {}) do
    if k ~= "delivery" and k ~= "run" then opt_error("timing: unknown key '" .. tostring(k) .. "'") end
    if type(v) ~= "number" or not (v >= 0 and v < math.huge) then
      opt_error("timing." .. k .. " must be a non-negative number")
    end
  end
  -- NaN and the infinities pass the type check; each would wreck the clock, the IDs or the log
  for k, v in pairs(o) do
    if type(v) == "number" and (v ~= v or v == math.huge or v == -math.huge) then
      opt_error("option '" .. k .. "' must be a finite number, got " .. tostring(v))
    end
  end
  return o
end

local Service = {}
Service.__index = Service
Service.__tostring = function(s)
  local n = 0
  for _ in pairs(s.st.credentials) do n = n + 1 end
  return "ecs.emulator(instances=" .. #s.st.fleet.list .. ", credentials=" .. n .. ")"
end

-- Fresh run-time state over the current fleet document.
function Service:_fresh(keep_fault_rules)
  local st = self.st
  st.fleet = fleet.load(self.fleet_doc)
  st.commands = commands.new_store()
  st.invocations = invocations.new_store()
  st.files = {}
  st.tokens = {}
  st.nonces = signature.new_nonces()
  st.log = requestlog.new(self.opts.request_log_limit)
  st.counters = { requests = 0, calls = {}, invocations = 0, faults = {} }
  st.ids = st.ids or ids.new(self.opts.seed or 1)
  if not keep_fault_rules then
    st.faults = faults.new(self.opts.faults, self.opts.seed or 1)
  end
end

function M.new(opts)
  local o = check_options(opts)
  local creds = {}
  for k, v in pairs(o.credentials or { testid = "testsecret" }) do creds[k] = v end
  local q = o.quota or {}
  local t = o.timing or {}
  local self = setmetatable({ opts = o, fleet_doc = o.fleet }, Service)
  local verify = o.verify_signatures
  if verify == nil then verify = true end
  if verify then codec.require_core() end
  self.st = {
    credentials = creds,
    clock = clock.new(o.clock, o.time_scale or 1, o.clock_offset),
    check_timestamp = o.check_timestamp ~= false,
    verify_signatures = verify,
    quota = { daily_invocations = q.daily_invocations or 500, commands = q.commands or 500 },
    timing = { delivery = t.delivery or 1, run = t.run or 1 },
    actions = M.ACTIONS,
  }
  if o.faults then faults.validate(o.faults) end
  self:_fresh(false)
  return self
end

M.generate_fleet = fleet.generate
M.json = json

local JSON_HEADERS = "application/json;charset=utf-8"

local function response(st, status, body, extra)
  local headers = { ["content-type"] = JSON_HEADERS, ["date"] = clock.http_date(st.clock:wall()) }
  if body.RequestId then headers["x-acs-request-id"] = body.RequestId end
  for k, v in pairs(extra or {}) do headers[k] = v end
  return { status = status, headers = headers, body = json.encode(body) }
end

local function error_response(st, e, request_id, host, extra)
  return response(st, errors.status(e.code), errors.body(e.code, e.message, request_id, host), extra)
end

local function host_id(headers)
  local h = headers.host
  if type(h) ~= "string" or h == "" then return "ecs.aliyuncs.com" end
  return (h:gsub(":%d+$", ""))
end

-- Run an action; returns result table or nil, err (service error).
-- busy: seconds the answer will be held back (a delay fault); a request
-- with the same ClientToken in that time gets IdempotentProcessing.
local function run_action(st, action, auth, p, busy)
  local ok, res = pcall(function()
    local token = validate.client_token(p)
    local key, fp, prev = idempotency.lookup(st, auth, action, p, token)
    if prev then return prev end
    local done, result = pcall(st.actions[action], st, p)
    if key then idempotency.store(st, key, fp, done and result or nil, busy) end
    if not done then error(result, 0) end
    return result
  end)
  if ok then return res end
  if errors.is(res) then return nil, res end
  return nil, errors.new("InternalError", "The emulator failed while processing the request: " .. tostring(res))
end

local function handle_api(self, req, path)
  local st = self.st
  local headers = req.headers or {}
  local method = (req.method or "GET"):upper()
  local request_id = st.ids:request_id()
  local host = host_id(headers)
  st.counters.requests = st.counters.requests + 1
  local query = codec.parse_query(req.query or "")
  local params = {}
  for k, v in pairs(query) do params[k] = v end
  local ctype = (headers["content-type"] or ""):lower()
  if req.body and req.body ~= "" and ctype:find("application/x-www-form-urlencoded", 1, true) then
    for k, v in pairs(codec.parse_query(req.body)) do params[k] = v end
  end
  local action = headers["x-acs-action"] or params.Action
  local entry = st.log:add(action, headers.authorization and "v3" or "v2", params, st.clock:wall())
  local function finish(resp, e)
    entry.status = resp.status
    entry.code = e and e.code or nil
    return resp
  end
  if method ~= "GET" and method ~= "POST" then
    local e = errors.new("UnsupportedHTTPMethod",
      "The HTTP method " .. method .. " is not supported (use GET or POST).")
    return finish(error_response(st, e, request_id, host), e)
  end
  if path ~= "/" then
    local e = errors.new("InvalidApi.NotFound", "Specified api is not found: RPC requests go to path /.")
    return finish(error_response(st, e, request_id, host), e)
  end
  local auth, aerr = signature.verify(st, { method = method, body = req.body or "", headers = headers }, query, params)
  if not auth then return finish(error_response(st, aerr, request_id, host), aerr) end
  action = auth.action
  st.counters.calls[action] = (st.counters.calls[action] or 0) + 1
  local fault = st.faults:pick(action)
  if fault then
    st.counters.faults[fault.kind] = (st.counters.faults[fault.kind] or 0) + 1
    entry.fault = fault.kind
    local e
    if fault.kind == "throttle" then
      e = errors.new("Throttling.User", "Request was denied due to user flow control.")
      local extra = { ["x-acs-retry-after"] = tostring(fault.retry_after) }
      return finish(error_response(st, e, request_id, host, extra), e)
    elseif fault.kind == "error500" then
      e = errors.new("InternalError", "The request processing has failed due to some unknown error.")
      return finish(error_response(st, e, request_id, host), e)
    elseif fault.kind == "error503" then
      e = errors.new("ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
      return finish(error_response(st, e, request_id, host), e)
    elseif fault.kind == "drop_before" then
      entry.status = 0
      return { drop = true, status = 0, headers = {}, body = "" }
    end
  end
  local result, err = run_action(st, action, auth, params, fault and fault.kind == "delay" and fault.delay or nil)
  local resp
  if result then
    local body = {}
    for k, v in pairs(result) do body[k] = v end
    body.RequestId = request_id
    resp = finish(response(st, 200, body))
  else
    resp = finish(error_response(st, err, request_id, host), err)
  end
  if fault and fault.kind == "delay" then resp.delay = fault.delay end
  if fault and fault.kind == "drop_after" then resp.drop = true end
  return resp
end

-- A request field of the wrong type (the host always fills strings and a
-- header table; embedding code may not): the message names the field.
local REQUEST_FIELDS = { method = "string", path = "string", query = "string", body = "string", headers = "table" }
local function check_request_fields(req)
  for name, want in pairs(REQUEST_FIELDS) do
    local v = req[name]
    if v ~= nil and type(v) ~= want then return ("'%s' must be a %s, got %s"):format(name, want, type(v)) end
  end
  for k, v in pairs(req.headers or {}) do
    if type(k) ~= "string" or type(v) ~= "string" then return "'headers' must map names to strings" end
  end
  return nil
end

function Service:handle(req)
  if type(req) ~= "table" then error("ecs.emulator: handle expects a request table, got " .. type(req), 2) end
  local bad = check_request_fields(req)
  if bad then
    local e = errors.new("InvalidParameter", "The request is malformed: " .. bad)
    return response(self.st, 400, errors.body(e.code, e.message, self.st.ids:request_id(), "ecs.aliyuncs.com"))
  end
  local path = req.path or "/"
  local ok, resp
  if path:sub(1, 11) == "/_emulator/" then
    ok, resp = pcall(require("ecs.emulator.admin").handle, self, req)
  else
    ok, resp = pcall(handle_api, self, req, path)
  end
  if ok then return resp end
  local e = errors.new("InternalError", "The emulator failed while processing the request: " .. tostring(resp))
  return response(self.st, 500, errors.body(e.code, e.message, self.st.ids:request_id(), "ecs.aliyuncs.com"))
end

-- Administration (the same operations as the /_emulator/ endpoint).

function Service:reset()
  self:_fresh(false)
end

function Service:set_faults(rules)
  self.st.faults:set(rules)
end

function Service:add_faults(rules)
  self.st.faults:add(rules)
end

function Service:faults()
  return self.st.faults:list()
end

-- Largest clock move (100 years): beyond it dates stop being dates (1e300
-- left every later call failing inside os.date).
local MAX_SHIFT = 100 * 366 * 86400

function Service:advance(seconds)
  if type(seconds) ~= "number" or not (seconds >= 0 and seconds <= MAX_SHIFT) then
    error("ecs.emulator: advance expects a non-negative number of seconds", 2)
  end
  self.st.clock:advance(seconds)
end

-- Accept one more AccessKey pair at run time (a temporary pair with its
-- SecurityToken when token is given); replaces a pair with that ID.
function Service:set_credential(id, secret, token)
  if type(id) ~= "string" or id == "" then
    error("ecs.emulator: set_credential expects a non-empty AccessKeyId", 2)
  end
  if type(secret) ~= "string" or secret == "" then
    error("ecs.emulator: set_credential expects a non-empty AccessKeySecret", 2)
  end
  if token ~= nil and (type(token) ~= "string" or token == "") then
    error("ecs.emulator: set_credential: the SecurityToken must be a non-empty string when given", 2)
  end
  self.st.credentials[id] = token and { secret = secret, security_token = token } or secret
end

-- Seconds the wall clock (Date header, timestamp check) runs away from real time.
function Service:set_clock_offset(seconds)
  if type(seconds) ~= "number" or not (seconds >= -MAX_SHIFT and seconds <= MAX_SHIFT) then
    error("ecs.emulator: set_clock_offset expects a finite number of seconds", 2)
  end
  self.st.clock:set_skew(seconds)
end

function Service:clock_offset()
  return self.st.clock.skew
end

function Service:now()
  return self.st.clock:sim()
end

function Service:requests(since, action)
  if since ~= nil and type(since) ~= "number" then
    error("ecs.emulator: requests expects 'since' to be a sequence number, got " .. type(since), 2)
  end
  if action ~= nil and type(action) ~= "string" then
    error("ecs.emulator: requests expects 'action' to be an action name, got " .. type(action), 2)
  end
  return self.st.log:list(since, action)
end

function Service:clear_requests()
  self.st.log:clear()
end

function Service:counters()
  local c = self.st.counters
  local calls, fl = {}, {}
  for k, v in pairs(c.calls) do calls[k] = v end
  for k, v in pairs(c.faults) do fl[k] = v end
  return { requests = c.requests, calls = calls, invocations = c.invocations, faults = fl }
end

-- Replace the fleet (a document, a path, or nil for the built-in one); the
-- service state is reset, fault rules are kept.
function Service:load_fleet(doc)
  fleet.load(doc)
  self.fleet_doc = doc
  self:_fresh(true)
end

-- Change one instance at run time, e.g. { Status = "Stopped" } or
-- { AgentOnline = false }. Unfinished runs on it end as the service would.
function Service:set_instance(id, changes)
  if type(id) ~= "string" or type(changes) ~= "table" then
    error("ecs.emulator: set_instance expects an instance ID and a table of changes", 2)
  end
  local inst, err = self.st.fleet:update(id, changes)
  if not inst then return nil, err end
  invocations.on_instance_change(self.st, inst)
  return inst
end

function Service:state()
  return require("ecs.emulator.admin").state(self)
end

return M
