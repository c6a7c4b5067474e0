--- Local checks of the limits the service documents (reference §1, §2, §9),
-- so a request it would reject fails before it is sent, with a message that
-- names the limit. Returns params (possibly rewritten) or nil, err.
local core = require "ecs.core"
local errors = require "ecs.errors"
local frequency = require "ecs.frequency"

local type, pairs, tostring = type, pairs, tostring

local M = {}

local function count(list)
  if type(list) ~= "table" then return list == nil and 0 or 1 end
  return #list
end

local function b64len(n) return math.floor((n + 2) / 3) * 4 end

local MAX_INSTANCES = { InvokeCommand = 100, RunCommand = 100, StopInvocation = 50, SendFile = 50,
                        DescribeCloudAssistantStatus = 100 }

local LENGTHS = {
  Name = { CreateCommand = 128, RunCommand = 128, SendFile = 255, ModifyCommand = 128 },
  Description = 512, WorkingDir = 200, Username = 255, WindowsPasswordName = 255,
  Launcher = 1024, ClientToken = 64, TargetDir = 255,
}

local REPEAT_MODES = { Once = true, Period = true, NextRebootOnly = true, EveryReboot = true, DryRun = true }

local function fail(action, code, msg)
  return nil, errors.invalid(code, msg, action)
end

local function limit_for(spec, action)
  if type(spec) == "table" then return spec[action] end
  return spec
end

