--- --dry-run of `ecs run` / `ecs invoke`: the targets, the batches (when the
-- instances are given by ID) and the first request signed with the current
-- credentials, every secret masked. Nothing is sent: resolving tags or a name
-- pattern would need DescribeInstances, so those are shown as given (`ecs
-- instances` with the same targets lists the selection).
local output = require "ecs.cli.output"
local service = require "ecs.cli.service"
local json = require "ecs.cli.json"
local status = require "ecs.cli.status"

local ipairs, tostring = ipairs, tostring
local format = string.format

local M = {}

M.PLACEHOLDER = "<selected at run time>"

--- show(ctx, o, client, fleet) -> exit status (0, or 3 when the request cannot be signed).
-- client:plan_fleet checks the run as invoke_fleet would (usage error when it refuses).
function M.show(ctx, o, client, fleet)
  local t = fleet.targets
  local plan = service.checked(client.plan_fleet, client, fleet)
  local size, batches, action = plan.batch_size, plan.batches, plan.action
  local only_ids = batches ~= nil
  local params = plan.params
  params.InstanceId = batches and batches[1] or { M.PLACEHOLDER }
  local req, err = client:prepare(action, params)
  local masked = req and output.mask_request(req, function(s) return client:scrub(s) end)
  if o.json then
    local bl = json.array()
    for i, b in ipairs(batches or {}) do bl[i] = output.ids_json(b) end
    ctx.print(json.encode {
      command = o.command, dry_run = true, sent = false, action = action, region = params.RegionId,
      targets = { InstanceId = t.InstanceId and output.ids_json(t.InstanceId) or nil, tags = t.tags, name = t.name,
                  status = t.status, vpc_id = t.vpc_id, resource_group_id = t.resource_group_id, zone_id = t.zone_id,
                  all = t.all },
      selection = only_ids and "given" or "resolved at run time",
      batches = batches and bl or json.null, batch_size = size,
      request = masked or json.null, error = (not req) and tostring(err) or nil,
      exit_status = req and status.OK or status.SERVICE,
    } .. "\n")
  else
    local p = ctx.print
    p("dry run: nothing is sent\n")
    p(format("action: %s in %s\n", action, tostring(params.RegionId)))
    p("targets: " .. service.describe_targets(t) .. "\n")
    if batches then
      local n = #plan.targets.ids
      p(format("selection: %d instance%s as given (eligibility is checked at run time)\n", n, n == 1 and "" or "s"))
      p(format("batches: %d of at most %d\n", #batches, size))
      for i, b in ipairs(batches) do p(format("  batch %d: %s\n", i, table.concat(b, ", "))) end
    else
      p("selection: resolved at run time by DescribeInstances; `ecs instances` with the same targets lists it\n")
      p(format("batches: of at most %d instances\n", size))
    end
    if req then
      p("first request (signed, secrets masked):\n")
      for line in output.request_text(masked):gmatch("[^\n]*\n") do p("  " .. line) end
    else
      ctx.eprint("ecs: the request cannot be signed: " .. tostring(err) .. "\n")
    end
  end
  return req and status.OK or status.SERVICE
end

return M
