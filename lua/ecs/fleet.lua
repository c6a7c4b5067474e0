--- Fleet operations on the client: select the instances that can take a
-- command, run it on them in batches, wait for every result, rerun the
-- instances that hit instance or agent trouble. See docs/fleet.md.
--   client:select_instances(opts)        -> selection | nil, err
--   client:invoke_fleet(opts)            -> report | nil, err
--   client:plan_fleet(opts)              -> plan (checked, nothing sent)
--   client:wait_invocation(id, opts)     -> outcome | nil, err
--   client:invocation_results(id, opts)  -> results read once | nil, err
--   client:rerun(report, opts)           -> report | nil, err
--   client:invocation_quota(region)      -> { used, limit, remaining, day, region }
local options = require "ecs.fleet.options"
local targets = require "ecs.fleet.targets"
local select_m = require "ecs.fleet.select"
local eligibility = require "ecs.fleet.eligibility"
local sender = require "ecs.fleet.send"
local wait = require "ecs.fleet.wait"
local invocation = require "ecs.fleet.invocation"
local batches = require "ecs.fleet.batches"
local report_m = require "ecs.fleet.report"
local quota = require "ecs.fleet.quota"
local errors = require "ecs.errors"
local endpoints = require "ecs.endpoints"

local type, pairs, ipairs, error, tostring, tonumber = type, pairs, ipairs, error, tostring, tonumber

local copy = options.copy

local M = {}

local FLEET_OPTIONS = {
  targets = true, batch_size = true, concurrency = true, max_errors = true, rate = true, wait = true,
  on_batch = true, on_result = true, on_progress = true, on_launch = true, poll = true, grace = true, slack = true,
  wait_timeout = true, check_vpc = true, min_agent = true,
}


--- client:select_instances(opts) -> { eligible = {ids}, skipped = {...}, ... } | nil, err
local function select_instances(self, opts)
  local params, o = select_m.check("select_instances", opts, 2)
  options.common("select_instances", o, 2)
  local send = sender.new(self, { concurrency = o.concurrency or 4, rate = o.rate })
  local sel, err = select_m.run(self, send, params, o)
  if not sel then return nil, err end
  sel.calls = copy(send.calls)
  return sel
end

-- The command's type and timeout from DescribeCommands; nil, err when a c- ID does not exist.
local function command_info(send, region, id)
  local res, err = send:one("DescribeCommands", { RegionId = region, CommandId = id })
  if not res then return nil, err end
  local list = type(res.Commands) == "table" and res.Commands.Command
  if type(list) == "table" then
    for _, c in ipairs(list) do
      if type(c) == "table" and c.CommandId == id then return { type = c.Type, timeout = tonumber(c.Timeout) } end
    end
  end
  if id:match("^c%-") then
    return nil, errors.new { code = "InvalidCmdId.NotFound", action = "DescribeCommands",
      message = ("command %s does not exist in %s; nothing was sent"):format(id, region) }
  end
  return {}  -- a public command by name: type unknown
end

local function check_fleet(where, opts, level)
  level = level + 1
  local params, o = options.split(where, opts, FLEET_OPTIONS, level)
  if params.InstanceId ~= nil then
    if o.targets ~= nil then
      error(("ecs: %s: give the instances in 'targets' or 'InstanceId', not both"):format(where), level)
    end
    o.targets = { InstanceId = params.InstanceId }
    params.InstanceId = nil
  end
  if params.ResourceTag ~= nil then
    error(("ecs: %s: select by tags with targets = { tags = {...} } (ResourceTag is not batched)"):format(where),
      level)
  end
  if params.ClientToken ~= nil then
    error(("ecs: %s: a ClientToken is made for each batch; do not pass one"):format(where), level)
  end
  if o.targets == nil then error(("ecs: %s: missing option 'targets'"):format(where), level) end
  o.targets = targets.check(where, o.targets, level)
  local action
  if params.CommandContent ~= nil then
    action = "RunCommand"
    if not eligibility.COMMAND_OS[params.Type] then
      error(("ecs: %s: RunCommand needs Type = RunShellScript, RunBatScript or RunPowerShellScript, got %s")
        :format(where, tostring(params.Type)), level)
    end
    if params.CommandId ~= nil then
      error(("ecs: %s: give CommandId (InvokeCommand) or CommandContent (RunCommand), not both"):format(where),
        level)
    end
  elseif type(params.CommandId) == "string" and params.CommandId ~= "" then
    action = "InvokeCommand"
  else
    error(("ecs: %s: give CommandId (runs a saved command) or Type and CommandContent (RunCommand)")
      :format(where), level)
  end
  options.whole(where, "batch_size", o.batch_size, 1, batches.MAX_BATCH, level)
  o.max_errors = options.max_errors(where, o.max_errors, level)
  options.kind(where, "wait", o.wait, "boolean", level)
  options.kind(where, "check_vpc", o.check_vpc, "boolean", level)
  options.seconds(where, "wait_timeout", o.wait_timeout, level, options.MAX_WAIT)
  options.common(where, o, level)
  local periodic = params.Frequency ~= nil or (params.RepeatMode ~= nil and params.RepeatMode ~= "Once")
  if o.wait == nil then o.wait = not periodic end
  if o.wait and periodic then
    error(("ecs: %s: wait = true needs a one-time run (RepeatMode Once, no Frequency)"):format(where), level)
  end
  return params, o, action
end

