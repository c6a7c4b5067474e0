--- One invocation by its InvokeId: its results read once
-- (client:invocation_results) or waited for until every instance is final
-- (client:wait_invocation). Both read DescribeInvocationResults through the
-- same paging (ecs.fleet.wait.fetch) and classify each entry the same way.
local options = require "ecs.fleet.options"
local targets = require "ecs.fleet.targets"
local sender = require "ecs.fleet.send"
local wait = require "ecs.fleet.wait"
local classify = require "ecs.fleet.classify"
local errors = require "ecs.errors"
local endpoints = require "ecs.endpoints"

local type, pairs, ipairs, error, tonumber, math_min = type, pairs, ipairs, error, tonumber, math.min

local copy = options.copy

local M = {}

local WAIT_OPTIONS = {
  region = true, instances = true, timeout = true, command_timeout = true, slack = true, grace = true,
  poll = true, on_result = true, on_progress = true, concurrency = true, rate = true,
}

local RESULTS_OPTIONS = { region = true, instance = true, concurrency = true, rate = true }

local function check_id(where, invoke_id)
  if type(invoke_id) ~= "string" or invoke_id == "" then
    error(("ecs: %s: bad invoke_id: expected an InvokeId string such as 't-...', got %s"):format(where,
      type(invoke_id)), 3)
  end
end

-- The options table split and checked; raises on anything unknown.
local function check_options(where, opts, allowed)
  if opts == nil then opts = {} end
  local extra, o = options.split(where, opts, allowed, 3)
  for k in pairs(extra) do error(("ecs: %s: unknown option '%s'"):format(where, options.short(k)), 3) end
  options.common(where, o, 3)
  options.kind(where, "region", o.region, "string", 3)
  if o.region ~= nil and not endpoints.valid_region(o.region) then
    options.bad(where, "region", ("'%s' is not a region ID"):format(options.short(o.region)), 3)
  end
  return o
end

local function region_of(self, o, action)
  local region = o.region or self.config.region
  if type(region) ~= "string" or region == "" then
    return nil, errors.invalid("MissingParameter.RegionId", "no region: set the client's region or give region",
      action)
  end
  return region
end

local function not_found(invoke_id, region, grace, action)
  return errors.new { code = "InvalidInvokeId.NotFound", action = action or "DescribeInvocationResults",
    message = ("invocation %s was not found in %s%s"):format(invoke_id, region,
      grace > 0 and (" (waited the %g s grace)"):format(grace) or "") }
end
M.not_found = not_found

--- invocation_results(client, invoke_id, opts) -> { InvokeId, region, order, results, counts, complete,
-- requests, calls } | nil, err. One pass over every page; a result per instance
-- (class nil while not final), counts per class plus `running`. No record at
-- all is InvalidInvokeId.NotFound (InvalidInstanceId.NotFound with `instance`).
function M.results(self, invoke_id, opts)
  local where = "invocation_results"
  check_id(where, invoke_id)
  local o = check_options(where, opts, RESULTS_OPTIONS)
  options.kind(where, "instance", o.instance, "string", 2)
  local region, rerr = region_of(self, o, "DescribeInvocationResults")
  if not region then return nil, rerr end
  local send = sender.new(self, { concurrency = o.concurrency or 4, rate = o.rate })
  local w = { InvokeId = invoke_id, region = region, instance = o.instance, polls = 0, requests = 0 }
  local s = wait.fetch(send, { w })[1]
  if s.err then return nil, s.err end
  if #s.entries == 0 then
    -- the service answers an unknown InvokeId with an empty list
    if o.instance then
      return nil, errors.new { code = "InvalidInstanceId.NotFound", action = "DescribeInvocationResults",
        message = ("invocation %s has no execution record for %s in %s"):format(invoke_id, o.instance, region) }
    end
    return nil, not_found(invoke_id, region, 0)
  end
  local order, results = {}, {}
  local counts = classify.new_counts()
  counts.running = 0
  for _, e in ipairs(s.entries) do
    local id = e.InstanceId
    if not results[id] then order[#order + 1] = id end
    results[id] = classify.result(e, invoke_id)
  end
  for _, id in ipairs(order) do
    local c = results[id].class or "running"
    counts[c] = counts[c] + 1
  end
  return { InvokeId = invoke_id, region = region, order = order, results = results, counts = counts,
           complete = counts.running == 0, requests = w.requests, calls = copy(send.calls) }
end


-- DescribeInvocations: the invocation's Timeout and instances, or absent = true
-- when the service says there is no such invocation.
local function describe(send, region, invoke_id)
  local res, err = send:one("DescribeInvocations", { RegionId = region, InvokeId = invoke_id })
  if not res then
    return { absent = type(err) == "table" and err.code == "InvalidInvokeId.NotFound" }
  end
  local list = type(res.Invocations) == "table" and res.Invocations.Invocation
  local inv = type(list) == "table" and list[1]
  if type(inv) ~= "table" then return { absent = true } end
  local out = { timeout = tonumber(inv.Timeout) }
  local recs = type(inv.InvokeInstances) == "table" and inv.InvokeInstances.InvokeInstance
  if type(recs) == "table" and #recs > 0 then
    out.instances = {}
    for i, x in ipairs(recs) do out.instances[i] = x.InstanceId end
  end
  return out
end

--- wait_invocation(client, invoke_id, opts) -> outcome | nil, err
function M.wait(self, invoke_id, opts)
  local where = "wait_invocation"
  check_id(where, invoke_id)
  local o = check_options(where, opts, WAIT_OPTIONS)
  options.seconds(where, "timeout", o.timeout, 2, options.MAX_WAIT)
  options.seconds(where, "command_timeout", o.command_timeout, 2, options.MAX_WAIT)
  local instances = o.instances
  if instances ~= nil then
    instances = targets.check(where, { InstanceId = instances }, 2).ids
  end
  local region, rerr = region_of(self, o, "DescribeInvocationResults")
  if not region then return nil, rerr end
  local grace = o.grace or wait.defaults.grace
  local send = sender.new(self, { concurrency = o.concurrency or 4, rate = o.rate })
  local started = self.clock()
  local command_timeout = o.command_timeout
  if not o.timeout and not command_timeout then
    local info = describe(send, region, invoke_id)
    if info.absent and grace == 0 then return nil, not_found(invoke_id, region, 0, "DescribeInvocations") end
    command_timeout = info.timeout
    instances = instances or info.instances
  end
  command_timeout = command_timeout or wait.defaults.command_timeout
  local w = wait.new_waiter(invoke_id, { region = region, instances = instances, started = started, grace = grace,
    deadline = started + (o.timeout or (command_timeout + (o.slack or wait.defaults.slack))) })
  local ok, err = wait.run(self, send, { w }, { poll = o.poll, on_result = o.on_result,
    on_progress = o.on_progress, first_delay = math_min(o.poll.min, grace) })
  if not ok and #w.order == 0 then
    if type(err) == "table" and err.code == "InvalidInvokeId.NotFound" then
      err = not_found(invoke_id, region, grace)
    end
    return nil, err
  end
  local counts, complete = classify.new_counts(), true
  for _, id in ipairs(w.order) do
    local r = w.results[id]
    counts[r.class] = counts[r.class] + 1
    if r.error_code and r.error_code:match("^Fleet%.") then complete = false end
  end
  return { InvokeId = invoke_id, region = region, results = w.results, order = w.order, counts = counts,
           complete = complete, polls = w.polls, requests = w.requests, calls = copy(send.calls),
           error = err }
end

return M
