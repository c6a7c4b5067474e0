--- The report of a fleet run: every invocation with its instances, a result
-- per instance, the skipped instances with reasons, counts per class, and
-- whether (and why) the run stopped early.
local classify = require "ecs.fleet.classify"

local ipairs, pairs, type, setmetatable = ipairs, pairs, type, setmetatable

local M = {}

--- new(fields) -> an empty report.
function M.new(f)
  local counts = classify.new_counts()
  counts.skipped = 0
  counts.not_launched = 0
  return {
    region = f.region, action = f.action, CommandId = f.CommandId, command_type = f.command_type,
    eligible = {}, skipped = {}, filtered = {}, invocations = {}, failed_calls = {},
    results = {}, order = {}, not_launched = {}, counts = counts,
    stopped = nil, error = nil, calls = {}, batches = { total = 0, launched = 0 },
    request = f.request,
  }
end

local listed = setmetatable({}, { __mode = "k" })   -- report -> set of IDs in report.order

--- note(report, id): puts an instance in report.order once.
function M.note(report, id)
  local set = listed[report]
  if not set then
    set = {}
    listed[report] = set
  end
  if not set[id] then
    set[id] = true
    report.order[#report.order + 1] = id
  end
end

--- add(report, result): records one final per-instance result.
function M.add(report, r)
  local id = r.InstanceId
  M.note(report, id)
  local old = report.results[id]
  if old and old.class then report.counts[old.class] = report.counts[old.class] - 1 end
  report.results[id] = r
  if r.class then report.counts[r.class] = report.counts[r.class] + 1 end
end

--- errors(report) -> instances whose result is not success.
function M.errors(report)
  local c = report.counts
  return c.failed + c.timeout + c.cancelled + c.infra
end

--- batch_view(report, batch) -> { [id] = result }, counts for the instances of one batch.
function M.batch_results(report, ids)
  local out, counts = {}, classify.new_counts()
  for _, id in ipairs(ids) do
    local r = report.results[id]
    if r then
      out[id] = r
      if r.class then counts[r.class] = counts[r.class] + 1 end
    end
  end
  return out, counts
end

--- finish(report, send): counts of skipped and not launched, API calls made.
function M.finish(report, send)
  report.counts.skipped = #report.skipped
  report.counts.not_launched = #report.not_launched
  local total = 0
  for action, n in pairs(send.calls) do
    report.calls[action] = n
    total = total + n
  end
  report.calls.total = total
  return report
end

--- infra(report, cap) -> instance IDs whose class is infra, in launch order, at most cap.
function M.infra(report, cap)
  local out = {}
  for _, id in ipairs(report.order or {}) do
    local r = report.results[id]
    if type(r) == "table" and r.class == "infra" and (cap == nil or #out < cap) then out[#out + 1] = id end
  end
  return out
end

return M
