--- Fan-out of a fleet run: eligible instances in batches of at most 100,
-- `concurrency` InvokeCommand (or RunCommand) calls in flight per wave, each
-- with its own ClientToken (kept over retries by the client), waiting for the
-- wave's results, then max_errors and the on_batch hook decide whether to go on.
local classify = require "ecs.fleet.classify"
local quota = require "ecs.fleet.quota"
local wait = require "ecs.fleet.wait"
local report_m = require "ecs.fleet.report"
local options = require "ecs.fleet.options"

local ipairs, type, tostring = ipairs, type, tostring
local format = string.format

local copy = options.copy

local M = {}

M.MAX_BATCH = 100

--- split(ids, size) -> list of lists of at most size IDs, in order.
function M.split(ids, size)
  local out = {}
  for i = 1, #ids, size do
    local b = {}
    for j = i, math.min(#ids, i + size - 1) do b[#b + 1] = ids[j] end
    out[#out + 1] = b
  end
  return out
end


-- What on_batch asked: nil (go on), a stop reason, or a pause in seconds.
local function hook_answer(a, b, index)
  if a == false or a == "stop" then
    return type(b) == "string" and b or format("stopped by on_batch after batch %d", index)
  end
  if type(a) == "table" and a.stop then
    return type(a.stop) == "string" and a.stop or format("stopped by on_batch after batch %d", index)
  end
  if type(a) == "number" and a > 0 then return nil, a end
  if a == "pause" and type(b) == "number" then return nil, b end
  if type(a) == "table" and type(a.pause) == "number" then return nil, a.pause end
  return nil
end

local function note_failed_batch(rep, ids, err, hooks)
  rep.failed_calls[#rep.failed_calls + 1] = { InstanceId = ids, error = err }
  for _, id in ipairs(ids) do
    local r = classify.synthetic(id, nil, "infra", "NotSent", err and err.code or "Fleet.CallFailed",
      err and err.message or "the invocation call failed")
    report_m.add(rep, r)
    if hooks.on_result then hooks.on_result(r) end
  end
end

--- run(client, send, rep, eligible, plan) -> report (always; errors in report.error)
-- plan: action, params, batch_size, concurrency, max_errors (spec), wait (bool),
-- poll, grace, slack, wait_timeout, command_timeout, on_batch, on_result, on_progress,
-- on_launch (called with each batch's invocation as soon as its answer is in).
function M.run(client, send, rep, eligible, plan)
  local batches = M.split(eligible, plan.batch_size)
  rep.batches.total = #batches
  local limit = options.error_limit(plan.max_errors, #eligible)
  local region = rep.region
  local hooks = { on_result = plan.on_result }
  local on_result = plan.on_result
  local index = 0
  -- counts per class and finished instances of the whole run so far
  local function run_counts()
    local c, n = classify.new_counts(), 0
    for _, k in ipairs(classify.CLASSES) do
      c[k] = rep.counts[k]
      n = n + c[k]
    end
    return c, n
  end
  local function progress(phase)
    if plan.on_progress then
      local counts, finished = run_counts()
      plan.on_progress { phase = phase, batches_launched = rep.batches.launched, batches_total = #batches,
                         launched = #rep.order, total = #eligible, counts = counts, finished = finished }
    end
  end
  while index < #batches and not rep.stopped do
    local wave = {}
    for i = index + 1, math.min(#batches, index + plan.concurrency) do wave[#wave + 1] = i end
    local calls = {}
    for k, i in ipairs(wave) do
      local p = copy(plan.params)
      p.RegionId = region
      p.InstanceId = batches[i]
      calls[k] = { plan.action, p }
    end
    local launched_at = client.clock()
    local answers = send:many(calls)
    if plan.on_launch then
      for k, i in ipairs(wave) do
        local res = answers[k][1]
        if res and type(res.InvokeId) == "string" then
          plan.on_launch { InvokeId = res.InvokeId, InstanceId = batches[i], batch = i, RegionId = region,
                           CommandId = res.CommandId or plan.params.CommandId }
        end
      end
    end
    local waiters = {}
    for k, i in ipairs(wave) do
      local res, err = answers[k][1], answers[k][2]
      local ids = batches[i]
      rep.batches.launched = rep.batches.launched + 1
      if res and type(res.InvokeId) == "string" then
        quota.add(client, region, 1)
        local inv = { InvokeId = res.InvokeId, InstanceId = ids, CommandId = res.CommandId or plan.params.CommandId,
                      batch = i, RequestId = res.RequestId }
        rep.invocations[#rep.invocations + 1] = inv
        for _, id in ipairs(ids) do report_m.note(rep, id) end
        if plan.wait then
          local w = wait.new_waiter(res.InvokeId, { region = region, instances = ids, started = launched_at,
            grace = plan.grace, deadline = launched_at + (plan.wait_timeout
              or (plan.command_timeout + plan.slack)) })
          w.inv = inv
          waiters[#waiters + 1] = w
        end
      else
        if err and err.code == "Invocation.ExceedQuota" then
          quota.exhaust(client, region)
          rep.error = rep.error or err
          rep.stopped = rep.stopped or ("quota: the service refused batch " .. i .. " (Invocation.ExceedQuota): "
            .. tostring(err.message))
        else
          rep.error = rep.error or err
          rep.stopped = rep.stopped or format("batch %d: %s failed: %s", i, plan.action, tostring(err))
        end
        note_failed_batch(rep, ids, err, hooks)
      end
    end
    progress("launched")
    if #waiters > 0 then
      local ok, err = wait.run(client, send, waiters, {
        poll = plan.poll, first_delay = plan.poll.min,
        on_result = function(r) report_m.add(rep, r); if on_result then on_result(r) end end,
        on_progress = plan.on_progress and function(p)
          p.phase = "waiting"
          p.batches_launched, p.batches_total = rep.batches.launched, #batches
          p.launched, p.total = #rep.order, #eligible
          p.counts, p.finished = run_counts()   -- p.statuses: the instances of this wave
          plan.on_progress(p)
        end or nil,
      })
      for _, w in ipairs(waiters) do
        w.inv.polls, w.inv.requests = w.polls, w.requests
      end
      if not ok then
        rep.error = rep.error or err
        rep.stopped = rep.stopped or ("wait failed: " .. tostring(err))
      end
    end
    index = wave[#wave]
    local errs = report_m.errors(rep)
    if limit and errs > limit and not rep.stopped then
      rep.stopped = format("max_errors: %d instance%s did not succeed, more than the %s allowed",
        errs, errs == 1 and "" or "s", plan.max_errors.percent and (plan.max_errors.percent .. "% ("
        .. (math.floor(limit * 100 + 0.5) / 100) .. ")") or tostring(limit))
    end
    if plan.on_batch and not rep.stopped then
      for _, i in ipairs(wave) do
        local inv
        for _, v in ipairs(rep.invocations) do if v.batch == i then inv = v end end
        local results, counts = report_m.batch_results(rep, batches[i])
        local a, b = plan.on_batch { index = i, total = #batches, InvokeId = inv and inv.InvokeId,
                                     InstanceId = batches[i], results = results, counts = counts,
                                     report = rep, last = i == #batches }
        local stop, pause = hook_answer(a, b, i)
        if stop and index < #batches then
          rep.stopped = stop
          break
        end
        if pause and index < #batches then client.sleep(pause) end
      end
    end
  end
  for i = index + 1, #batches do
    for _, id in ipairs(batches[i]) do rep.not_launched[#rep.not_launched + 1] = id end
  end
  progress("done")
  return rep
end

return M
