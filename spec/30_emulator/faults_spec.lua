-- Fault injection: every kind, deterministic and seeded random forms,
-- action filters, and changes at run time.
local H = require "30_emulator.emu_helper"

local R = "cn-hangzhou"
local DI = { RegionId = R }

local function invoke_params(svc, clock)
  return { RegionId = R, CommandId = H.plain_command(svc, clock, "echo"), ["InstanceId.1"] = "i-bp1emuweb01" }
end

describe("emulator faults", function()
  it("throttles the first N requests with Throttling.User and x-acs-retry-after", function()
    local svc, clock = H.new { faults = { { kind = "throttle", first = 2, retry_after = 1500 } } }
    for _ = 1, 2 do
      local status, body, resp = H.call(svc, clock, "DescribeInstances", DI)
      assert.are.equal(400, status)
      assert.are.equal("Throttling.User", body.Code)
      assert.are.equal("1500", resp.headers["x-acs-retry-after"])
      assert.truthy(resp.headers.date)
    end
    assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", DI)))
    assert.are.equal(2, svc:counters().faults.throttle)
  end)

  it("answers 500 InternalError and 503 ServiceUnavailable without running the action", function()
    local svc, clock = H.new()
    local p = invoke_params(svc, clock)
    svc:set_faults { { kind = "error500", first = 1 }, { kind = "error503", first = 1 } }
    local status, body = H.call(svc, clock, "InvokeCommand", p)
    assert.are.equal(500, status)
    assert.are.equal("InternalError", body.Code)
    status, body = H.call(svc, clock, "InvokeCommand", p)
    assert.are.equal(503, status)
    assert.are.equal("ServiceUnavailable", body.Code)
    assert.are.equal(0, svc:counters().invocations)
    assert.are.equal(200, (H.call(svc, clock, "InvokeCommand", p)))
    assert.are.equal(1, svc:counters().invocations)
  end)

  it("delays the answer by resp.delay after running the action", function()
    local svc, clock = H.new { faults = { { kind = "delay", delay = 2.5, action = "InvokeCommand" } } }
    local p = invoke_params(svc, clock)
    local status, _, resp = H.call(svc, clock, "InvokeCommand", p)
    assert.are.equal(200, status)
    assert.are.equal(2.5, resp.delay)
    assert.are.equal(1, svc:counters().invocations)
    local _, _, other = H.call(svc, clock, "DescribeInstances", DI)
    assert.is_nil(other.delay)
  end)

  it("drops the connection before the action runs: no side effect", function()
    local svc, clock = H.new()
    local p = invoke_params(svc, clock)
    p.ClientToken = "drop-1"
    svc:set_faults { { kind = "drop_before", first = 1, action = "InvokeCommand" } }
    local resp = svc:handle(H.v2_request("InvokeCommand", p))
    assert.is_true(resp.drop)
    assert.are.equal(0, svc:counters().invocations)
    local body = H.ok(svc, clock, "InvokeCommand", p)
    assert.matches("^t%-", body.InvokeId)
    assert.are.equal(1, svc:counters().invocations)
  end)

  it("drops the connection after the action ran: a ClientToken retry gets the same InvokeId", function()
    local svc, clock = H.new()
    local p = invoke_params(svc, clock)
    p.ClientToken = "drop-2"
    svc:set_faults { { kind = "drop_after", first = 1, action = "InvokeCommand" } }
    local resp = svc:handle(H.v2_request("InvokeCommand", p))
    assert.is_true(resp.drop)
    assert.are.equal(1, svc:counters().invocations)
    local ran = H.ok(svc, clock, "DescribeInvocations", DI).Invocations.Invocation[1].InvokeId
    local retry = H.ok(svc, clock, "InvokeCommand", p, { v3 = true })
    assert.are.equal(ran, retry.InvokeId)
    assert.are.equal(1, svc:counters().invocations)
    assert.are.equal("drop_after", svc:requests(nil, "InvokeCommand")[1].fault)
  end)

  it("honours skip, action lists and limit", function()
    local svc, clock = H.new { faults = { { kind = "error503", skip = 1, first = 1,
      action = { "DescribeInstances", "DescribeRegions" } } } }
    assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", DI)))
    assert.are.equal(200, (H.call(svc, clock, "DescribeCloudAssistantStatus", DI)))
    assert.are.equal(503, (H.call(svc, clock, "DescribeRegions", {})))
    assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", DI)))
    svc:set_faults { { kind = "error500", limit = 2 } }
    assert.are.equal(500, (H.call(svc, clock, "DescribeInstances", DI)))
    assert.are.equal(500, (H.call(svc, clock, "DescribeInstances", DI)))
    assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", DI)))
  end)

  it("fires seeded random faults reproducibly at about the given probability", function()
    local function pattern(seed)
      local svc, clock = H.new { seed = seed, faults = { { kind = "error503", probability = 0.3 } } }
      local out = {}
      for i = 1, 200 do out[i] = (H.call(svc, clock, "DescribeRegions", {})) == 503 and "x" or "." end
      return table.concat(out)
    end
    local a, b, c = pattern(7), pattern(7), pattern(8)
    assert.are.equal(a, b)
    assert.are_not.equal(a, c)
    local n = select(2, a:gsub("x", ""))
    assert.is_true(n > 35 and n < 85, "fired " .. n .. " times of 200")
  end)

  it("applies the first firing rule; later rules count only the requests that reach them", function()
    local svc, clock = H.new()
    svc:set_faults { { kind = "throttle", first = 1 }, { kind = "error500", first = 2 } }
    assert.are.equal("Throttling.User", (H.err(svc, clock, "DescribeRegions", {})))
    assert.are.equal("InternalError", (H.err(svc, clock, "DescribeRegions", {})))
    assert.are.equal("InternalError", (H.err(svc, clock, "DescribeRegions", {})))
    assert.are.equal(200, (H.call(svc, clock, "DescribeRegions", {})))
    local rules = svc:faults()
    assert.are.equal(4, rules[1].seen)
    assert.are.equal(1, rules[1].fired)
    assert.are.equal(3, rules[2].seen)
    assert.are.equal(2, rules[2].fired)
  end)

  it("does not fault requests that fail authentication", function()
    local svc, clock = H.new { faults = { { kind = "throttle", first = 1 } } }
    assert.are.equal("SignatureDoesNotMatch", (H.err(svc, clock, "DescribeRegions", {}, { secret = "bad" })))
    assert.are.equal("Throttling.User", (H.err(svc, clock, "DescribeRegions", {})))
  end)

  it("adds and replaces rules at run time, and validates them", function()
    local svc, clock = H.new()
    svc:add_faults { { kind = "throttle", first = 1 } }
    svc:add_faults { { kind = "error500", first = 1 } }
    assert.are.equal(2, #svc:faults())
    svc:set_faults {}
    assert.are.equal(200, (H.call(svc, clock, "DescribeRegions", {})))
    assert.has_error(function() svc:set_faults { { kind = "explode" } } end)
    assert.has_error(function() svc:set_faults { { kind = "throttle", first = -1 } } end)
    assert.has_error(function() svc:set_faults { { kind = "throttle", probability = 2 } } end)
    assert.has_error(function() svc:set_faults { { kind = "throttle", first = 1, probability = 0.5 } } end)
    assert.has_error(function() svc:set_faults { { kind = "delay", when = 1 } } end)
    assert.has_error(function() svc:set_faults { kind = "throttle" } end)
  end)
end)