-- { name, limit, name, limit, ... } of the LENGTHS that apply to an action,
-- built once per action (check runs before every call)
local lengths_cache = {}
local function lengths_for(action)
  local list = lengths_cache[action]
  if not list then
    list = {}
    for name, spec in pairs(LENGTHS) do
      local lim = limit_for(spec, action)
      if lim then
        list[#list + 1] = name
        list[#list + 1] = lim
      end
    end
    lengths_cache[action] = list
  end
  return list
end

-- the options check_request gets, built once per checks-options table
local function freq_opts(opts, action)
  local k = action == "RunCommand" and "_freq_run" or "_freq"
  local fo = opts[k]
  if not fo then
    fo = { instance_zone = opts.instance_zone, default_timeout = action == "RunCommand" and 60 or nil,
           in_place = opts.owned == true or nil } -- in_place: params is the caller's private copy
    if opts.owned then opts[k] = fo end
  end
  return fo
end

--- check(action, params, opts) -> params | nil, err
-- opts: { instance_zone =, log = function(event), owned = true when params is
-- a private copy that may be rewritten in place }
function M.check(action, params, opts)
  opts = opts or {}
  local max = MAX_INSTANCES[action]
  if max then
    local n = count(params.InstanceId)
    if n > max then
      return fail(action, "InstanceIds.ExceedLimit",
        ("InstanceId: %d instances given, %s takes at most %d per call"):format(n, action, max))
    end
  end
  local lengths = lengths_for(action)
  for i = 1, #lengths, 2 do
    local name, lim = lengths[i], lengths[i + 1]
    local v = params[name]
    if type(v) == "string" and #v > lim then
      return fail(action, "InvalidParameter." .. name,
        ("%s: %d bytes, the service accepts at most %d"):format(name, #v, lim))
    end
  end
  if params.ClientToken ~= nil and (type(params.ClientToken) ~= "string" or params.ClientToken:find("[^\32-\126]")) then
    return fail(action, "InvalidClientToken.Malformed", "ClientToken: printable ASCII only, at most 64 characters")
  end
  local timeout = params.Timeout
  if timeout ~= nil and (action == "InvokeCommand" or action == "RunCommand" or action == "CreateCommand") then
    local t = tonumber(timeout)
    -- NaN, infinity and fractions pass "t < 10" but the service takes whole seconds (a long)
    if not t or t < 10 or t ~= math.floor(t) or t == math.huge then
      return fail(action, "InvalidParameter.Timeout",
        ("Timeout: %s seconds, the service needs a whole number of at least 10"):format(tostring(timeout)))
    end
  end
  if action == "InvokeCommand" or action == "RunCommand" then
    local p = params.Parameters
    if type(p) == "table" then
      local n, approx = 0, 2
      for k, v in pairs(p) do
        n = n + 1
        if type(k) ~= "string" or k == "" or #k > 64 then
          return fail(action, "ParameterKey.ExceedLimit", "Parameters: each name must be 1 to 64 characters")
        end
        if type(v) ~= "string" then
          return fail(action, "ParameterType.NotSupported",
            ("Parameters.%s: values must be strings (got a %s)"):format(k, type(v)))
        end
        approx = approx + #k + #v + 6
      end
      if n > 10 then
        return fail(action, "ParameterCount.ExceedLimit",
          ("Parameters: %d given, at most 10 per invocation"):format(n))
      end
      -- content + Parameters share one Base64 budget (reference §1.2); the
      -- JSON is only built when the cheap upper bound comes near it
      local content = action == "RunCommand" and type(params.CommandContent) == "string" and params.CommandContent or ""
      local enc = params.ContentEncoding
      local csize = (type(enc) == "string" and enc:lower() == "base64") and #content or b64len(#content)
      local keep = params.KeepCommand
      local lim = (action == "RunCommand" and not (keep == true or keep == "true")) and 24 * 1024 or 18 * 1024
      if csize + b64len(approx) > lim then
        local psize = b64len(#core.json_encode(p))
        if csize + psize > lim then
          return fail(action, "CmdContent.ExceedLimit",
            ("CommandContent and Parameters: %d bytes once Base64-encoded, the limit is %d KB"):format(
              csize + psize, lim / 1024))
        end
      end
    end
    if params.RepeatMode ~= nil and not REPEAT_MODES[params.RepeatMode] then
      return fail(action, "InvalidRepeatMode.NotFound",
        ("RepeatMode: '%s' is not one of Once, Period, NextRebootOnly, EveryReboot, DryRun"):format(
          tostring(params.RepeatMode)))
    end
    if params.InstanceId == nil and params.ResourceTag == nil then
      return fail(action, "MissingParam.InstanceId", "InstanceId: give the target instances (or ResourceTag)")
    end
    if params.InstanceId ~= nil and params.ResourceTag ~= nil then
      return fail(action, "InvalidResourceTag.ConflictWithInstanceIds",
        "InstanceId and ResourceTag: give one or the other, not both")
    end
  end
  if action == "RunCommand" or action == "CreateCommand" then
    local c = params.CommandContent
    if type(c) == "string" then
      local enc = params.ContentEncoding or (action == "CreateCommand" and "Base64" or "PlainText")
      if type(enc) ~= "string" then
        return fail(action, "InvalidParameter.ContentEncoding",
          ("ContentEncoding: expected 'PlainText' or 'Base64', got a %s"):format(type(enc)))
      end
      local size = enc:lower() == "base64" and #c or b64len(#c)
      local keep = params.KeepCommand
      if keep == "false" then keep = false end -- the wire form of false (flatten sends false as "false")
      local lim = (action == "RunCommand" and not keep) and 24 * 1024 or 18 * 1024
      if size > lim then
        return fail(action, "CmdContent.ExceedLimit",
          ("CommandContent: %d bytes once Base64-encoded, the limit is %d KB"):format(size, lim / 1024))
      end
    end
  end
  if action == "SendFile" and type(params.Content) == "string" then
    local size = (params.ContentType == "Base64") and #params.Content or b64len(#params.Content)
    if size > 32 * 1024 then
      return fail(action, "InvalidParameter.Content",
        ("Content: %d bytes once Base64-encoded, the limit is 32 KB"):format(size))
    end
  end
  if (action == "InvokeCommand" or action == "RunCommand") and (params.Frequency ~= nil or params.Timed ~= nil) then
    local out, warn, code = frequency.check_request(params, freq_opts(opts, action))
    if not out then return fail(action, code or "InvalidParam.Frequency", tostring(warn)) end
    if type(warn) == "table" and opts.log then
      for i = 1, #warn do opts.log { event = "warning", action = action, message = warn[i] } end
    end
    params = out
  end
  return params
end

return M
