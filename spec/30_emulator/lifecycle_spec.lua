-- The simulated lifecycle on a fake clock: Pending -> Running -> final,
-- Timeout, Cancelled/Terminated, offline instances, output rules.
local H = require "30_emulator.emu_helper"

local R = "cn-hangzhou"
local WEB1, WEB2 = "i-bp1emuweb01", "i-bp1emuweb02"

local function start(svc, clock, content, extra)
  local cmd = H.plain_command(svc, clock, content, extra and extra.command)
  local p = { RegionId = R, CommandId = cmd, ["InstanceId.1"] = WEB1, ["InstanceId.2"] = WEB2 }
  for k, v in pairs(extra and extra.invoke or {}) do p[k] = v end
  return H.ok(svc, clock, "InvokeCommand", p).InvokeId
end

local function task(svc, clock, id)
  return H.ok(svc, clock, "DescribeInvocations", { RegionId = R, InvokeId = id, IncludeOutput = "true",
    ContentEncoding = "PlainText" }).Invocations.Invocation[1]
end

describe("emulator lifecycle", function()
  it("goes Pending -> Running -> Success with output as it is written", function()
    local svc, clock = H.new()
    local id = start(svc, clock, "echo start\nsleep 10\necho done")
    local by = H.results(svc, clock, id)
    assert.are.equal("Pending", by[WEB1].InvocationStatus)
    assert.are.equal("Running", by[WEB1].InvokeRecordStatus)
    assert.is_nil(by[WEB1].ExitCode)
    assert.are.equal("", by[WEB1].StartTime)
    assert.are.equal("Pending", task(svc, clock, id).InvocationStatus)
    clock.t = clock.t + 2
    by = H.results(svc, clock, id)
    assert.are.equal("Running", by[WEB1].InvocationStatus)
    assert.are.equal("start\n", by[WEB1].Output)
    assert.are.equal("2026-11-27T20:40:01Z", by[WEB1].StartTime)
    assert.are.equal("Running", task(svc, clock, id).InvocationStatus)
    clock.t = clock.t + 10
    by = H.results(svc, clock, id)
    assert.are.equal("Success", by[WEB1].InvocationStatus)
    assert.are.equal("Finished", by[WEB1].InvokeRecordStatus)
    assert.are.equal(0, by[WEB1].ExitCode)
    assert.are.equal("start\ndone\n", by[WEB1].Output)
    assert.are.equal("", by[WEB1].ErrorCode)
    assert.are.equal("2026-11-27T20:40:12Z", by[WEB1].FinishedTime)
    local t = task(svc, clock, id)
    assert.are.equal("Success", t.InvocationStatus)
    assert.are.equal("Finished", t.InvokeStatus)
    assert.are.equal(2, #t.InvokeInstances.InvokeInstance)
  end)

  it("ends Failed with ExitCodeNonzero on exit N, and stops at exit", function()
    local svc, clock = H.new()
    local id = start(svc, clock, "echo a\nexit 3\necho never")
    clock.t = clock.t + 5
    local r = H.results(svc, clock, id)[WEB1]
    assert.are.equal("Failed", r.InvocationStatus)
    assert.are.equal(3, r.ExitCode)
    assert.are.equal("ExitCodeNonzero", r.ErrorCode)
    assert.are.equal("a\n", r.Output)
    assert.are.equal("Failed", task(svc, clock, id).InvocationStatus)
  end)

  it("gives PartialFailed when instances end differently", function()
    local svc, clock = H.new()
    local cmd = H.plain_command(svc, clock, "exit {{code}}", { EnableParameter = "true" })
    local a = H.ok(svc, clock, "InvokeCommand", { RegionId = R, CommandId = cmd, ["InstanceId.1"] = WEB1,
      Parameters = '{"code":"0"}' }).InvokeId
    local b = H.ok(svc, clock, "InvokeCommand", { RegionId = R, CommandId = cmd, ["InstanceId.1"] = WEB2,
      Parameters = '{"code":"1"}' }).InvokeId
    clock.t = clock.t + 5
    assert.are.equal("Success", task(svc, clock, a).InvocationStatus)
    assert.are.equal("Failed", task(svc, clock, b).InvocationStatus)
    local id = start(svc, clock, "exit 0")
    svc:set_instance(WEB2, { AgentOnline = false })
    clock.t = clock.t + 5
    assert.are.equal("PartialFailed", task(svc, clock, id).InvocationStatus)
  end)

  it("substitutes parameters and built-in ACS parameters", function()
    local svc, clock = H.new()
    local cmd = H.plain_command(svc, clock, "echo Hello {{ name }} on {{ACS::InstanceId}} in {{ACS::RegionId}}",
      { EnableParameter = "true" })
    local id = H.ok(svc, clock, "InvokeCommand", { RegionId = R, CommandId = cmd, ["InstanceId.1"] = WEB1,
      Parameters = '{"name":"Jack"}' }).InvokeId
    clock.t = clock.t + 3
    assert.are.equal("Hello Jack on " .. WEB1 .. " in " .. R .. "\n", H.results(svc, clock, id)[WEB1].Output)
  end)

  it("times out when sleeps exceed the Timeout", function()
    local svc, clock = H.new()
    local id = start(svc, clock, "echo before\nsleep 30\necho after", { invoke = { Timeout = 20 } })
    clock.t = clock.t + 15
    assert.are.equal("Running", H.results(svc, clock, id)[WEB1].InvocationStatus)
    clock.t = clock.t + 10
    local r = H.results(svc, clock, id)[WEB1]
    assert.are.equal("Timeout", r.InvocationStatus)
    assert.are.equal("ExecutionTimeout", r.ErrorCode)
    assert.are.equal("Failed", r.InvokeRecordStatus)
    assert.are.equal("before\n", r.Output)
    assert.are.equal("2026-11-27T20:40:21Z", r.FinishedTime)
    assert.are.equal("Failed", task(svc, clock, id).InvocationStatus)
  end)

  it("cancels a run that has not started and terminates a running one", function()
    local svc, clock = H.new()
    local a = start(svc, clock, "sleep 100")
    H.ok(svc, clock, "StopInvocation", { RegionId = R, InvokeId = a })
    clock.t = clock.t + 200
    local r = H.results(svc, clock, a)[WEB1]
    assert.are.equal("Cancelled", r.InvocationStatus)
    assert.are.equal("Stopped", r.InvokeRecordStatus)
    assert.are.equal("2026-11-27T20:40:00Z", r.StopTime)
    assert.are.equal("Stopped", task(svc, clock, a).InvocationStatus)

    local b = start(svc, clock, "echo x\nsleep 100\necho y", { invoke = { Timeout = 600 } })
    clock.t = clock.t + 10
    H.ok(svc, clock, "StopInvocation", { RegionId = R, InvokeId = b, ["InstanceId.1"] = WEB1 })
    clock.t = clock.t + 200
    local by = H.results(svc, clock, b)
    assert.are.equal("Terminated", by[WEB1].InvocationStatus)
    assert.are.equal("x\n", by[WEB1].Output)
    assert.are.equal("Success", by[WEB2].InvocationStatus)
    assert.are.equal("Success", task(svc, clock, b).InvocationStatus)
  end)

  it("leaves finished runs alone on StopInvocation and checks its arguments", function()
    local svc, clock = H.new()
    local id = start(svc, clock, "echo x")
    clock.t = clock.t + 10
    H.ok(svc, clock, "StopInvocation", { RegionId = R, InvokeId = id })
    assert.are.equal("Success", H.results(svc, clock, id)[WEB1].InvocationStatus)
    local code, status = H.err(svc, clock, "StopInvocation", { RegionId = R, InvokeId = "t-nope" })
    assert.are.equal("InvalidInvokeId.NotFound", code)
    assert.are.equal(404, status)
    assert.are.equal("InvalidInstanceId.NotFound", (H.err(svc, clock, "StopInvocation", { RegionId = R,
      InvokeId = id, ["InstanceId.1"] = "i-bp1emuweb03" })))
    assert.are.equal("MissingParameter.InvokeId", (H.err(svc, clock, "StopInvocation", { RegionId = R })))
  end)

  it("runs a rate() task every interval, keeps its history, and stops it", function()
    local svc, clock = H.new()
    local id = start(svc, clock, "echo tick", { invoke = { Frequency = "rate(5m)" } })
    clock.t = clock.t + 299
    local r = H.results(svc, clock, id)[WEB1]
    assert.are.equal("Scheduled", r.InvocationStatus)
    assert.are.equal(0, r.Repeats)
    clock.t = clock.t + 1.5
    assert.are.equal("Running", H.results(svc, clock, id)[WEB1].InvocationStatus)
    clock.t = clock.t + 2
    r = H.results(svc, clock, id)[WEB1]
    assert.are.equal("Scheduled", r.InvocationStatus)
    assert.are.equal(1, r.Repeats)
    assert.are.equal("tick\n", r.Output)
    assert.are.equal(0, r.ExitCode)
    clock.t = H.T0 + 1000
    local hist = H.ok(svc, clock, "DescribeInvocationResults", { RegionId = R, InvokeId = id, IncludeHistory = "true",
      InstanceId = WEB1 })
    assert.are.equal(3, hist.Invocation.TotalCount)
    local runs = hist.Invocation.InvocationResults.InvocationResult
    assert.are.equal("2026-11-27T20:55:00Z", runs[1].StartTime)
    assert.are.equal("2026-11-27T20:45:00Z", runs[3].StartTime)
    assert.are.equal("Success", runs[3].InvocationStatus)
    assert.are.equal("Scheduled", task(svc, clock, id).InvocationStatus)
    H.ok(svc, clock, "StopInvocation", { RegionId = R, InvokeId = id })
    clock.t = clock.t + 3600
    r = H.results(svc, clock, id)[WEB1]
    assert.are.equal("Cancelled", r.InvocationStatus)
    assert.are.equal(3, r.Repeats)
    assert.are.equal("Stopped", task(svc, clock, id).InvocationStatus)
    hist = H.ok(svc, clock, "DescribeInvocationResults", { RegionId = R, InvokeId = id, IncludeHistory = "true" })
    assert.are.equal(6, hist.Invocation.TotalCount)
    local once = start(svc, clock, "echo")
    assert.are.equal("InvalidParameter.IncludeHistory", (H.err(svc, clock, "DescribeInvocationResults",
      { RegionId = R, InvokeId = once, IncludeHistory = "true" })))
  end)

  it("terminates a periodic run in progress on StopInvocation", function()
    local svc, clock = H.new()
    local id = start(svc, clock, "echo a\nsleep 30", { invoke = { Frequency = "rate(2m)" } })
    clock.t = clock.t + 130
    assert.are.equal("Running", H.results(svc, clock, id)[WEB1].InvocationStatus)
    H.ok(svc, clock, "StopInvocation", { RegionId = R, InvokeId = id })
    clock.t = clock.t + 600
    local r = H.results(svc, clock, id)[WEB1]
    assert.are.equal("Terminated", r.InvocationStatus)
    assert.are.equal("a\n", r.Output)
    assert.are.equal(1, r.Repeats)
  end)

  local has_frequency = pcall(require, "ecs.frequency")
  it("runs cron and at() schedules through ecs.frequency #frequency", function()
    if not has_frequency then
      error("ecs.frequency is part of the project and should load here")
    end
    local svc, clock = H.new()
    local cron = start(svc, clock, "echo c", { invoke = { Frequency = "0 */20 * * * ? UTC" } })
    local at = start(svc, clock, "exit 3", { invoke = { Frequency = "at(2026-11-27 20:45:00)" } })
    clock.t = clock.t + 200
    assert.are.equal("Scheduled", H.results(svc, clock, cron)[WEB1].InvocationStatus)
    assert.are.equal("Scheduled", H.results(svc, clock, at)[WEB1].InvocationStatus)
    clock.t = H.T0 + 3 * 3600 + 30
    local r = H.results(svc, clock, cron)[WEB1]
    assert.are.equal("Scheduled", r.InvocationStatus)
    assert.are.equal(9, r.Repeats)
    r = H.results(svc, clock, at)[WEB1]
    assert.are.equal("Failed", r.InvocationStatus)
    assert.are.equal(3, r.ExitCode)
    assert.are.equal("2026-11-27T20:45:00Z", r.StartTime)
    assert.are.equal("Failed", task(svc, clock, at).InvocationStatus)
  end)

  it("aborts runs on an instance that goes offline or stops", function()
    local svc, clock = H.new()
    local pending = start(svc, clock, "sleep 50")
    svc:set_instance(WEB1, { AgentOnline = false })
    clock.t = clock.t + 100
    local r = H.results(svc, clock, pending)[WEB1]
    assert.are.equal("Aborted", r.InvocationStatus)
    assert.are.equal("ClientNotResponse", r.ErrorCode)
    svc:set_instance(WEB1, { AgentOnline = true })
    local running = start(svc, clock, "echo a\nsleep 50")
    clock.t = clock.t + 10
    svc:set_instance(WEB1, { Status = "Stopped" })
    clock.t = clock.t + 100
    r = H.results(svc, clock, running)[WEB1]
    assert.are.equal("Failed", r.InvocationStatus)
    assert.are.equal("InstanceNotRunning", r.ErrorCode)
    assert.are.equal("a\n", r.Output)
    assert.are.equal("Success", H.results(svc, clock, running)[WEB2].InvocationStatus)
  end)

  it("cuts output at 24 KB and reports Dropped", function()
    local svc, clock = H.new()
    local cmd = H.plain_command(svc, clock, "echo {{a}}\necho {{a}}\necho {{a}}", { EnableParameter = "true" })
    local big = string.rep("z", 10000)
    local id = H.ok(svc, clock, "InvokeCommand", { RegionId = R, CommandId = cmd, ["InstanceId.1"] = WEB1,
      Parameters = '{"a":"' .. big .. '"}' }).InvokeId
    clock.t = clock.t + 5
    local r = H.results(svc, clock, id)[WEB1]
    assert.are.equal(24 * 1024, #r.Output)
    assert.are.equal(3 * 10001 - 24 * 1024, r.Dropped)
  end)

  it("returns Output in Base64 by default and only with IncludeOutput in DescribeInvocations", function()
    local svc, clock = H.new()
    local id = start(svc, clock, "echo hi")
    clock.t = clock.t + 5
    local b = H.ok(svc, clock, "DescribeInvocationResults", { RegionId = R, InvokeId = id })
    assert.are.equal(H.core.base64_encode("hi\n"), b.Invocation.InvocationResults.InvocationResult[1].Output)
    local inv = H.ok(svc, clock, "DescribeInvocations", { RegionId = R, InvokeId = id }).Invocations.Invocation[1]
    assert.is_nil(inv.InvokeInstances.InvokeInstance[1].Output)
    assert.are.equal(H.core.base64_encode("echo hi"), inv.CommandContent)
    inv = H.ok(svc, clock, "DescribeInvocations", { RegionId = R, InvokeId = id, IncludeOutput = "true" })
      .Invocations.Invocation[1]
    assert.are.equal(H.core.base64_encode("hi\n"), inv.InvokeInstances.InvokeInstance[1].Output)
    assert.are.equal("InvalidParameter.IncludeOutput",
      (H.err(svc, clock, "DescribeInvocations", { RegionId = R, IncludeOutput = "true" })))
  end)

  it("runs faster with time_scale and advance()", function()
    local svc, clock = H.new { time_scale = 100 }
    local id = start(svc, clock, "sleep 300\nexit 0", { invoke = { Timeout = 600 } })
    clock.t = clock.t + 2
    assert.are.equal("Running", H.results(svc, clock, id)[WEB1].InvocationStatus)
    clock.t = clock.t + 2
    assert.are.equal("Success", H.results(svc, clock, id)[WEB1].InvocationStatus)
    local svc2, clock2 = H.new()
    local id2 = start(svc2, clock2, "sleep 300", { invoke = { Timeout = 600 } })
    svc2:advance(400)
    assert.are.equal("Success", H.results(svc2, clock2, id2)[WEB1].InvocationStatus)
  end)

  it("filters DescribeInvocations and DescribeInvocationResults", function()
    local svc, clock = H.new()
    local ok_id = start(svc, clock, "exit 0")
    local bad_id = start(svc, clock, "exit 1")
    clock.t = clock.t + 5
    local b = H.ok(svc, clock, "DescribeInvocations", { RegionId = R, InvokeStatus = "Failed" })
    assert.are.equal(1, b.TotalCount)
    assert.are.equal(bad_id, b.Invocations.Invocation[1].InvokeId)
    b = H.ok(svc, clock, "DescribeInvocationResults", { RegionId = R, InvokeRecordStatus = "Finished" })
    assert.are.equal(2, b.Invocation.TotalCount)
    assert.are.equal(ok_id, b.Invocation.InvocationResults.InvocationResult[1].InvokeId)
    b = H.ok(svc, clock, "DescribeInvocationResults", { RegionId = R, InstanceId = WEB2 })
    assert.are.equal(2, b.Invocation.TotalCount)
    b = H.ok(svc, clock, "DescribeInvocations", { RegionId = R, InstanceId = WEB2, MaxResults = 1 })
    assert.are.equal(1, #b.Invocations.Invocation)
    assert.are.equal(bad_id, b.Invocations.Invocation[1].InvokeId)
    local b2 = H.ok(svc, clock, "DescribeInvocations", { RegionId = R, InstanceId = WEB2, MaxResults = 1,
      NextToken = b.NextToken })
    assert.are.equal(ok_id, b2.Invocations.Invocation[1].InvokeId)
    assert.are.equal("", b2.NextToken)
  end)
end)