--- client:invoke_fleet(opts) -> report | nil, err (nil only when nothing was invoked)
local function invoke_fleet(self, opts)
  local where = "invoke_fleet"
  local params, o, action = check_fleet(where, opts, 2)
  local raw_max_errors = opts.max_errors
  local region = params.RegionId or self.config.region
  if type(region) ~= "string" or region == "" then
    return nil, errors.invalid("MissingParameter.RegionId", "no region: set the client's region or give RegionId",
      action)
  end
  params.RegionId = region
  local ok, qerr = quota.check(self, region, 1)
  if not ok then return nil, qerr end
  local send = sender.new(self, { concurrency = o.concurrency or 1, rate = o.rate })
  local command_type, command_timeout = params.Type, nil
  if action == "InvokeCommand" then
    local info, err = command_info(send, region, params.CommandId)
    if not info then return nil, err end
    command_type, command_timeout = info.type, info.timeout
  end
  command_timeout = tonumber(params.Timeout) or command_timeout or wait.defaults.command_timeout
  local request = { params = copy(params), options = {
    batch_size = o.batch_size, concurrency = o.concurrency, max_errors = raw_max_errors, rate = o.rate,
    wait = o.wait, poll = o.poll, grace = o.grace, slack = o.slack, wait_timeout = o.wait_timeout,
    check_vpc = o.check_vpc, min_agent = o.min_agent } }
  local rep = report_m.new { region = region, action = action, CommandId = params.CommandId,
                             command_type = command_type, request = request }
  local sel, err = select_m.run(self, send, params, { targets = o.targets, region = region,
    command_type = eligibility.COMMAND_OS[command_type] and command_type or nil,
    check_vpc = o.check_vpc, min_agent = o.min_agent })
  if not sel then return nil, err end
  rep.eligible, rep.skipped, rep.filtered = sel.eligible, sel.skipped, sel.filtered
  local batch_size = o.batch_size or batches.MAX_BATCH
  local planned = math.floor((#sel.eligible + batch_size - 1) / batch_size)
  if planned > 0 then
    ok, qerr = quota.check(self, region, planned)
    if not ok then return nil, qerr end
  end
  batches.run(self, send, rep, sel.eligible, {
    action = action, params = params, batch_size = batch_size, concurrency = o.concurrency or 1,
    max_errors = o.max_errors, wait = o.wait, poll = o.poll, grace = o.grace or wait.defaults.grace,
    slack = o.slack or wait.defaults.slack, wait_timeout = o.wait_timeout, command_timeout = command_timeout,
    on_batch = o.on_batch, on_result = o.on_result, on_progress = o.on_progress, on_launch = o.on_launch,
  })
  report_m.finish(rep, send)
  rep.quota = quota.status(self, region)
  return rep
end

--- client:plan_fleet(opts) -> plan: what invoke_fleet(opts) would send, checked the same
-- way (a bad option raises), without any call. The batches are known only when
-- the targets are instance IDs alone; otherwise selection needs DescribeInstances.
local function plan_fleet(self, opts)
  local params, o, action = check_fleet("plan_fleet", opts, 2)
  params.RegionId = params.RegionId or self.config.region
  local t = o.targets
  local size = o.batch_size or batches.MAX_BATCH
  local ids_only = t.ids ~= nil and not (t.tags or t.name or t.status or t.vpc_id or t.resource_group_id
    or t.zone_id or t.filter or t.all)
  return { action = action, region = params.RegionId, params = params, targets = t, batch_size = size,
           batches = ids_only and batches.split(t.ids, size) or nil, wait = o.wait }
end

local RERUN_OPTIONS = { max = true }

--- client:rerun(report, opts) -> report | nil, err: the infra instances of report, run again.
local function rerun(self, rep, opts)
  local where = "rerun"
  local req = type(rep) == "table" and rep.request
  if type(rep) ~= "table" or type(rep.results) ~= "table" or type(req) ~= "table" or type(req.params) ~= "table"
    or type(req.options) ~= "table" then
    error(("ecs: %s: bad report: expected the report of invoke_fleet"):format(where), 2)
  end
  opts = opts or {}
  if type(opts) ~= "table" then error(("ecs: %s: expected a table of options"):format(where), 2) end
  local merged = copy(rep.request.params)
  merged.RegionId = rep.region
  for k, v in pairs(rep.request.options) do merged[k] = v end
  for k, v in pairs(opts) do
    if k == "targets" or k == "InstanceId" then
      error(("ecs: %s: the instances are the report's infra ones; '%s' cannot be given"):format(where, k), 2)
    end
    if not RERUN_OPTIONS[k] then merged[k] = v end
  end
  local cap = options.whole(where, "max", opts.max, 1, 100000, 2) or 100
  local ids = report_m.infra(rep, cap)
  if #ids == 0 then
    local empty = report_m.new { region = rep.region, action = rep.action, CommandId = rep.CommandId,
                                 command_type = rep.command_type, request = rep.request }
    empty.rerun_of = rep
    return empty
  end
  merged.targets = { InstanceId = ids }
  local out, err = invoke_fleet(self, merged)
  if not out then return nil, err end
  out.rerun_of = rep
  return out
end

local function invocation_quota(self, region)
  if region == nil then
    region = self.config.region
    if region == nil then error("ecs: invocation_quota: no region given and none on the client", 2) end
  end
  if type(region) ~= "string" then
    error(("ecs: invocation_quota: bad region: expected a region ID string, got %s"):format(type(region)), 2)
  end
  if not endpoints.valid_region(region) then
    error(("ecs: invocation_quota: bad region '%s': not a region ID"):format(options.short(region)), 2)
  end
  return quota.status(self, region)
end

--- install(Client): adds the fleet methods to the client class.
function M.install(Client)
  Client.select_instances = select_instances
  Client.invoke_fleet = invoke_fleet
  Client.plan_fleet = plan_fleet
  Client.wait_invocation = invocation.wait
  Client.invocation_results = invocation.results
  Client.rerun = rerun
  Client.invocation_quota = invocation_quota
end

return M
