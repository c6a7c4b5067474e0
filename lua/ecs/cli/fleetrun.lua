--- What `ecs run` and `ecs invoke` share: the fleet options, the call to
-- client:invoke_fleet with live progress and Ctrl-C handling, the report
-- printed as a table or one JSON document, and the exit status.
local args = require "ecs.cli.args"
local service = require "ecs.cli.service"
local output = require "ecs.cli.output"
local progress_m = require "ecs.cli.progress"
local interrupt = require "ecs.cli.interrupt"
local dryrun = require "ecs.cli.dryrun"
local json = require "ecs.cli.json"
local status = require "ecs.cli.status"

local pairs, ipairs, type, tostring, tonumber = pairs, ipairs, type, tostring, tonumber
local format = string.format

local M = {}

M.OPTIONS = {
  { "--timeout", arg = "SECONDS", kind = "int", min = 10, max = 86400,
    help = "command timeout on the instance (Timeout, default 60)" },
  { "--frequency", arg = "EXPR", help = "schedule (rate(..), at(..) or cron; see `ecs schedule`); no waiting" },
  { "--repeat-mode", arg = "MODE", choices = { Once = true, Period = true, NextRebootOnly = true,
    EveryReboot = true }, help = "Once (default), Period, NextRebootOnly or EveryReboot" },
  { "--username", arg = "USER", help = "user the command runs as" },
  { "--workdir", arg = "DIR", help = "working directory on the instance" },
  { "--batch-size", arg = "N", kind = "int", min = 1, max = 100, help = "instances per call (at most 100)" },
  { "--concurrency", arg = "N", kind = "int", min = 1, max = 100, help = "calls in flight (default 1)" },
  { "--max-errors", arg = "N|P%", help = "stop launching batches after more failures than this" },
  { "--rate", arg = "CALLS", kind = "number", min = 0.001, help = "API calls per second" },
  { "--no-wait", kind = "flag", help = "print the InvokeIds and return without waiting" },
  { "--wait-timeout", arg = "SECONDS", kind = "number", help = "give up waiting after this long" },
  { "--poll", arg = "SECONDS", kind = "number", min = 0.01, help = "shortest interval between polls (default 1)" },
  { "--no-vpc-check", kind = "flag", help = "do not skip instances outside a VPC" },
  { "--allow-skipped", kind = "flag", help = "exit 0 even when some targeted instances were skipped" },
  { "--dry-run", kind = "flag", help = "show targets, batches and a signed request with secrets masked; send nothing" },
}

local function max_errors(v)
  if v == nil then return nil end
  if v:match("^%s*%d+%.?%d*%s*%%%s*$") then return v end
  local n = tonumber(v)
  if not n or n < 0 or n ~= math.floor(n) then
    args.usage("--max-errors: expected a count or a percentage such as 5%%, got '%s'", v)
  end
  return n
end

--- fleet_params(o, params) -> the invoke_fleet table: service params plus client options.
function M.fleet_params(o, params, targets)
  params.Timeout = o.timeout
  params.Frequency = o.frequency
  params.RepeatMode = o.repeat_mode
  params.Username = o.username
  params.WorkingDir = o.workdir
  local f = {}
  for k, v in pairs(params) do f[k] = v end
  f.targets = targets
  f.batch_size = o.batch_size
  f.concurrency = o.concurrency
  f.max_errors = max_errors(o.max_errors)
  f.rate = o.rate
  if o.no_wait then f.wait = false end
  f.wait_timeout = o.wait_timeout
  f.poll = o.poll
  if o.no_vpc_check then f.check_vpc = false end
  return f
end

--- exit status of a report.
function M.exit_status(rep, o)
  if rep.error or #(rep.failed_calls or {}) > 0 then return status.SERVICE end
  local c = rep.counts
  if c.failed + c.timeout + c.cancelled + c.infra > 0 then return status.FAILED end
  if #rep.not_launched > 0 or rep.stopped then return status.FAILED end
  if #rep.skipped > 0 and not o.allow_skipped then return status.FAILED end
  if #rep.eligible == 0 then return status.FAILED end
  return status.OK
end

