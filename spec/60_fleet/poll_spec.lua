-- The wait loop on a scripted service and a manual clock: adaptive intervals
-- with jitter, paging, grace for missing records, the deadline.
local wait = require "ecs.fleet.wait"
local core = require "ecs.core"

-- A manual clock, and a service that answers from `script(now, params)`.
local function harness(script, random)
  local h = { now = 1000, sleeps = {}, requests = {} }
  h.client = {
    clock = function() return h.now end,
    sleep = function(s) h.sleeps[#h.sleeps + 1] = s; h.now = h.now + s end,
    random = random or function() return 0.5 end,
  }
  h.send = {
    many = function(_, calls)
      local out = {}
      for i, c in ipairs(calls) do
        h.requests[#h.requests + 1] = c[2]
        out[i] = { script(h.now, c[2]) }
      end
      return out
    end,
  }
  return h
end

local function entry(id, status, extra)
  local e = { InstanceId = id, InvocationStatus = status, Output = core.base64_encode(id .. " says hi") }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

local function page(list, token)
  return { Invocation = { InvocationResults = { InvocationResult = list }, NextToken = token or "" } }
end

local POLL = { min = 1, max = 8, factor = 2, jitter = 0 }

describe("wait loop", function()
  it("grows the interval while nothing changes and starts again when something does", function()
    local h = harness(function(now)
      if now < 1020 then return page { entry("i-1", "Running") } end
      return page { entry("i-1", "Success", { ExitCode = 0 }) }
    end)
    local w = wait.new_waiter("t-1", { region = "r", instances = { "i-1" }, started = 1000, grace = 30,
                                       deadline = 2000 })
    assert.is_true(wait.run(h.client, h.send, { w }, { poll = POLL }))
    -- first delay 1, then 1 (changed: Running seen), 2, 4, 8, 8 ...
    assert.same({ 1, 1, 2, 4, 8, 8 }, h.sleeps)
    assert.equal("success", w.results["i-1"].class)
    assert.equal("i-1 says hi", w.results["i-1"].output)
    assert.equal(6, w.polls)
  end)

  it("varies each wait by the jitter, within its bounds", function()
    local n = 0
    local h = harness(function()
      n = n + 1
      if n < 6 then return page { entry("i-1", "Running") } end
      return page { entry("i-1", "Success") }
    end, function() return 1 end)
    local w = wait.new_waiter("t-1", { region = "r", instances = { "i-1" }, started = 1000, grace = 30,
                                       deadline = 5000 })
    wait.run(h.client, h.send, { w }, { poll = { min = 1, max = 100, factor = 2, jitter = 0.25 } })
    assert.same({ 1, 1.25, 2.5, 5, 10, 20 }, h.sleeps)   -- random() = 1: each wait 25 % longer
  end)

  it("reads every page of a poll with NextToken", function()
    local h = harness(function(_, p)
      if not p.NextToken then return page({ entry("i-1", "Success"), entry("i-2", "Success") }, "p2") end
      if p.NextToken == "p2" then return page({ entry("i-3", "Failed", { ExitCode = 1 }) }, "p3") end
      return page { entry("i-4", "Timeout", { ErrorCode = "ExecutionTimeout" }) }
    end)
    local w = wait.new_waiter("t-1", { region = "r", started = 1000, grace = 30, deadline = 2000 })
    local seen = {}
    assert.is_true(wait.run(h.client, h.send, { w }, { poll = POLL,
      on_result = function(r) seen[#seen + 1] = r.InstanceId .. "=" .. r.class end }))
    assert.same({ "i-1=success", "i-2=success", "i-3=failed", "i-4=timeout" }, seen)
    assert.equal(3, #h.requests)
    assert.same({ nil, "p2", "p3" }, { h.requests[1].NextToken, h.requests[2].NextToken, h.requests[3].NextToken })
    for _, p in ipairs(h.requests) do assert.equal(50, p.MaxResults) end
  end)

  it("waits for a missing record during the grace period, then calls it infra", function()
    local h = harness(function() return page { entry("i-1", "Success") } end)
    local w = wait.new_waiter("t-1", { region = "r", instances = { "i-1", "i-2" }, started = 1000, grace = 10,
                                       deadline = 2000 })
    assert.is_true(wait.run(h.client, h.send, { w }, { poll = POLL }))
    local r = w.results["i-2"]
    assert.same({ "infra", "Fleet.NoRecord" }, { r.class, r.error_code })
    assert.is_true(h.now > 1010)
  end)

  it("treats InvalidInvokeId.NotFound as pending while in grace", function()
    local h = harness(function(now)
      if now < 1005 then
        return nil, core.new_error { code = "InvalidInvokeId.NotFound", message = "not yet", retryable = false }
      end
      return page { entry("i-1", "Success") }
    end)
    local w = wait.new_waiter("t-1", { region = "r", started = 1000, grace = 30, deadline = 2000 })
    assert.is_true(wait.run(h.client, h.send, { w }, { poll = POLL }))
    assert.equal("success", w.results["i-1"].class)
  end)

  it("polls no later than the end of the grace while a record is missing, then fails", function()
    local h = harness(function()
      return nil, core.new_error { code = "InvalidInvokeId.NotFound", message = "no", retryable = false }
    end)
    local w = wait.new_waiter("t-1", { region = "r", started = 1000, grace = 6, deadline = 2000 })
    local ok, err = wait.run(h.client, h.send, { w }, { poll = POLL })
    assert.is_nil(ok)
    assert.equal("InvalidInvokeId.NotFound", err.code)
    -- 1, 2, then 4 would pass the grace's end (1006): cut to reach it
    assert.equal(3, #h.sleeps)
    assert.same({ 1, 2 }, { h.sleeps[1], h.sleeps[2] })
    assert.truthy(math.abs(h.now - 1006.001) < 1e-6, h.now)
    assert.equal(3, #h.requests)   -- one poll after each wait
  end)

  it("with no grace and no first delay fails on the first poll without sleeping", function()
    local h = harness(function() return page {} end)
    local w = wait.new_waiter("t-1", { region = "r", started = 1000, grace = 0, deadline = 2000 })
    local ok, err = wait.run(h.client, h.send, { w }, { poll = POLL, first_delay = 0 })
    assert.is_nil(ok)
    assert.equal("InvalidInvokeId.NotFound", err.code)
    assert.same({}, h.sleeps)
    assert.equal(1, #h.requests)
  end)

  it("follows every NextToken once, even when the service repeats one", function()
    local h = harness(function(_, p)
      if p.NextToken == nil then return page({ entry("i-1", "Success") }, "a") end
      if p.NextToken == "a" then return page({ entry("i-2", "Success") }, "b") end
      return page({ entry("i-3", "Success") }, "a")   -- back to a page already read
    end)
    local w = { InvokeId = "t-1", region = "r", polls = 0, requests = 0 }
    local state = wait.fetch(h.send, { w })
    assert.equal(3, #state[1].entries)
    assert.equal(3, #h.requests)
    assert.equal(3, w.requests)
    assert.equal(1, w.polls)
  end)

  it("closes what is left at the deadline", function()
    local h = harness(function(_, p)
      return page { entry("i-1", "Running"), entry("i-2", "Pending") }, p
    end)
    local w = wait.new_waiter("t-1", { region = "r", instances = { "i-1", "i-2" }, started = 1000, grace = 5,
                                       deadline = 1030 })
    assert.is_true(wait.run(h.client, h.send, { w }, { poll = POLL }))
    assert.same({ "timeout", "Running", "Fleet.WaitDeadline" },
      { w.results["i-1"].class, w.results["i-1"].status, w.results["i-1"].error_code })
    assert.same({ "infra", "Fleet.NotDelivered" }, { w.results["i-2"].class, w.results["i-2"].error_code })
    assert.is_true(h.now >= 1030 and h.now < 1040)
  end)

  it("stops on an error that retrying cannot fix", function()
    local h = harness(function()
      return nil, core.new_error { code = "Forbidden.RAM", message = "no", retryable = false }
    end)
    local w = wait.new_waiter("t-1", { region = "r", instances = { "i-1" }, started = 1000, grace = 5,
                                       deadline = 2000 })
    local ok, err = wait.run(h.client, h.send, { w }, { poll = POLL })
    assert.is_nil(ok)
    assert.equal("Forbidden.RAM", err.code)
    assert.same({ "infra", "Fleet.WaitFailed" }, { w.results["i-1"].class, w.results["i-1"].error_code })
    assert.equal(1, #h.requests)
  end)
end)

describe("poll option", function()
  it("fills defaults, takes a number as the shortest interval, and names what is wrong", function()
    assert.same({ min = 1, max = 15, factor = 1.5, jitter = 0.2 }, wait.check_poll("w", nil, 1))
    assert.same({ min = 0.5, max = 15, factor = 1.5, jitter = 0.2 }, wait.check_poll("w", 0.5, 1))
    assert.same({ min = 20, max = 20, factor = 1.5, jitter = 0.2 }, wait.check_poll("w", 20, 1))
    assert.same({ min = 2, max = 4, factor = 2, jitter = 0 },
      wait.check_poll("w", { min = 2, max = 4, factor = 2, jitter = 0 }, 1))
    assert.has_error(function() wait.check_poll("w", "fast", 1) end,
      "ecs: w: bad option 'poll': expected a table or a number of seconds")
    assert.has_error(function() wait.check_poll("w", 0, 1) end, "ecs: w: bad option 'poll.min': must be above 0")
    assert.has_error(function() wait.check_poll("w", { every = 1 }, 1) end,
      "ecs: w: bad option 'poll.every': unknown (min, max, factor, jitter)")
  end)
end)
