--- `ecs stop <InvokeId>`: StopInvocation for an invocation (all its
-- instances, or the ones given).
local args = require "ecs.cli.args"
local service = require "ecs.cli.service"
local json = require "ecs.cli.json"
local status = require "ecs.cli.status"

local tostring, type = tostring, type

local M = {
  name = "stop",
  summary = "stop an invocation (StopInvocation)",
  usage = "ecs stop [options] INVOKE_ID",
  description = [[
Asks the service to stop the invocation: runs not started yet become
Cancelled, running ones Terminated. A scheduled task stops firing. With -i,
only those instances (at most 50).]],
  examples = { "ecs stop t-hz0xxxx", "ecs stop -i i-bp1xxx t-hz0xxxx" },
}

M.options = {
  { "--instance", short = "-i", arg = "ID[,ID...]", kind = "list", help = "only these instances" },
}

function M.main(ctx, o, pos)
  if #pos ~= 1 then args.usage(#pos == 0 and "missing INVOKE_ID" or "one INVOKE_ID, got %d arguments", #pos) end
  local id = pos[1]
  local instances = args.ids(o.instance)
  local client = service.client(ctx, o)
  local res, err = service.checked(client.call, client, "StopInvocation",
    { RegionId = client.config.region, InvokeId = id, InstanceId = instances })
  local code = res and status.OK or status.SERVICE
  if o.json then
    ctx.print(json.encode { command = "stop", InvokeId = id, stopped = res ~= nil,
      RequestId = res and res.RequestId or nil, error = err and tostring(err) or nil,
      code = type(err) == "table" and err.code or nil, exit_status = code } .. "\n")
  elseif res then
    ctx.print(("stop requested for %s%s (RequestId %s)\n"):format(id,
      instances and (" on " .. table.concat(instances, ", ")) or "", tostring(res.RequestId)))
  end
  if err then ctx.eprint("ecs stop: " .. tostring(err) .. "\n") end
  return code
end

return M
