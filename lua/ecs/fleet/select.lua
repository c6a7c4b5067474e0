--- client:select_instances: list the targets, then keep the instances that
-- can take the command and say why each other one was skipped.
local targets = require "ecs.fleet.targets"
local eligibility = require "ecs.fleet.eligibility"
local options = require "ecs.fleet.options"
local errors = require "ecs.errors"

local type, pairs, ipairs, error, tostring = type, pairs, ipairs, error, tostring

local M = {}

M.OPTIONS = { targets = true, command_type = true, region = true, check_vpc = true, min_agent = true,
              concurrency = true, rate = true }

--- check(where, opts, level) -> params (Frequency, ContainerId, ...), options
function M.check(where, opts, level)
  level = level + 1
  local params, o = options.split(where, opts, M.OPTIONS, level)
  for k in pairs(params) do
    if k ~= "Frequency" and k ~= "ContainerId" and k ~= "ContainerName" and k ~= "RegionId" then
      error(("ecs: %s: unknown option '%s' (service names taken: Frequency, ContainerId, ContainerName, "
        .. "RegionId)"):format(where, options.short(k)), level)
    end
  end
  if o.targets == nil then error(("ecs: %s: missing option 'targets'"):format(where), level) end
  o.targets = targets.check(where, o.targets, level)
  if o.command_type ~= nil and not eligibility.COMMAND_OS[o.command_type] then
    options.bad(where, "command_type", "expected RunShellScript, RunBatScript or RunPowerShellScript, got "
      .. tostring(o.command_type), level)
  end
  options.kind(where, "region", o.region, "string", level)
  options.kind(where, "check_vpc", o.check_vpc, "boolean", level)
  options.whole(where, "concurrency", o.concurrency, 1, 100, level)
  if o.rate ~= nil and (type(o.rate) ~= "number" or o.rate <= 0) then
    options.bad(where, "rate", "expected calls per second above 0", level)
  end
  if o.min_agent ~= nil then
    if type(o.min_agent) ~= "table" then options.bad(where, "min_agent", "expected { linux =, windows = }", level) end
    for k, v in pairs(o.min_agent) do
      if (k ~= "linux" and k ~= "windows") or (type(v) ~= "string" and v ~= false) then
        options.bad(where, "min_agent", "expected { linux = 'x.y.z.n', windows = 'x.y.z.n' }", level)
      end
    end
  end
  return params, o
end

--- run(client, send, params, o) -> selection | nil, err
-- o: targets (checked), region, command_type, check_vpc, min_agent.
function M.run(client, send, params, o)
  local region = o.region or params.RegionId or client.config.region
  if type(region) ~= "string" or region == "" then
    return nil, errors.invalid("MissingParameter.RegionId",
      "no region: set the client's region or give RegionId", "DescribeInstances")
  end
  local req, msg = eligibility.requirements(params)
  if not req then return nil, errors.invalid("InvalidParam.Frequency", msg, "InvokeCommand") end
  for os, v in pairs(o.min_agent or {}) do
    local cur = req.versions[os]
    if cur == nil or v == false or (cur ~= false and not eligibility.version_at_least(cur, v)) then
      req.versions[os] = v
      req.features[os] = "this command"
    end
  end
  local t = o.targets
  local listing, err = targets.list(send, t, region)
  if not listing then return nil, err end
  local filters = t.tags or t.name or t.status or t.vpc_id or t.resource_group_id or t.zone_id
  local res
  res, err = eligibility.check(send, listing, {
    region = region, check_vpc = o.check_vpc, command_type = o.command_type,
    os = o.command_type and eligibility.COMMAND_OS[o.command_type],
    requirements = req,
    missing_message = filters and "not found in region %s, or it does not match the other targets"
      or "not found in region %s",
  })
  if not res then return nil, err end
  local instances = {}
  for _, inst in ipairs(listing.instances) do instances[inst.InstanceId] = inst end
  return {
    region = region,
    eligible = res.eligible,
    skipped = res.skipped,
    filtered = listing.filtered,
    instances = instances,
    agents = res.agents,
    pages = listing.pages,
    status_calls = res.status_calls,
    requirements = req,
  }
end

return M
