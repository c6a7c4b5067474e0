-- InvokeCommand / RunCommand / SendFile validation, eligibility,
-- idempotency (ClientToken) and the daily quota.
local H = require "30_emulator.emu_helper"

local R = "cn-hangzhou"

local function invoke(svc, clock, cmd, extra)
  local p = { RegionId = R, CommandId = cmd, ["InstanceId.1"] = "i-bp1emuweb01" }
  for k, v in pairs(extra or {}) do p[k] = v end
  return H.call(svc, clock, "InvokeCommand", p)
end

describe("emulator invocation validation", function()
  local svc, clock, cmd, pcmd, wcmd
  before_each(function()
    svc, clock = H.new()
    cmd = H.plain_command(svc, clock, "echo hi")
    pcmd = H.plain_command(svc, clock, "echo {{name}} {{greeting}}", { EnableParameter = "true" })
    wcmd = H.plain_command(svc, clock, "echo hi", { Type = "RunPowerShellScript" })
  end)

  it("invokes a command and returns an InvokeId", function()
    local status, body = invoke(svc, clock, cmd)
    assert.are.equal(200, status)
    assert.matches("^t%-%x+$", body.InvokeId)
    assert.are.equal(1, svc:counters().invocations)
  end)

  local cases = {
    { "no instance", { ["InstanceId.1"] = "" }, "MissingParam.InstanceId", 400 },
    { "unknown instance", { ["InstanceId.2"] = "i-nope" }, "InvalidInstance.NotFound", 404 },
    { "instance of another region", { ["InstanceId.2"] = "i-uf6emuweb01" }, "InvalidInstance.NotFound", 404 },
    { "a stopped instance", { ["InstanceId.2"] = "i-bp1emudb02" }, "InvalidInstance.NotMatch", 400 },
    { "a starting instance", { ["InstanceId.2"] = "i-bp1emubatch02" }, "InvalidInstance.NotMatch", 400 },
    { "an agent offline", { ["InstanceId.2"] = "i-bp1emuwin02" }, "InvalidInstance.NotMatch", 400 },
    { "no agent installed", { ["InstanceId.2"] = "i-bp1emubare01" }, "InvalidInstance.NotMatch", 400 },
    { "a Windows instance for a shell script", { ["InstanceId.2"] = "i-bp1emuwin01" },
      "InvalidInstance.NotMatch", 400 },
    { "an unknown command", { CommandId = "c-nope" }, "InvalidCmdId.NotFound", 404 },
    { "a missing CommandId", { CommandId = "" }, "MissingParameter.CommandId", 400 },
    { "an unknown RepeatMode", { RepeatMode = "Twice" }, "InvalidRepeatMode.NotFound", 404 },
    { "Period without Frequency", { RepeatMode = "Period" }, "MissingParam.Frequency", 400 },
    { "a bad cron", { Frequency = "*/5 * * * *" }, "InvalidParam.Frequency", 400 },
    { "a too fast rate", { Frequency = "rate(30s)" }, "InvalidParam.Frequency", 400 },
    { "a bad at()", { Frequency = "at(2026-13-01 00:00:00)" }, "InvalidParam.Frequency", 400 },
    { "Timeout below 10", { Timeout = 9 }, "InvalidParameter.Timeout", 400 },
    { "a non-integer Timeout", { Timeout = "ten" }, "InvalidParameter.Timeout", 400 },
    { "Parameters for a command without parameters", { Parameters = '{"a":"b"}' }, "Parameter.Disabled", 400 },
    { "a long Username", { Username = string.rep("u", 256) }, "Username.ExceedLimit", 403 },
    { "a long WorkingDir", { WorkingDir = string.rep("w", 201) }, "InvalidParameter.WorkingDir", 400 },
    { "a long Launcher", { Launcher = string.rep("l", 1025) }, "InvalidLauncher.LengthLimitExceeded", 403 },
    { "a bad ContainerId", { ContainerId = "abc" }, "InvalidContainerId.Malformed", 400 },
    { "a bad TerminationMode", { TerminationMode = "Kill" }, "InvalidTerminationMode.NotFound", 404 },
    { "a bad ClientToken", { ClientToken = string.rep("t", 65) }, "InvalidClientToken.Malformed", 400 },
    { "an unknown ResourceGroupId", { ResourceGroupId = "rg-none" }, "InvalidResourceGroup.NotFound", 404 },
    { "ResourceTag with InstanceId", { ["ResourceTag.1.Key"] = "env", ["ResourceTag.1.Value"] = "prod" },
      "InvalidResourceTag.ConflictWithInstanceIds", 400 },
  }
  for _, c in ipairs(cases) do
    it("refuses " .. c[1] .. " with " .. c[3], function()
      local extra = c[2]
      if extra.CommandId == nil then extra.CommandId = cmd end
      local status, body = invoke(svc, clock, extra.CommandId, extra)
      assert.are.equal(c[3], body.Code)
      assert.are.equal(c[4], status)
      assert.are.equal(0, svc:counters().invocations)
    end)
  end

  it("names the ineligible instance and refuses the whole call", function()
    local _, body = invoke(svc, clock, cmd, { ["InstanceId.2"] = "i-bp1emuweb02", ["InstanceId.3"] = "i-bp1emudb02" })
    assert.truthy(body.Message:find("i-bp1emudb02", 1, true))
    assert.truthy(body.Message:find("Stopped", 1, true))
    assert.are.equal(0, H.ok(svc, clock, "DescribeInvocations", { RegionId = R }).TotalCount)
  end)

  it("accepts a PowerShell command on Windows and refuses it on Linux", function()
    assert.are.equal(200, (invoke(svc, clock, wcmd, { ["InstanceId.1"] = "i-bp1emuwin01" })))
    assert.are.equal("InvalidInstance.NotMatch", select(2, invoke(svc, clock, wcmd)).Code)
    assert.are.equal("WindowsPasswordName.Missed",
      select(2, invoke(svc, clock, wcmd, { ["InstanceId.1"] = "i-bp1emuwin01", Username = "admin" })).Code)
  end)

  it("accepts 100 instance IDs and refuses 101", function()
    local gsvc, gclock = H.new { fleet = require("ecs.emulator").generate_fleet { count = 240, regions = { R },
      running = 1, offline = 0, windows = 0 } }
    local gcmd = H.plain_command(gsvc, gclock, "echo")
    local p = { RegionId = R, CommandId = gcmd }
    for i = 1, 100 do p["InstanceId." .. i] = string.format("i-emu%07d", i) end
    assert.are.equal(200, (H.call(gsvc, gclock, "InvokeCommand", p)))
    p["InstanceId.101"] = "i-emu0000101"
    local code, status = H.err(gsvc, gclock, "InvokeCommand", p)
    assert.are.equal("InstanceIds.ExceedLimit", code)
    assert.are.equal(403, status)
  end)

  it("selects targets by ResourceTag", function()
    local status, body = H.call(svc, clock, "InvokeCommand", { RegionId = R, CommandId = cmd,
      ["ResourceTag.1.Key"] = "app", ["ResourceTag.1.Value"] = "web", ["ResourceTag.2.Key"] = "env",
      ["ResourceTag.2.Value"] = "prod" })
    assert.are.equal(200, status)
    local by = H.results(svc, clock, body.InvokeId)
    assert.truthy(by["i-bp1emuweb01"])
    assert.truthy(by["i-bp1emuweb02"])
    assert.falsy(by["i-bp1emuweb03"])
    assert.are.equal("InvalidResourceTag.InstanceNotFound", (H.err(svc, clock, "InvokeCommand", { RegionId = R,
      CommandId = cmd, ["ResourceTag.1.Key"] = "app", ["ResourceTag.1.Value"] = "none" })))
    assert.are.equal("MissingParameter.ResourceTagKey", (H.err(svc, clock, "InvokeCommand", { RegionId = R,
      CommandId = cmd, ["ResourceTag.1.Value"] = "web" })))
  end)

  describe("Parameters", function()
    local function perr(json)
      return select(2, invoke(svc, clock, pcmd, { Parameters = json })).Code
    end
    it("accepts the defined names as strings", function()
      assert.are.equal(200, (invoke(svc, clock, pcmd, { Parameters = '{"name":"Jack","greeting":""}' })))
    end)
    it("applies the documented rules", function()
      assert.are.equal("Parameter.MissingValue", select(2, invoke(svc, clock, pcmd)).Code)
      assert.are.equal("Parameter.MissingValue", perr('{"name":"Jack"}'))
      assert.are.equal("Parameter.NotMatched", perr('{"name":"a","greeting":"b","extra":"c"}'))
      assert.are.equal("ParameterType.NotSupported", perr('{"name":1,"greeting":"b"}'))
      assert.are.equal("InvalidParameter.Parameters", perr('["name"]'))
      assert.are.equal("InvalidParameter.Parameters", perr('{"name":'))
      assert.are.equal("ParameterKey.ExceedLimit", perr('{"' .. string.rep("k", 65) .. '":"v"}'))
      local many = {}
      for i = 1, 11 do many[#many + 1] = '"k' .. i .. '":"v"' end
      assert.are.equal("ParameterCount.ExceedLimit", perr("{" .. table.concat(many, ",") .. "}"))
      assert.are.equal("CmdContent.ExceedLimit",
        perr('{"name":"' .. string.rep("x", 14000) .. '","greeting":"b"}'))
    end)
  end)

  it("forces RepeatMode=Period when a Frequency is given", function()
    local _, body = invoke(svc, clock, cmd, { RepeatMode = "Once", Frequency = "0 */20 * * * ?" })
    local inv = H.ok(svc, clock, "DescribeInvocations", { RegionId = R, InvokeId = body.InvokeId })
      .Invocations.Invocation[1]
    assert.are.equal("Period", inv.RepeatMode)
    assert.are.equal("Scheduled", inv.InvocationStatus)
    assert.is_true(inv.Timed)
  end)

  it("rejects a rate not longer than the Timeout", function()
    assert.are.equal("InvalidParam.Frequency",
      select(2, invoke(svc, clock, cmd, { Frequency = "rate(2m)", Timeout = 120 })).Code)
    assert.are.equal(200, (invoke(svc, clock, cmd, { Frequency = "rate(2m)", Timeout = 60 })))
  end)

  it("reports ClientNeedUpgrade per instance for rate() on an old agent", function()
    local _, body = invoke(svc, clock, cmd, { Frequency = "rate(5m)", ["InstanceId.2"] = "i-bp1emudb01" })
    local by = H.results(svc, clock, body.InvokeId)
    assert.are.equal("Scheduled", by["i-bp1emuweb01"].InvocationStatus)
    assert.are.equal("ClientNeedUpgrade", by["i-bp1emudb01"].ErrorCode)
    assert.are.equal("Failed", by["i-bp1emudb01"].InvocationStatus)
  end)

  it("validates without running for RepeatMode=DryRun", function()
    local code = select(2, invoke(svc, clock, cmd, { RepeatMode = "DryRun" })).Code
    assert.are.equal("DryRunOperation", code)
    assert.are.equal("InvalidInstance.NotMatch",
      select(2, invoke(svc, clock, cmd, { RepeatMode = "DryRun", ["InstanceId.2"] = "i-bp1emudb02" })).Code)
    assert.are.equal(0, svc:counters().invocations)
  end)

  describe("ClientToken", function()
    it("returns the same InvokeId for the same token and parameters, once", function()
      local _, a = invoke(svc, clock, cmd, { ClientToken = "tok-1" })
      local _, b = invoke(svc, clock, cmd, { ClientToken = "tok-1" }, {})
      local _, c = H.call(svc, clock, "InvokeCommand", { RegionId = R, CommandId = cmd,
        ["InstanceId.1"] = "i-bp1emuweb01", ClientToken = "tok-1" }, { v3 = true })
      assert.are.equal(a.InvokeId, b.InvokeId)
      assert.are.equal(a.InvokeId, c.InvokeId)
      assert.are_not.equal(a.RequestId, b.RequestId)
      assert.are.equal(1, svc:counters().invocations)
      assert.are.equal(1, H.ok(svc, clock, "DescribeInvocations", { RegionId = R }).TotalCount)
    end)

    it("gives IdempotentParameterMismatch for the same token with other parameters", function()
      invoke(svc, clock, cmd, { ClientToken = "tok-2" })
      local status, body = invoke(svc, clock, cmd, { ClientToken = "tok-2", ["InstanceId.1"] = "i-bp1emuweb02" })
      assert.are.equal(403, status)
      assert.are.equal("IdempotentParameterMismatch", body.Code)
      assert.are.equal(1, svc:counters().invocations)
    end)

    it("is case-sensitive and does not store failures", function()
      local _, a = invoke(svc, clock, cmd, { ClientToken = "Tok" })
      local _, b = invoke(svc, clock, cmd, { ClientToken = "tok" })
      assert.are_not.equal(a.InvokeId, b.InvokeId)
      local status = invoke(svc, clock, cmd, { ClientToken = "t3", ["InstanceId.1"] = "i-bp1emudb02" })
      assert.are.equal(400, status)
      svc:set_instance("i-bp1emudb02", { Status = "Running", AgentOnline = true })
      assert.are.equal(200, (invoke(svc, clock, cmd, { ClientToken = "t3", ["InstanceId.1"] = "i-bp1emudb02" })))
    end)

    it("answers IdempotentProcessing while the first request is held back, then the same InvokeId", function()
      svc:set_faults { { kind = "delay", action = "InvokeCommand", first = 1, delay = 5 } }
      local status, a, resp = invoke(svc, clock, cmd, { ClientToken = "busy-1" })
      assert.are.equal(200, status)
      assert.are.equal(5, resp.delay)
      -- a retry while the first answer is still on its way
      local status2, b = invoke(svc, clock, cmd, { ClientToken = "busy-1" })
      assert.are.equal(403, status2)
      assert.are.equal("IdempotentProcessing", b.Code)
      assert.truthy(b.Message:find("ClientToken", 1, true))
      clock.t = clock.t + 4.9
      local _, c = H.call(svc, clock, "InvokeCommand", { RegionId = R, CommandId = cmd,
        ["InstanceId.1"] = "i-bp1emuweb01", ClientToken = "busy-1" }, { v3 = true })
      assert.are.equal("IdempotentProcessing", c.Code)
      -- other parameters are still a mismatch; another token is not affected
      local _, d = invoke(svc, clock, cmd, { ClientToken = "busy-1", ["InstanceId.1"] = "i-bp1emuweb02" })
      assert.are.equal("IdempotentParameterMismatch", d.Code)
      assert.are.equal(200, (invoke(svc, clock, cmd, { ClientToken = "busy-2" })))
      -- once the first has been answered, the token replays its result
      clock.t = clock.t + 0.2
      local status3, e, resp3 = invoke(svc, clock, cmd, { ClientToken = "busy-1" })
      assert.are.equal(200, status3)
      assert.are.equal(a.InvokeId, e.InvokeId)
      assert.is_nil(resp3.delay)
      assert.are.equal(2, svc:counters().invocations)
      -- without a token a delayed call blocks nothing
      svc:set_faults { { kind = "delay", action = "InvokeCommand", first = 1, delay = 5 } }
      assert.are.equal(200, (invoke(svc, clock, cmd)))
      assert.are.equal(200, (invoke(svc, clock, cmd)))
    end)

    it("holds a failed first request's token only while its answer is delayed", function()
      svc:set_faults { { kind = "delay", action = "InvokeCommand", first = 1, delay = 2 } }
      local p = { ClientToken = "busy-f", ["InstanceId.1"] = "i-bp1emudb02" }
      local status, body = invoke(svc, clock, cmd, p)
      assert.are.equal(400, status)
      assert.are.equal("InvalidInstance.NotMatch", body.Code)
      assert.are.equal("IdempotentProcessing", select(2, invoke(svc, clock, cmd, p)).Code)
      svc:set_instance("i-bp1emudb02", { Status = "Running", AgentOnline = true })
      clock.t = clock.t + 2
      status, body = invoke(svc, clock, cmd, p)
      assert.are.equal(200, status, tostring(body.Code))
      assert.are.equal(1, svc:counters().invocations)
      assert.are.equal(body.InvokeId, select(2, invoke(svc, clock, cmd, p)).InvokeId)
    end)

    it("covers RunCommand, CreateCommand and SendFile", function()
      local p = { RegionId = R, Type = "RunShellScript", CommandContent = "echo", ["InstanceId.1"] = "i-bp1emuweb01",
        ClientToken = "rc" }
      local a, b = H.ok(svc, clock, "RunCommand", p), H.ok(svc, clock, "RunCommand", p)
      assert.are.equal(a.InvokeId, b.InvokeId)
      assert.are.equal(a.CommandId, b.CommandId)
      local c1 = H.ok(svc, clock, "CreateCommand", { RegionId = R, Name = "x", Type = "RunShellScript",
        CommandContent = "ZWNobw==", ClientToken = "cc" })
      local c2 = H.ok(svc, clock, "CreateCommand", { RegionId = R, Name = "x", Type = "RunShellScript",
        CommandContent = "ZWNobw==", ClientToken = "cc" })
      assert.are.equal(c1.CommandId, c2.CommandId)
      local f = { RegionId = R, ["InstanceId.1"] = "i-bp1emuweb01", Name = "a.txt", TargetDir = "/tmp",
        Content = "hello", ClientToken = "sf" }
      assert.are.equal(H.ok(svc, clock, "SendFile", f).InvokeId, H.ok(svc, clock, "SendFile", f).InvokeId)
    end)
  end)

  describe("daily invocation quota", function()
    it("refuses the call after the quota and resets on the next UTC day", function()
      local qsvc, qclock = H.new { quota = { daily_invocations = 3 } }
      local qcmd = H.plain_command(qsvc, qclock, "echo")
      for _ = 1, 3 do assert.are.equal(200, (invoke(qsvc, qclock, qcmd))) end
      local status, body = invoke(qsvc, qclock, qcmd)
      assert.are.equal(403, status)
      assert.are.equal("Invocation.ExceedQuota", body.Code)
      -- other regions have their own quota
      local scmd = H.ok(qsvc, qclock, "CreateCommand", { RegionId = "cn-shanghai", Name = "s",
        Type = "RunShellScript", CommandContent = "ZWNobw==" }).CommandId
      assert.are.equal(200, (H.call(qsvc, qclock, "InvokeCommand", { RegionId = "cn-shanghai", CommandId = scmd,
        ["InstanceId.1"] = "i-uf6emuweb01" })))
      -- a replayed ClientToken still answers; RunCommand and SendFile count too
      assert.are.equal("Invocation.ExceedQuota", (H.err(qsvc, qclock, "RunCommand", { RegionId = R,
        Type = "RunShellScript", CommandContent = "echo", ["InstanceId.1"] = "i-bp1emuweb01" })))
      qsvc:advance(86400)
      assert.are.equal(200, (invoke(qsvc, qclock, qcmd)))
    end)
  end)

  describe("RunCommand", function()
    it("runs plain text by default and keeps the command only with KeepCommand", function()
      local b = H.ok(svc, clock, "RunCommand", { RegionId = R, Type = "RunShellScript", CommandContent = "echo run",
        ["InstanceId.1"] = "i-bp1emuweb01", Name = "adhoc" })
      assert.matches("^c%-", b.CommandId)
      assert.matches("^t%-", b.InvokeId)
      assert.are.equal("InvalidCmdId.NotFound", select(2, invoke(svc, clock, b.CommandId)).Code)
      local k = H.ok(svc, clock, "RunCommand", { RegionId = R, Type = "RunShellScript", CommandContent = "echo run",
        ["InstanceId.1"] = "i-bp1emuweb01", KeepCommand = "true" })
      assert.are.equal(200, (invoke(svc, clock, k.CommandId)))
    end)

    it("creates no command when the invocation is refused", function()
      local before = #H.ok(svc, clock, "DescribeCommands", { RegionId = R, MaxResults = 50 }).Commands.Command
      assert.are.equal("InvalidInstance.NotMatch", (H.err(svc, clock, "RunCommand", { RegionId = R,
        Type = "RunShellScript", CommandContent = "echo", KeepCommand = "true", ["InstanceId.1"] = "i-bp1emudb02" })))
      assert.are.equal(before, #H.ok(svc, clock, "DescribeCommands", { RegionId = R, MaxResults = 50 })
        .Commands.Command)
    end)

    it("allows 24 KB of unsaved content but 18 KB when kept", function()
      local big = string.rep("x", 16000)
      assert.are.equal(200, (H.call(svc, clock, "RunCommand", { RegionId = R, Type = "RunShellScript",
        CommandContent = big, ["InstanceId.1"] = "i-bp1emuweb01" })))
      assert.are.equal("CmdContent.ExceedLimit", (H.err(svc, clock, "RunCommand", { RegionId = R,
        Type = "RunShellScript", CommandContent = big, KeepCommand = "true", ["InstanceId.1"] = "i-bp1emuweb01" })))
    end)
  end)

  describe("SendFile", function()
    it("validates its parameters", function()
      local base = { RegionId = R, ["InstanceId.1"] = "i-bp1emuweb01", Name = "a", TargetDir = "/tmp", Content = "x" }
      local function with(k, v)
        local p = {}
        for a, b in pairs(base) do p[a] = b end
        p[k] = v
        return p
      end
      assert.are.equal("MissingParameter.Name", (H.err(svc, clock, "SendFile", with("Name", ""))))
      assert.are.equal("MissingParameter.TargetDir", (H.err(svc, clock, "SendFile", with("TargetDir", ""))))
      assert.are.equal("MissingParameter.Content", (H.err(svc, clock, "SendFile", with("Content", ""))))
      assert.are.equal("InvalidParameter.Content", (H.err(svc, clock, "SendFile", with("Content",
        string.rep("x", 25000)))))
      assert.are.equal("InvalidParameter.FileMode", (H.err(svc, clock, "SendFile", with("FileMode", "rwx"))))
      assert.are.equal("InvalidInstance.NotMatch", (H.err(svc, clock, "SendFile", with("InstanceId.1",
        "i-bp1emudb02"))))
      local many = with("Name", "b")
      for i = 1, 51 do many["InstanceId." .. i] = "i-bp1emuweb01" .. i end
      assert.are.equal("InstanceIds.ExceedLimit", (H.err(svc, clock, "SendFile", many)))
    end)

    it("delivers files; a second send without Overwrite fails on that instance", function()
      local p = { RegionId = R, ["InstanceId.1"] = "i-bp1emuweb01", Name = "a.conf", TargetDir = "/etc/app",
        Content = H.core.base64_encode("k=v"), ContentType = "Base64" }
      local first = H.ok(svc, clock, "SendFile", p).InvokeId
      assert.matches("^f%-", first)
      local second = H.ok(svc, clock, "SendFile", p).InvokeId
      p.Overwrite = "true"
      local third = H.ok(svc, clock, "SendFile", p).InvokeId
      clock.t = clock.t + 5
      local function status_of(id)
        local inv = H.ok(svc, clock, "DescribeSendFileResults", { RegionId = R,
          InvokeId = id }).Invocations.Invocation[1]
        return inv.InvokeInstances.InvokeInstance[1], inv
      end
      local one, inv = status_of(first)
      assert.are.equal("Success", one.InvocationStatus)
      assert.are.equal("a.conf", inv.Name)
      assert.are.equal("0644", inv.FileMode)
      assert.are.equal("Failed", status_of(second).InvocationStatus)
      assert.are.equal("FileAlreadyExists", status_of(second).ErrorCode)
      assert.are.equal("Success", status_of(third).InvocationStatus)
    end)
  end)
end)
