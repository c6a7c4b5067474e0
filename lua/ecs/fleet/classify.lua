--- Per-instance results of an invocation: the class of each final status
-- (success, failed, timeout, cancelled, infra) and the result record built
-- from a DescribeInvocationResults entry, with the output decoded.
local core = require "ecs.core"

local type, tonumber, math_floor = type, tonumber, math.floor

local M = {}

M.CLASSES = { "success", "failed", "timeout", "cancelled", "infra" }

--- Final per-instance InvocationStatus values (reference §2.12).
M.TERMINAL = { Success = true, Failed = true, Invalid = true, Aborted = true, Error = true,
               Timeout = true, Cancelled = true, Terminated = true }

-- Per-instance ErrorCode (reference §2.13) -> class. Instance or agent
-- trouble is `infra`: running the same command again may well succeed.
M.ERROR_CLASS = {
  InstanceNotExists = "infra", InstanceReleased = "infra", InstanceNotRunning = "infra",
  ClientNotRunning = "infra", ClientNotResponse = "infra", ClientIsUpgrading = "infra",
  ClientNeedUpgrade = "infra", DeliveryTimeout = "infra", ExecutionInterrupted = "infra",
  SecurityGroupRuleDenied = "infra", TaskConcurrencyLimit = "infra",
  ExecutionTimeout = "timeout",
  ExitCodeNonzero = "failed", CommandNotApplicable = "failed", AccountNotExists = "failed",
  DirectoryNotExists = "failed", BadCronExpression = "failed", ExecutionException = "failed",
}

local STATUS_CLASS = {
  Success = "success", Failed = "failed", Invalid = "failed", Timeout = "timeout",
  Cancelled = "cancelled", Terminated = "cancelled", Aborted = "infra", Error = "infra",
}

--- class(status, error_code) -> class name, or nil while not final.
function M.class(status, error_code)
  if not M.TERMINAL[status] then return nil end
  if status == "Success" or status == "Cancelled" or status == "Terminated" then
    return STATUS_CLASS[status]
  end
  local by_code = type(error_code) == "string" and M.ERROR_CLASS[error_code]
  return by_code or STATUS_CLASS[status]
end

local function str(v)
  if type(v) == "string" and v ~= "" then return v end
  return nil
end

local function epoch(s)
  s = str(s)
  local t = s and core.parse_timestamp(s)
  return t and math_floor(t) or nil
end

local function int(v)
  local n = tonumber(v)
  if n then return math_floor(n) end
  return nil
end

--- Output text from the service's Base64; the raw text when it does not decode.
function M.decode_output(v)
  if type(v) ~= "string" or v == "" then return "" end
  local text = core.base64_decode(v)
  if text == nil then return v, false end
  return text, true
end

--- result(entry, invoke_id) -> the result record of one DescribeInvocationResults entry.
function M.result(e, invoke_id)
  local status = e.InvocationStatus
  local code = str(e.ErrorCode)
  local output, decoded = M.decode_output(e.Output)
  return {
    InstanceId = e.InstanceId,
    InvokeId = e.InvokeId or invoke_id,
    class = M.class(status, code),
    status = status,
    exit_code = int(e.ExitCode),
    output = output,
    output_raw = decoded == false and true or nil,
    error_code = code,
    error_info = str(e.ErrorInfo),
    dropped = int(e.Dropped) or 0,
    started = epoch(e.StartTime),
    finished = epoch(e.FinishedTime or e.FinishTime),
    start_time = str(e.StartTime),
    finish_time = str(e.FinishedTime or e.FinishTime),
  }
end

--- A result for an instance that has no execution record (call failed,
-- nothing delivered, wait deadline): class, status and error given.
function M.synthetic(instance_id, invoke_id, class, status, code, info)
  return { InstanceId = instance_id, InvokeId = invoke_id, class = class, status = status,
           error_code = code, error_info = info, output = "", dropped = 0 }
end

--- counts(results) -> { success =, failed =, timeout =, cancelled =, infra = }
function M.new_counts()
  local c = {}
  for i = 1, #M.CLASSES do c[M.CLASSES[i]] = 0 end
  return c
end

return M
