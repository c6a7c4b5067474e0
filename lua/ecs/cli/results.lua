--- `ecs results <InvokeId>`: the current per-instance results of an
-- invocation, output decoded, without waiting (client:invocation_results).
local args = require "ecs.cli.args"
local service = require "ecs.cli.service"
local output = require "ecs.cli.output"
local json = require "ecs.cli.json"
local status = require "ecs.cli.status"
local wait = require "ecs.cli.wait"

local tostring, ipairs, type = tostring, ipairs, type

local M = {
  name = "results",
  summary = "show the current result of each instance of an invocation",
  usage = "ecs results [options] INVOKE_ID",
  description = [[
Reads every page of DescribeInvocationResults once and prints, per instance,
the class (success, failed, timeout, cancelled, infra; running while not
final), status, exit code and the first line of the decoded output (--full:
the whole output). Exits 0 only when every instance succeeded, 3 when the
service has no record of the invocation (or of --instance in it).]],
  examples = { "ecs results t-hz0xxxx", "ecs results --json t-hz0xxxx" },
}

M.options = {
  { "--instance", short = "-i", arg = "ID", help = "only this instance" },
  { "--full", kind = "flag", help = "print each instance's whole output" },
}

function M.main(ctx, o, pos)
  if #pos ~= 1 then args.usage(#pos == 0 and "missing INVOKE_ID" or "one INVOKE_ID, got %d arguments", #pos) end
  local id = pos[1]
  local client = service.client(ctx, o)
  local out, err = service.checked(client.invocation_results, client, id, { instance = o.instance })
  if not out then
    if o.json then
      ctx.print(json.encode { command = "results", InvokeId = id, error = tostring(err),
        code = type(err) == "table" and err.code or nil, exit_status = status.SERVICE } .. "\n")
    end
    ctx.eprint("ecs results: " .. tostring(err) .. "\n")
    return status.SERVICE
  end
  local order, results, counts = out.order, out.results, out.counts
  local code = wait.results_status(order, results)
  if o.json then
    ctx.print(json.encode { command = "results", InvokeId = id, region = out.region,
      results = output.results_json(order, results), counts = counts, complete = out.complete,
      exit_status = code } .. "\n")
    return code
  end
  if o.full then
    for _, i in ipairs(order) do
      local r = results[i]
      local row = output.result_row(r)
      ctx.print(("== %s %s %s exit=%s\n"):format(row[1], row[2], row[3], row[4]))
      if r.error_code then ctx.print(("error: %s %s\n"):format(r.error_code, tostring(r.error_info or ""))) end
      ctx.print(r.output or "")
      if r.output and r.output ~= "" and not r.output:match("\n$") then ctx.print("\n") end
    end
  else
    ctx.print(output.results_table(order, results))
  end
  ctx.print(output.counts_text(counts, { "success", "failed", "timeout", "cancelled", "infra", "running" }) .. "\n")
  return code
end

return M
