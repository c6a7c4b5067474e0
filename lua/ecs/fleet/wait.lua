--- Waiting for invocations: polls DescribeInvocationResults (MaxResults 50,
-- NextToken) for every unfinished invocation at once until each instance has
-- a final status, with a grace period for records not there yet, a deadline,
-- and an adaptive poll interval with jitter (the client's clock and sleep).
local classify = require "ecs.fleet.classify"

local type, ipairs, pairs, error, tostring = type, ipairs, pairs, error, tostring
local math_min, math_max = math.min, math.max

local M = {}

M.PAGE_SIZE = 50
M.defaults = { grace = 30, slack = 120, command_timeout = 60,
               poll = { min = 1, max = 15, factor = 1.5, jitter = 0.2 } }

-- the largest value of each poll key (an hour between polls at most)
local POLL_KEYS = { min = 3600, max = 3600, factor = 10, jitter = 1 }

local function short(v)
  if type(v) == "string" and #v > 40 then return v:sub(1, 40) .. "..." end
  return tostring(v)
end

local function positive(where, name, v, level, max)
  max = max or math.huge
  if type(v) ~= "number" or v ~= v or v < 0 or v == math.huge or v > max then
    error(("ecs: %s: bad option '%s': expected a number from 0 to %g, got %s"):format(where, name,
      max, short(v)), level + 1)
  end
  return v
end

--- check_poll(where, poll, level) -> normalized poll options.
function M.check_poll(where, p, level)
  local d = M.defaults.poll
  local out = { min = d.min, max = d.max, factor = d.factor, jitter = d.jitter }
  if p == nil then return out end
  if type(p) == "number" then p = { min = p } end   -- shorthand: the shortest interval
  if type(p) ~= "table" then
    error(("ecs: %s: bad option 'poll': expected a table or a number of seconds"):format(where), level + 1)
  end
  for k, v in pairs(p) do
    if not POLL_KEYS[k] then
      error(("ecs: %s: bad option 'poll.%s': unknown (min, max, factor, jitter)"):format(where, short(k)),
        level + 1)
    end
    out[k] = positive(where, "poll." .. k, v, level + 1, POLL_KEYS[k])
  end
  if out.min <= 0 then error(("ecs: %s: bad option 'poll.min': must be above 0"):format(where), level + 1) end
  if out.max < out.min then out.max = out.min end
  if out.factor < 1 then error(("ecs: %s: bad option 'poll.factor': must be >= 1"):format(where), level + 1) end
  if out.jitter > 1 then error(("ecs: %s: bad option 'poll.jitter': must be <= 1"):format(where), level + 1) end
  return out
end
M.positive = positive

--- new_waiter(invoke_id, opts) -> state for run(). opts: region, instances (expected IDs),
-- started (clock time of the invocation), deadline (clock time), grace (seconds).
function M.new_waiter(invoke_id, o)
  local w = { InvokeId = invoke_id, region = o.region, started = o.started, deadline = o.deadline,
              grace_until = o.started + o.grace, results = {}, order = {}, known = {}, last = {},
              done = false, polls = 0, requests = 0, expected = nil }
  if o.instances then
    w.expected = {}
    for _, id in ipairs(o.instances) do
      if not w.known[id] then
        w.known[id] = true
        w.order[#w.order + 1] = id
        w.expected[#w.expected + 1] = id
      end
    end
  end
  return w
end

local function note(w, id)
  if not w.known[id] then
    w.known[id] = true
    w.order[#w.order + 1] = id
  end
end

local function finish(w, r, hooks)
  w.results[r.InstanceId] = r
  note(w, r.InstanceId)
  if hooks.on_result then hooks.on_result(r) end
end

--- fetch(send, list) -> per waiter { entries = {...}, err = e }: every page of
-- DescribeInvocationResults for each waiter of list (fields InvokeId, region,
-- optional instance; polls and requests are counted), all sent together.
local function fetch(send, list)
  local state = {}
  local calls, owners = {}, {}
  for i, w in ipairs(list) do
    state[i] = { entries = {}, err = nil, tokens = {} }
    calls[#calls + 1] = { "DescribeInvocationResults", { RegionId = w.region, InvokeId = w.InvokeId,
                                                         InstanceId = w.instance, MaxResults = M.PAGE_SIZE } }
    owners[#owners + 1] = i
    w.polls = w.polls + 1
  end
  while #calls > 0 do
    local answers = send:many(calls)
    local next_calls, next_owners = {}, {}
    for k, a in ipairs(answers) do
      local i = owners[k]
      local w, s = list[i], state[i]
      w.requests = w.requests + 1
      local res = a[1]
      if not res then
        s.err = a[2]
      else
        w.answered = (w.answered or 0) + 1
        local inv = type(res.Invocation) == "table" and res.Invocation or {}
        local set = type(inv.InvocationResults) == "table" and inv.InvocationResults.InvocationResult
        if type(set) == "table" then
          for _, e in ipairs(set) do
            if type(e) == "table" and type(e.InstanceId) == "string" then s.entries[#s.entries + 1] = e end
          end
        end
        local token = inv.NextToken
        if type(token) == "string" and token ~= "" and not s.tokens[token] then
          s.tokens[token] = true
          next_calls[#next_calls + 1] = { "DescribeInvocationResults", { RegionId = w.region,
            InvokeId = w.InvokeId, InstanceId = w.instance, MaxResults = M.PAGE_SIZE, NextToken = token } }
          next_owners[#next_owners + 1] = i
        end
      end
    end
    calls, owners = next_calls, next_owners
  end
  return state
end
M.fetch = fetch

local NOT_FOUND = { ["InvalidInvokeId.NotFound"] = true }

-- Ends what is left of w at the deadline or on a fatal error.
local function close_out(w, hooks, code, info)
  for _, id in ipairs(w.order) do
    if not w.results[id] then
      local st = w.last[id]
      local class, c = "timeout", code
      if code == "Fleet.WaitDeadline" and (st == nil or st == "Pending") then
        class, c = "infra", "Fleet.NotDelivered"
      elseif code ~= "Fleet.WaitDeadline" then
        class = "infra"
      end
      finish(w, classify.synthetic(id, w.InvokeId, class, st or "Unknown", c,
        c == "Fleet.NotDelivered" and "no final status before the wait deadline; the command was not delivered"
        or info), hooks)
    end
  end
  w.done = true
end

-- Processes one round's answer for w; returns whether anything changed, or nil, err (fatal).
local function absorb(client, w, s, hooks)
  local now = client.clock()
  local changed = false
  local entries = s.entries
  if s.err then
    local e = s.err
    if not NOT_FOUND[e.code] and not e.retryable then
      close_out(w, hooks, "Fleet.WaitFailed", "results could not be read: " .. tostring(e))
      w.error = e
      return true, e
    end
    if not NOT_FOUND[e.code] then
      w.missed = (w.missed or 0) + 1
      w.last_error = e
    end
    entries = {}
  end
  for _, e in ipairs(entries) do
    local id = e.InstanceId
    note(w, id)
    if w.last[id] ~= e.InvocationStatus then changed = true end
    w.last[id] = e.InvocationStatus
    if not w.results[id] and classify.TERMINAL[e.InvocationStatus] then
      finish(w, classify.result(e, w.InvokeId), hooks)
      changed = true
    end
  end
  local open = 0
  w.unseen = #w.order == 0   -- a record still missing: the next poll comes no later than the grace's end
  for _, id in ipairs(w.order) do
    if not w.results[id] then
      if w.last[id] == nil and now > w.grace_until and w.expected then
        finish(w, classify.synthetic(id, w.InvokeId, "infra", "Unknown", "Fleet.NoRecord",
          "no execution record appeared for this instance: the command was not delivered"), hooks)
        changed = true
      else
        open = open + 1
        if w.last[id] == nil then w.unseen = true end
      end
    end
  end
  if #w.order == 0 then
    if now >= w.grace_until and not w.answered and w.last_error then
      -- no poll got through: the reason is that error, not a missing invocation
      w.error = w.last_error
      w.done = true
      return true, w.last_error
    end
    if now >= w.grace_until then
      local e = require("ecs.errors").new { code = "InvalidInvokeId.NotFound", action = "DescribeInvocationResults",
        message = ("invocation %s has no execution records"):format(tostring(w.InvokeId)) }
      w.error = e
      w.done = true
      return true, e
    end
    return false
  end
  if open == 0 then
    w.done = true
  elseif now >= w.deadline then
    close_out(w, hooks, "Fleet.WaitDeadline", "still running at the wait deadline")
    changed = true
  end
  return changed
end

--- run(client, send, waiters, opts) -> true | nil, err (the first fatal error; the
-- waiters it hit are closed, the others still finish).
-- opts: poll (checked), on_result(result), on_progress(progress), first_delay.
function M.run(client, send, waiters, opts)
  local poll = opts.poll
  local interval = poll.min
  local first_err
  local delay = opts.first_delay
  if delay == nil then delay = poll.min end
  while true do
    local open = {}
    for _, w in ipairs(waiters) do
      if not w.done then open[#open + 1] = w end
    end
    if #open == 0 then break end
    if delay > 0 then
      local now = client.clock()
      local soonest = math.huge
      for _, w in ipairs(open) do
        soonest = math_min(soonest, w.deadline)
        if w.unseen and w.grace_until > now then soonest = math_min(soonest, w.grace_until) end
      end
      delay = math_max(0, math_min(delay, soonest - now + 0.001))
      if delay > 0 then client.sleep(delay) end
    end
    local state = fetch(send, open)
    local changed = false
    for i, w in ipairs(open) do
      local c, err = absorb(client, w, state[i], opts)
      if c then changed = true end
      if err and not first_err then first_err = err end
    end
    if opts.on_progress then opts.on_progress(M.progress(waiters)) end
    if changed then interval = poll.min else interval = math_min(poll.max, interval * poll.factor) end
    local j = poll.jitter
    delay = interval * (1 + j * (2 * client.random() - 1))
  end
  if first_err then return nil, first_err end
  return true
end

--- progress(waiters) -> { finished =, total =, statuses = { [id] = status }, counts = {...} }
function M.progress(waiters)
  local p = { finished = 0, total = 0, statuses = {}, counts = classify.new_counts() }
  for _, w in ipairs(waiters) do
    for _, id in ipairs(w.order) do
      p.total = p.total + 1
      local r = w.results[id]
      if r then
        p.finished = p.finished + 1
        p.counts[r.class] = p.counts[r.class] + 1
        p.statuses[id] = r.status
      else
        p.statuses[id] = w.last[id] or "Pending"
      end
    end
  end
  return p
end

return M
