-- Pure pieces of the fleet layer: classes, result records, options, batches, quota.
local classify = require "ecs.fleet.classify"
local options = require "ecs.fleet.options"
local batches = require "ecs.fleet.batches"
local eligibility = require "ecs.fleet.eligibility"
local quota = require "ecs.fleet.quota"
local core = require "ecs.core"

describe("fleet classes", function()
  it("maps final statuses and error codes to the five classes", function()
    assert.equal("success", classify.class("Success", nil))
    assert.equal("failed", classify.class("Failed", "ExitCodeNonzero"))
    assert.equal("failed", classify.class("Failed", nil))
    assert.equal("timeout", classify.class("Timeout", "ExecutionTimeout"))
    assert.equal("timeout", classify.class("Failed", "ExecutionTimeout"))
    assert.equal("cancelled", classify.class("Cancelled", nil))
    assert.equal("cancelled", classify.class("Terminated", nil))
    assert.equal("infra", classify.class("Aborted", "InstanceNotRunning"))
    assert.equal("infra", classify.class("Failed", "InstanceNotRunning"))
    assert.equal("infra", classify.class("Failed", "ClientNotResponse"))
    assert.equal("infra", classify.class("Failed", "ClientNeedUpgrade"))
    assert.equal("infra", classify.class("Error", "DeliveryTimeout"))
    assert.equal("infra", classify.class("Error", nil))
    assert.equal("infra", classify.class("Failed", "InstanceReleased"))
    assert.equal("failed", classify.class("Invalid", "CommandNotApplicable"))
    assert.equal("failed", classify.class("Failed", "AccountNotExists"))
  end)

  it("has no class while a status is not final", function()
    for _, s in ipairs { "Pending", "Running", "Scheduled", "Stopping" } do
      assert.is_nil(classify.class(s, nil), s)
    end
  end)

  it("builds a result with decoded output, numbers and times", function()
    local r = classify.result({
      InstanceId = "i-1", InvokeId = "t-1", InvocationStatus = "Failed", ExitCode = 3,
      ErrorCode = "ExitCodeNonzero", ErrorInfo = "the command execution exit code is not zero.",
      Output = core.base64_encode("héllo\nwörld\n"), Dropped = 7,
      StartTime = "2026-11-27T10:00:00Z", FinishedTime = "2026-11-27T10:00:05Z",
    })
    assert.same({ "i-1", "t-1", "failed", "Failed", 3, "héllo\nwörld\n", "ExitCodeNonzero", 7 },
      { r.InstanceId, r.InvokeId, r.class, r.status, r.exit_code, r.output, r.error_code, r.dropped })
    assert.equal(5, r.finished - r.started)
    assert.equal("2026-11-27T10:00:00Z", r.start_time)
  end)

  it("keeps output that is not Base64 as it came, and marks it", function()
    local r = classify.result { InstanceId = "i-1", InvocationStatus = "Success", Output = "not base64!", ExitCode = 0 }
    assert.equal("not base64!", r.output)
    assert.is_true(r.output_raw)
    assert.equal("", classify.result { InstanceId = "i-2", InvocationStatus = "Running" }.output)
  end)
end)

describe("fleet options", function()
  it("reads max_errors as a count or a percentage", function()
    assert.same({ count = 5 }, options.max_errors("f", 5, 1))
    assert.same({ percent = 5 }, options.max_errors("f", "5%", 1))
    assert.same({ percent = 12.5 }, options.max_errors("f", " 12.5 % ", 1))
    assert.equal(5, options.error_limit({ count = 5 }, 1000))
    assert.equal(2.5, options.error_limit({ percent = 5 }, 50))
  end)

  it("rejects bad max_errors naming the option", function()
    for _, v in ipairs { -1, 1.5, "5", "150%", "x%", true } do
      local ok, err = pcall(options.max_errors, "invoke_fleet", v, 1)
      assert.is_false(ok)
      assert.matches("invoke_fleet: bad option 'max_errors'", err, 1, true)
    end
  end)

  it("splits instances into batches in order, never above the size", function()
    local ids = {}
    for i = 1, 250 do ids[i] = "i-" .. i end
    local b = batches.split(ids, 100)
    assert.same({ 100, 100, 50 }, { #b[1], #b[2], #b[3] })
    assert.equal("i-101", b[2][1])
    assert.equal("i-250", b[3][50])
    assert.same({}, batches.split({}, 10))
  end)
end)

describe("fleet eligibility requirements", function()
  it("asks for a newer agent for rate, at, year and time zone, and containers", function()
    local req = assert(eligibility.requirements { Frequency = "rate(5m)" })
    assert.same({ linux = "2.2.3.282", windows = "2.1.3.282" }, req.versions)
    req = assert(eligibility.requirements { Frequency = "0 */20 * * * ?" })
    assert.same({}, req.versions)
    req = assert(eligibility.requirements { ContainerName = "web" })
    assert.same({ linux = "2.2.3.344", windows = false }, req.versions)
    req = assert(eligibility.requirements { Frequency = "at(2030-01-01 00:00:00 UTC)", ContainerId = "x" })
    assert.equal("2.2.3.344", req.versions.linux)
    local no, msg = eligibility.requirements { Frequency = "rate(30s)" }
    assert.is_nil(no)
    assert.matches("Frequency", msg)
  end)

  it("compares agent versions field by field", function()
    assert.is_true(eligibility.version_at_least("2.2.3.512", "2.2.3.282"))
    assert.is_true(eligibility.version_at_least("2.2.3.282", "2.2.3.282"))
    assert.is_false(eligibility.version_at_least("2.2.0.106", "2.2.3.282"))
    assert.is_false(eligibility.version_at_least("2.2.3.99", "2.2.3.282"))
    assert.is_true(eligibility.version_at_least("10.0", "2.2.3.282"))
  end)
end)

describe("fleet quota", function()
  local function fake(limit, now)
    return { config = { quota = limit and { daily_invocations = limit } or nil }, clock = function() return now end }
  end

  it("counts per region and UTC day, default 500", function()
    local c = fake(nil, 1795812540)   -- 2026-11-27
    assert.equal(500, quota.status(c, "cn-hangzhou").limit)
    quota.add(c, "cn-hangzhou", 499)
    assert.is_true(quota.check(c, "cn-hangzhou", 1))
    local ok, err = quota.check(c, "cn-hangzhou", 2)
    assert.is_nil(ok)
    assert.equal("Fleet.QuotaExceeded", err.code)
    assert.matches("needs 2 invocations in cn%-hangzhou but only 1 of the daily quota of 500 remains", err.message)
    assert.is_true(quota.check(c, "cn-shanghai", 500))
    c.clock = function() return 1795812540 + 86400 end
    assert.equal(0, quota.status(c, "cn-hangzhou").used)
  end)

  it("takes the limit from the client's quota option and checks it", function()
    local c = fake(3, 0)
    assert.equal(3, quota.status(c, "r").limit)
    quota.exhaust(c, "r")
    assert.equal(0, quota.status(c, "r").remaining)
    assert.has_error(function() quota.status(fake(-1, 0), "r") end,
      "ecs: bad option 'quota.daily_invocations': expected a whole number >= 0, got -1")
  end)
end)
