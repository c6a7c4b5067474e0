--- `ecs wait <InvokeId>`: waits until every instance of an invocation has a
-- final status (client:wait_invocation), with live progress.
local args = require "ecs.cli.args"
local service = require "ecs.cli.service"
local output = require "ecs.cli.output"
local progress_m = require "ecs.cli.progress"
local json = require "ecs.cli.json"
local status = require "ecs.cli.status"

local tostring, ipairs, type = tostring, ipairs, type

local M = {
  name = "wait",
  summary = "wait for an invocation to finish on every instance",
  usage = "ecs wait [options] INVOKE_ID",
  description = [[
Polls DescribeInvocationResults until every instance of the invocation has a
final status, then prints a result per instance. The deadline is the
command's Timeout plus slack unless --timeout is given. An InvokeId the
service does not know fails (exit 3) after --grace seconds (default 3).
Ctrl-C stops waiting (the invocation keeps running; `ecs stop` stops it).]],
  examples = { "ecs wait t-hz0xxxx", "ecs wait --json t-hz0xxxx | jq '.counts'" },
}

M.options = {
  { "--timeout", arg = "SECONDS", kind = "number", help = "stop waiting after this long" },
  { "--poll", arg = "SECONDS", kind = "number", min = 0.01, help = "shortest interval between polls (default 1)" },
  { "--instance", short = "-i", arg = "ID[,ID...]", kind = "list", help = "the instances to wait for" },
  { "--grace", arg = "SECONDS", kind = "number",
    help = "how long an invocation (or instance) not found yet counts as pending (default 3)" },
}

-- An InvokeId given on the command line normally exists already: a missing one
-- fails after this short grace, not the fleet layer's 30 s meant for the moments
-- right after invoking. --grace sets it (e.g. 30 in a script that has just invoked).
M.GRACE = 3

--- exit status of a set of results: 0 only when each is a success.
function M.results_status(order, results, complete)
  if #order == 0 then return status.FAILED end
  for _, id in ipairs(order) do
    local r = results[id]
    if not r or r.class ~= "success" then return status.FAILED end
  end
  if complete == false then return status.FAILED end
  return status.OK
end

function M.main(ctx, o, pos)
  if #pos ~= 1 then args.usage(#pos == 0 and "missing INVOKE_ID" or "one INVOKE_ID, got %d arguments", #pos) end
  local id = pos[1]
  local client = service.client(ctx, o)
  local mode = progress_m.mode(ctx, o)
  local prog = progress_m.new(ctx, mode)
  local instances = args.ids(o.instance)
  ctx.on_interrupt = function()
    prog:finish()
    ctx.eprint(("interrupted: stopped waiting; invocation %s keeps running (ecs stop %s stops it)\n"):format(id, id))
    if o.json then
      ctx.print(json.encode { command = "wait", InvokeId = id, interrupted = true,
                              exit_status = status.INTERRUPTED } .. "\n")
    end
    return status.INTERRUPTED
  end
  local out, err = service.checked(client.wait_invocation, client, id, {
    timeout = o.timeout, instances = instances, grace = o.grace or M.GRACE,
    poll = o.poll,
    on_progress = function(p) prog:update(p) end,
    on_result = function(r) prog:result(r) end,
  })
  ctx.on_interrupt = nil
  prog:finish()
  if not out then
    if o.json then
      ctx.print(json.encode { command = "wait", InvokeId = id, error = tostring(err),
                              code = type(err) == "table" and err.code or nil, exit_status = status.SERVICE } .. "\n")
    end
    ctx.eprint("ecs wait: " .. tostring(err) .. "\n")
    return status.SERVICE
  end
  local code = M.results_status(out.order, out.results, out.complete)
  if out.error then code = status.SERVICE end
  if o.json then
    ctx.print(json.encode { command = "wait", InvokeId = id, region = out.region,
      results = output.results_json(out.order, out.results), counts = out.counts, complete = out.complete,
      error = out.error and tostring(out.error) or json.null, exit_status = code } .. "\n")
  else
    if mode ~= "lines" then ctx.print(output.results_table(out.order, out.results)) end
    if out.error then ctx.eprint("ecs wait: " .. tostring(out.error) .. "\n") end
    ctx.print(prog:summary(out.counts) .. "\n")
  end
  return code
end

return M