local function invocations_json(rep)
  local list = json.array()
  for _, inv in ipairs(rep.invocations) do
    list[#list + 1] = { InvokeId = inv.InvokeId, InstanceId = output.ids_json(inv.InstanceId), batch = inv.batch }
  end
  return list
end

local function calls_json(list)
  local out = json.array()
  for _, c in ipairs(list or {}) do
    local e = c.error
    out[#out + 1] = { InstanceId = output.ids_json(c.InstanceId), error = e and tostring(e) or json.null,
                      code = type(e) == "table" and e.code or nil }
  end
  return out
end

function M.report_json(name, rep, code)
  return {
    command = name, action = rep.action, region = rep.region, CommandId = rep.CommandId,
    invocations = invocations_json(rep), results = output.results_json(rep.order, rep.results),
    eligible = output.ids_json(rep.eligible), skipped = output.skipped_json(rep.skipped),
    not_launched = output.ids_json(rep.not_launched), counts = rep.counts, stopped = rep.stopped or json.null,
    error = rep.error and tostring(rep.error) or json.null, exit_status = code,
    failed_calls = calls_json(rep.failed_calls),
  }
end

local function print_report(ctx, rep, prog, mode)
  if mode ~= "lines" and #rep.order > 0 then
    ctx.print(output.results_table(rep.order, rep.results))
  end
  for _, s in ipairs(rep.skipped) do
    ctx.print(format("skipped %s: %s (%s)\n", s.InstanceId, tostring(s.reason), tostring(s.message)))
  end
  if #rep.not_launched > 0 then
    ctx.print(format("not launched: %d instance%s (%s)\n", #rep.not_launched, #rep.not_launched == 1 and "" or "s",
      table.concat(rep.not_launched, ", ")))
  end
  for _, inv in ipairs(rep.invocations) do
    ctx.print(format("invocation %s: %d instance%s\n", inv.InvokeId, #inv.InstanceId,
      #inv.InstanceId == 1 and "" or "s"))
  end
  if rep.stopped then ctx.print("stopped early: " .. rep.stopped .. "\n") end
  if rep.error then
    ctx.eprint("ecs: " .. tostring(rep.error) .. "\n")
  else
    for _, c in ipairs(rep.failed_calls or {}) do ctx.eprint("ecs: " .. tostring(c.error) .. "\n") end
  end
  if rep.request and rep.request.options and rep.request.options.wait == false then
    local n = #rep.invocations
    ctx.print(format("started %d invocation%s without waiting%s\n", n, n == 1 and "" or "s",
      n > 0 and ("; `ecs wait " .. rep.invocations[1].InvokeId .. "` follows one") or ""))
  else
    ctx.print(prog:summary(rep.counts) .. "\n")
  end
end

--- run(ctx, name, o, fleet) -> exit status. fleet: the invoke_fleet table.
function M.run(ctx, name, o, fleet)
  local client = service.client(ctx, o)
  if o.dry_run then return dryrun.show(ctx, o, client, fleet) end
  local mode = progress_m.mode(ctx, o)
  local prog = progress_m.new(ctx, mode)
  local tracker = interrupt.tracker(client.config.region)
  ctx.on_interrupt = function()
    prog:finish()
    local stopped = interrupt.stop(client, tracker)
    local ids = {}
    for i, s in ipairs(stopped) do
      ids[i] = s.InvokeId .. (s.ok and "" or (" (failed: " .. tostring(s.error) .. ")"))
    end
    if #ids > 0 then
      ctx.eprint(format("interrupted: asked the service to stop %d invocation%s: %s\n", #ids,
        #ids == 1 and "" or "s", table.concat(ids, ", ")))
    else
      ctx.eprint("interrupted: no invocation had been started\n")
    end
    if o.json then
      local list = json.array()
      for i, s in ipairs(stopped) do list[i] = { InvokeId = s.InvokeId, stopped = s.ok, error = s.error } end
      ctx.print(json.encode { command = name, interrupted = true, stopped = list,
                              exit_status = status.INTERRUPTED } .. "\n")
    end
    return status.INTERRUPTED
  end
  fleet.on_progress = function(p) prog:update(p) end
  fleet.on_result = function(r) prog:result(r) end
  fleet.on_launch = tracker.on_launch
  local rep, err = service.checked(client.invoke_fleet, client, fleet)
  ctx.on_interrupt = nil
  prog:finish()
  if not rep then
    if o.json then
      ctx.print(json.encode { command = name, error = tostring(err), code = type(err) == "table" and err.code or nil,
                              exit_status = status.SERVICE } .. "\n")
    end
    ctx.eprint("ecs " .. name .. ": " .. tostring(err) .. "\n")
    return status.SERVICE
  end
  local code = M.exit_status(rep, o)
  if o.json then
    ctx.print(json.encode(M.report_json(name, rep, code)) .. "\n")
  else
    print_report(ctx, rep, prog, mode)
  end
  return code
end

return M
