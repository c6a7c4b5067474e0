--- `ecs instances`: the target selection with eligibility and the reason
-- each other instance is skipped (client:select_instances).
local args = require "ecs.cli.args"
local service = require "ecs.cli.service"
local output = require "ecs.cli.output"
local json = require "ecs.cli.json"
local status = require "ecs.cli.status"

local tostring, ipairs, type = tostring, ipairs, type
local format = string.format

local M = {
  name = "instances",
  summary = "list the targeted instances: eligible, or skipped and why",
  usage = "ecs instances [options] TARGETS",
  description = [[
Lists the instances the targets select (DescribeInstances) and checks each
the way `ecs run` does: Running, VPC network, Cloud Assistant online
(DescribeCloudAssistantStatus), OS matching --type, agent version for
--frequency. Read-only. Exits 0 when the listing worked, whatever the
eligibility.]],
  examples = { "ecs instances --tag env=prod", "ecs instances --name 'web-*' --type powershell --json" },
}

local TYPES = { shell = "RunShellScript", bat = "RunBatScript", powershell = "RunPowerShellScript" }

M.options = args.merge({
  { "--type", arg = "shell|bat|powershell", choices = { shell = true, bat = true, powershell = true },
    help = "check the OS against this command type" },
  { "--frequency", arg = "EXPR", help = "check the agent version this schedule needs" },
  { "--no-vpc-check", kind = "flag", help = "do not skip instances outside a VPC" },
}, service.TARGET_OPTIONS)

local function field(inst, k)
  local v = type(inst) == "table" and inst[k]
  if type(v) == "string" then return v end
  return ""
end

function M.main(ctx, o, pos)
  if #pos > 0 then args.usage("unexpected argument '%s'", pos[1]) end
  local targets = service.targets(o)
  if not targets then args.usage("no targets: give -i ID, --tag KEY=VALUE, --name PATTERN, -t SPEC or --all") end
  local client = service.client(ctx, o)
  local sel, err = service.checked(client.select_instances, client, { targets = targets,
    command_type = o.type and TYPES[o.type] or nil, Frequency = o.frequency,
    check_vpc = o.no_vpc_check and false or nil })
  if not sel then
    if o.json then
      ctx.print(json.encode { command = "instances", error = tostring(err),
        code = type(err) == "table" and err.code or nil, exit_status = status.SERVICE } .. "\n")
    end
    ctx.eprint("ecs instances: " .. tostring(err) .. "\n")
    return status.SERVICE
  end
  local instances = sel.instances or {}
  if o.json then
    local list = json.array()
    for _, id in ipairs(sel.eligible) do
      local inst = instances[id]
      list[#list + 1] = { InstanceId = id, InstanceName = field(inst, "InstanceName"), Status = field(inst, "Status"),
                          OSType = field(inst, "OSType"), ZoneId = field(inst, "ZoneId") }
    end
    ctx.print(json.encode { command = "instances", region = sel.region, eligible = list,
      skipped = output.skipped_json(sel.skipped), filtered = output.ids_json(sel.filtered),
      counts = { eligible = #sel.eligible, skipped = #sel.skipped }, exit_status = status.OK } .. "\n")
    return status.OK
  end
  local rows = {}
  for _, id in ipairs(sel.eligible) do
    local inst = instances[id]
    rows[#rows + 1] = { id, field(inst, "InstanceName"), field(inst, "Status"), field(inst, "OSType"),
                        "eligible", "" }
  end
  for _, s in ipairs(sel.skipped) do
    local inst = instances[s.InstanceId]
    rows[#rows + 1] = { s.InstanceId, field(inst, "InstanceName"), field(inst, "Status"), field(inst, "OSType"),
                        "skipped: " .. tostring(s.reason), output.first_line(s.message, 70) }
  end
  if #rows > 0 then
    ctx.print(output.table({ "INSTANCE", "NAME", "STATUS", "OS", "ELIGIBILITY", "WHY" }, rows))
  end
  ctx.print(format("%d eligible, %d skipped in %s\n", #sel.eligible, #sel.skipped, tostring(sel.region)))
  return status.OK
end

return M
