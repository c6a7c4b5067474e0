-- The per-instance lifecycle of an invocation on the simulated clock:
--   Pending (delivery) -> Running (script: sleeps + base run time) ->
--   Success | Failed | Timeout; StopInvocation gives Cancelled (not started)
--   or Terminated (running); an instance that stops or loses its agent
--   gives Aborted (not started) or Failed (running). Periodic tasks are
--   Scheduled between runs (see periodic.lua). Views are computed from
--   times, never stored.
local script = require "ecs.emulator.script"
local periodic = require "ecs.emulator.periodic"

local M = {}

M.TERMINAL = { Success = true, Failed = true, Invalid = true, Aborted = true, Error = true,
  Timeout = true, Cancelled = true, Terminated = true }

M.KILLED_EXIT_CODE = 137

local function view_fields(status, extra)
  extra = extra or {}
  extra.status = status
  return extra
end

-- One run of rec's script starting at `start`, seen at `now`. rec holds
-- run (script result), timeout, stop_at, abort = { at, code, info },
-- fail = { code, info }. Returns { status, error_code, error_info,
-- exit_code, output, start_time, finish_time, stop_time, repeats }.
local function run_view(rec, start, now, timing)
  local stop, abort = rec.stop_at, rec.abort
  local dur = (timing.run or 1) + rec.run.duration
  local timed_out = dur > rec.timeout
  local fin = start + (timed_out and rec.timeout or dur)
  local cut, by_stop
  if stop and (not abort or stop <= abort.at) then cut, by_stop = stop, true
  elseif abort then cut, by_stop = abort.at, false end
  if cut and cut <= now and cut < start then
    if by_stop then
      return view_fields("Cancelled", { output = "", stop_time = cut, finish_time = cut, repeats = 0 })
    end
    return view_fields("Aborted", { error_code = abort.code, error_info = abort.info, output = "",
      finish_time = cut, repeats = 0 })
  end
  if now < start then
    return view_fields("Pending", { output = "", repeats = 0 })
  end
  if cut and cut < fin and cut <= now then
    local out = script.output(rec.run, cut - start)
    if by_stop then
      return view_fields("Terminated", { output = out, exit_code = M.KILLED_EXIT_CODE, start_time = start,
        stop_time = cut, finish_time = cut, repeats = 1 })
    end
    return view_fields("Failed", { error_code = abort.code, error_info = abort.info, output = out,
      start_time = start, finish_time = cut, repeats = 1 })
  end
  if now < fin then
    return view_fields("Running", { output = script.output(rec.run, now - start), start_time = start,
      repeats = 1 })
  end
  if timed_out then
    return view_fields("Timeout", { error_code = "ExecutionTimeout",
      error_info = "the command execution has timed out.", output = script.output(rec.run, rec.timeout),
      exit_code = M.KILLED_EXIT_CODE, start_time = start, finish_time = fin, repeats = 1 })
  end
  local out = script.output(rec.run)
  if rec.fail then
    return view_fields("Failed", { error_code = rec.fail.code, error_info = rec.fail.info, output = out,
      exit_code = rec.run.exit_code, start_time = start, finish_time = fin, repeats = 1 })
  end
  if rec.run.exit_code ~= 0 then
    return view_fields("Failed", { error_code = "ExitCodeNonzero",
      error_info = "the command execution exit code is not zero.", output = out,
      exit_code = rec.run.exit_code, start_time = start, finish_time = fin, repeats = 1 })
  end
  return view_fields("Success", { output = out, exit_code = 0, start_time = start, finish_time = fin, repeats = 1 })
end

-- Fire times of a periodic record that started before the stop (if any).
local function started_runs(rec, now)
  local upto = now
  if rec.stop_at and rec.stop_at < upto then upto = rec.stop_at end
  local fires, count = periodic.fires(rec.schedule, upto)
  if rec.stop_at and #fires > 0 and fires[#fires] >= rec.stop_at then
    fires[#fires] = nil
    count = count - 1
  end
  return fires, count
end

local function periodic_view(rec, now, timing)
  local stop = rec.stop_at
  local fires, count = {}, 0
  if rec.schedule then fires, count = started_runs(rec, now) end
  if #fires == 0 then
    if stop and stop <= now then
      return view_fields("Cancelled", { output = "", stop_time = stop, finish_time = stop, repeats = 0 })
    end
    return view_fields("Scheduled", { output = "", repeats = 0 })
  end
  local v = run_view(rec, fires[#fires], now, timing)
  v.repeats = count
  if v.status == "Running" or v.status == "Terminated" then return v end
  if stop and stop <= now then
    v.status, v.stop_time = "Cancelled", stop
    return v
  end
  if periodic.finished(rec.schedule, count) then return v end
  v.status = "Scheduled"
  return v
end

-- The state of one instance of an invocation at `now` (see run_view).
-- rec: { created, start, run, timeout, periodic, schedule, fixed, stop_at,
-- abort, fail }; timing: { run = base run seconds }.
function M.view(rec, now, timing)
  if rec.fixed then
    return view_fields(rec.fixed.status, { error_code = rec.fixed.code, error_info = rec.fixed.info,
      output = "", finish_time = rec.created, repeats = 0 })
  end
  if rec.periodic then return periodic_view(rec, now, timing) end
  return run_view(rec, rec.start, now, timing)
end

-- Every run of a periodic record so far, newest first (IncludeHistory).
function M.history(rec, now, timing)
  if rec.fixed or not rec.periodic or not rec.schedule then return { M.view(rec, now, timing) } end
  local fires = started_runs(rec, now)
  local out = {}
  for i = #fires, 1, -1 do
    local v = run_view(rec, fires[i], now, timing)
    v.repeats = 1
    out[#out + 1] = v
  end
  if #out == 0 then out[1] = M.view(rec, now, timing) end
  return out
end

local FAILED_LIKE = { Failed = true, Invalid = true, Aborted = true, Error = true, Timeout = true }
local STOPPED = { Cancelled = true, Terminated = true }

-- Task-level InvocationStatus and the legacy InvokeStatus from the
-- per-instance statuses.
function M.aggregate(statuses)
  local has = {}
  local n, success, failed, stopped = 0, 0, 0, 0
  for _, s in ipairs(statuses) do
    n = n + 1
    has[s] = true
    if s == "Success" then success = success + 1
    elseif FAILED_LIKE[s] then failed = failed + 1
    elseif STOPPED[s] then stopped = stopped + 1 end
  end
  for _, s in ipairs({ "Pending", "Scheduled", "Running", "Stopping" }) do
    if has[s] then
      return s, (s == "Stopping") and "Stopping" or "Running"
    end
  end
  if n == 0 then return "Pending", "Running" end
  if stopped == n then return "Stopped", "Stopped" end
  if success > 0 and failed == 0 then return "Success", "Finished" end
  if success == 0 then return "Failed", "Failed" end
  return "PartialFailed", "PartialFailed"
end

-- Legacy per-record status (InstanceInvokeStatus / InvokeRecordStatus).
function M.record_status(s)
  if s == "Success" then return "Finished" end
  if FAILED_LIKE[s] then return "Failed" end
  if STOPPED[s] then return "Stopped" end
  if s == "Stopping" then return "Stopping" end
  return "Running"
end

return M
