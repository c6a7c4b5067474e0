--- `ecs invoke`: an existing command (CommandId) on a fleet, with Parameters
-- and an optional schedule (InvokeCommand through client:invoke_fleet).
local args = require "ecs.cli.args"
local service = require "ecs.cli.service"
local fleetrun = require "ecs.cli.fleetrun"

local M = {
  name = "invoke",
  summary = "invoke an existing command (CommandId), once or on a schedule",
  usage = "ecs invoke [options] TARGETS COMMAND_ID",
  description = [[
Invokes a saved command on the selected eligible instances in batches of at
most 100. The command's type (from DescribeCommands) decides which operating
systems can take it. With --frequency or a repeat mode other than Once the
invocations are created and their InvokeIds printed without waiting; otherwise
ecs waits for every result.]],
  examples = {
    "ecs invoke --tag env=prod c-hz01xxxx --param name=world",
    "ecs invoke -i i-bp1xxx c-hz01xxxx --frequency '0 0 2 * * ? Asia/Shanghai'",
  },
}

M.options = args.merge(args.merge({
  { "--param", short = "-p", arg = "KEY=VALUE", kind = "list", empty = true,
    help = "a command parameter (repeatable)" },
}, service.TARGET_OPTIONS), fleetrun.OPTIONS)

function M.main(ctx, o, pos)
  if #pos == 0 then args.usage("missing COMMAND_ID") end
  if #pos > 1 then args.usage("one COMMAND_ID, got %d arguments", #pos) end
  local targets = service.targets(o)
  if not targets then args.usage("no targets: give -i ID, --tag KEY=VALUE, --name PATTERN, -t SPEC or --all") end
  local params = { CommandId = pos[1] }
  if o.param then
    params.Parameters = {}
    for _, kv in ipairs(o.param) do
      local k, v = args.key_value("--param", kv)
      params.Parameters[k] = v
    end
  end
  return fleetrun.run(ctx, M.name, o, fleetrun.fleet_params(o, params, targets))
end

return M
