-- Service errors: the code -> HTTP status table, the error body, and a way
-- for action handlers to stop with a service error.
local json = require "ecs.emulator.json"

local error, type, setmetatable, format = error, type, setmetatable, string.format

local M = {}

-- HTTP status per code where it is not 400.
local STATUS = {
  ["InvalidAccessKeyId.NotFound"] = 404,
  ["InvalidAction.NotFound"] = 404,
  ["InvalidApi.NotFound"] = 404,
  ["UnsupportedHTTPMethod"] = 403,
  ["InternalError"] = 500,
  ["InternalError.Dispatch"] = 500,
  ["ServiceUnavailable"] = 503,
  ["InvalidRegionId.NotFound"] = 404,
  ["InvalidInstance.NotFound"] = 404,
  ["InvalidInstanceId.NotFound"] = 404,
  ["InvalidCmdId.NotFound"] = 404,
  ["InvalidInvokeId.NotFound"] = 404,
  ["InvalidRepeatMode.NotFound"] = 404,
  ["InvalidResourceGroup.NotFound"] = 404,
  ["InvalidTerminationMode.NotFound"] = 404,
  ["InvalidCmdType.NotFound"] = 404,
  ["InstanceIds.ExceedLimit"] = 403,
  ["Invocation.ExceedQuota"] = 403,
  ["ParameterCount.ExceedLimit"] = 403,
  ["ParameterKey.ExceedLimit"] = 403,
  ["CmdContent.ExceedLimit"] = 403,
  ["ParameterKey.Duplicate"] = 403,
  ["Parameter.NotMatched"] = 403,
  ["ParameterType.NotSupported"] = 403,
  ["Username.ExceedLimit"] = 403,
  ["WindowsPasswordName.ExceedLimit"] = 403,
  ["IdempotentParameterMismatch"] = 403,
  ["IdempotentProcessing"] = 403,
  ["InvalidLauncher.LengthLimitExceeded"] = 403,
  ["CmdName.ExceedLimit"] = 403,
  ["CmdDesc.ExceedLimit"] = 403,
  ["CmdCount.ExceedQuota"] = 403,
  ["CmdParamCount.ExceedLimit"] = 403,
  ["CmdParamName.ExceedLimit"] = 403,
  ["InvalidTimeout.ExceedLimit"] = 403,
  ["Operation.Forbidden"] = 403,
}

function M.status(code)
  return STATUS[code] or 400
end

local err_mt = { __tostring = function(e) return e.code .. ": " .. e.message end }

function M.new(code, message)
  return setmetatable({ emulator_error = true, code = code, message = message }, err_mt)
end

function M.is(e)
  return type(e) == "table" and e.emulator_error == true
end

-- Stop the current action with a service error.
function M.raise(code, fmt, ...)
  local msg = fmt
  if select("#", ...) > 0 then msg = format(fmt, ...) end
  error(M.new(code, msg or code), 0)
end

function M.missing(name)
  M.raise("MissingParameter." .. name,
    "The input parameter \"%s\" that is mandatory for processing this request is not supplied.", name)
end

function M.invalid(name, why)
  M.raise("InvalidParameter." .. name, "The specified parameter \"%s\" is not valid%s.", name,
    why and (": " .. why) or "")
end

-- Build the body table of an error response.
function M.body(code, message, request_id, host_id)
  return {
    RequestId = request_id,
    HostId = host_id or "ecs.aliyuncs.com",
    Code = code,
    Message = message,
    Recommend = "https://api.aliyun.com/troubleshoot?q=" .. code .. "&product=Ecs&requestId=" .. request_id,
  }
end

function M.encode_body(code, message, request_id, host_id)
  return json.encode(M.body(code, message, request_id, host_id))
end

return M
