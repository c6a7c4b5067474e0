--- --dry-run of `ecs run` / `ecs invoke`: the targets, the batches (when the
-- instances are given by ID) and the first request signed with the current
-- credentials, every secret masked. Nothing is sent: resolving tags or a name
-- pattern would need DescribeInstances, so those are shown as given (`ecs
-- instances` with the same targets lists the selection).
local output = require "ecs.cli.output"
local service = require "ecs.cli.service"
local json = require "ecs.cli.json"
local status = require "ecs.cli.status"
local batches_m = require "ecs.fleet.batches"

local pairs, ipairs, type, tostring = pairs, ipairs, type, tostring
local format = string.format

local M = {}

M.BATCH = batches_m.MAX_BATCH
M.PLACEHOLDER = "<selected at run time>"

--- show(ctx, o, client, fleet) -> exit status (0, or 3 when the request cannot be signed).
function M.show(ctx, o, client, fleet)
  local t = fleet.targets
  local only_ids = t.InstanceId and not (t.tags or t.name or t.status or t.vpc_id or t.resource_group_id
    or t.zone_id or t.all)
  local size = fleet.batch_size or M.BATCH
  local batches = only_ids and batches_m.split(t.InstanceId, size) or nil
  local params = {}
  for k, v in pairs(fleet) do
    if type(k) == "string" and k:match("^%u") then params[k] = v end
  end
  params.RegionId = params.RegionId or client.config.region
  params.InstanceId = batches and batches[1] or { M.PLACEHOLDER }
  local action = params.CommandContent and "RunCommand" or "InvokeCommand"
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
      p(format("selection: %d instance%s as given (eligibility is checked at run time)\n", #t.InstanceId,
        #t.InstanceId == 1 and "" or "s"))
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
