-- CreateCommand, DescribeCommands, ModifyCommand, DeleteCommand.
local H = require "30_emulator.emu_helper"

local function create(svc, clock, extra)
  local p = { RegionId = "cn-hangzhou", Name = "hello", Type = "RunShellScript",
    CommandContent = H.core.base64_encode("echo hello") }
  for k, v in pairs(extra or {}) do p[k] = v end
  return H.call(svc, clock, "CreateCommand", p)
end

local function describe_one(svc, clock, id, extra)
  local p = { RegionId = "cn-hangzhou", CommandId = id }
  for k, v in pairs(extra or {}) do p[k] = v end
  local b = H.ok(svc, clock, "DescribeCommands", p)
  return b.Commands.Command[1], b
end

describe("emulator commands", function()
  it("creates a command (Base64 by default) and describes it", function()
    local svc, clock = H.new()
    local status, body = create(svc, clock, { Description = "says hello", Timeout = 120, WorkingDir = "/tmp" })
    assert.are.equal(200, status)
    assert.matches("^c%-%x+$", body.CommandId)
    local c = describe_one(svc, clock, body.CommandId)
    assert.are.equal("hello", c.Name)
    assert.are.equal("says hello", c.Description)
    assert.are.equal(120, c.Timeout)
    assert.are.equal("/tmp", c.WorkingDir)
    assert.are.equal(H.core.base64_encode("echo hello"), c.CommandContent)
    assert.are.equal("echo hello", (describe_one(svc, clock, body.CommandId, { ContentEncoding = "PlainText" }))
      .CommandContent)
    assert.are.equal(60, (describe_one(svc, clock, H.plain_command(svc, clock, "echo"))).Timeout)
  end)

  it("takes plain text with ContentEncoding=PlainText and rejects bad Base64", function()
    local svc, clock = H.new()
    local _, body = create(svc, clock, { CommandContent = "echo plain", ContentEncoding = "PlainText" })
    assert.are.equal("echo plain", describe_one(svc, clock, body.CommandId, { ContentEncoding = "PlainText" })
      .CommandContent)
    local status, err = create(svc, clock, { CommandContent = "not base64 at all!" })
    assert.are.equal(400, status)
    assert.are.equal("CmdContent.DecodeError", err.Code)
  end)

  it("lists parameter names of an EnableParameter command", function()
    local svc, clock = H.new()
    local id = H.plain_command(svc, clock, "echo {{ name }} {{greeting}} {{ACS::InstanceId}}",
      { EnableParameter = "true" })
    local c = describe_one(svc, clock, id)
    assert.are.same({ "name", "greeting" }, c.ParameterNames.ParameterName)
    assert.is_true(c.EnableParameter)
  end)

  local cases = {
    { "missing Name", { Name = "" }, "MissingParameter.Name", 400 },
    { "missing Type", { Type = "" }, "MissingParameter.Type", 400 },
    { "unknown Type", { Type = "RunPythonScript" }, "InvalidCmdType.NotFound", 404 },
    { "missing content", { CommandContent = "" }, "MissingParameter.CommandContent", 400 },
    { "long Name", { Name = string.rep("n", 129) }, "CmdName.ExceedLimit", 403 },
    { "long Description", { Description = string.rep("d", 513) }, "CmdDesc.ExceedLimit", 403 },
    { "long WorkingDir", { WorkingDir = "/" .. string.rep("w", 200) }, "InvalidParameter.WorkingDir", 400 },
    { "long Launcher", { Launcher = string.rep("l", 1025) }, "InvalidLauncher.LengthLimitExceeded", 403 },
    { "short Timeout", { Timeout = 9 }, "InvalidParameter.Timeout", 400 },
    { "huge Timeout", { Timeout = 86401 }, "InvalidTimeout.ExceedLimit", 403 },
    { "big content", { CommandContent = string.rep("x", 14000), ContentEncoding = "PlainText" },
      "CmdContent.ExceedLimit", 403 },
    { "empty parameter", { CommandContent = "echo {{ }}", ContentEncoding = "PlainText", EnableParameter = "true" },
      "CmdParam.EmptyKey", 400 },
    { "bad parameter name", { CommandContent = "echo {{a b}}", ContentEncoding = "PlainText",
      EnableParameter = "true" }, "CmdParam.InvalidParamName", 400 },
    { "unknown resource group", { ResourceGroupId = "rg-nope" }, "InvalidResourceGroup.NotFound", 404 },
    { "missing region", { RegionId = "" }, "MissingParameter.RegionId", 400 },
  }
  for _, c in ipairs(cases) do
    it("rejects " .. c[1] .. " with " .. c[3], function()
      local svc, clock = H.new()
      local status, body = create(svc, clock, c[2])
      assert.are.equal(c[3], body.Code)
      assert.are.equal(c[4], status)
    end)
  end

  it("rejects more than 20 parameters", function()
    local svc, clock = H.new()
    local parts = {}
    for i = 1, 21 do parts[i] = "{{p" .. i .. "}}" end
    local _, body = create(svc, clock, { CommandContent = table.concat(parts, " "), ContentEncoding = "PlainText",
      EnableParameter = "true" })
    assert.are.equal("CmdParamCount.ExceedLimit", body.Code)
  end)

  it("enforces the retained-command quota per region", function()
    local svc, clock = H.new { quota = { commands = 3 } }
    for _ = 1, 3 do assert.are.equal(200, (create(svc, clock))) end
    local status, body = create(svc, clock)
    assert.are.equal(403, status)
    assert.are.equal("CmdCount.ExceedQuota", body.Code)
    assert.are.equal(200, (create(svc, clock, { RegionId = "cn-shanghai" })))
    -- RunCommand without KeepCommand does not retain a command
    H.ok(svc, clock, "RunCommand", { RegionId = "cn-hangzhou", Type = "RunShellScript", CommandContent = "echo",
      ["InstanceId.1"] = "i-bp1emuweb01" })
    local first = H.ok(svc, clock, "DescribeCommands", { RegionId = "cn-hangzhou" }).Commands.Command[1].CommandId
    H.ok(svc, clock, "DeleteCommand", { RegionId = "cn-hangzhou", CommandId = first })
    assert.are.equal(200, (create(svc, clock)))
  end)

  it("modifies name, description, timeout, working dir and launcher (content ignored)", function()
    local svc, clock = H.new()
    local id = H.plain_command(svc, clock, "echo one")
    H.ok(svc, clock, "ModifyCommand", { RegionId = "cn-hangzhou", CommandId = id, Name = "renamed",
      Description = "new", Timeout = 30, WorkingDir = "/opt", Launcher = "bash", CommandContent = "ZWNobyB0d28=" })
    local c = describe_one(svc, clock, id, { ContentEncoding = "PlainText" })
    assert.are.equal("renamed", c.Name)
    assert.are.equal("new", c.Description)
    assert.are.equal(30, c.Timeout)
    assert.are.equal("/opt", c.WorkingDir)
    assert.are.equal("bash", c.Launcher)
    assert.are.equal("echo one", c.CommandContent)
    assert.are.equal("InvalidParameter.Timeout",
      (H.err(svc, clock, "ModifyCommand", { RegionId = "cn-hangzhou", CommandId = id, Timeout = 5 })))
    assert.are.equal("InvalidCmdId.NotFound",
      (H.err(svc, clock, "ModifyCommand", { RegionId = "cn-hangzhou", CommandId = "c-nope", Name = "x" })))
  end)

  it("deletes a command; a second delete is InvalidCmdId.NotFound", function()
    local svc, clock = H.new()
    local id = H.plain_command(svc, clock, "echo")
    H.ok(svc, clock, "DeleteCommand", { RegionId = "cn-hangzhou", CommandId = id })
    local code, status = H.err(svc, clock, "DeleteCommand", { RegionId = "cn-hangzhou", CommandId = id })
    assert.are.equal("InvalidCmdId.NotFound", code)
    assert.are.equal(404, status)
    assert.are.equal("MissingParameter.CommandId", (H.err(svc, clock, "DeleteCommand", { RegionId = "cn-hangzhou" })))
  end)

  it("filters DescribeCommands by name wildcard and type, and pages", function()
    local svc, clock = H.new()
    for i = 1, 12 do H.plain_command(svc, clock, "echo", { Name = "job-" .. i }) end
    H.plain_command(svc, clock, "echo", { Name = "other", Type = "RunBatScript" })
    local b = H.ok(svc, clock, "DescribeCommands", { RegionId = "cn-hangzhou", Name = "job-*" })
    assert.are.equal(12, b.TotalCount)
    assert.are.equal(10, #b.Commands.Command)
    local b2 = H.ok(svc, clock, "DescribeCommands", { RegionId = "cn-hangzhou", Name = "job-*",
      NextToken = b.NextToken })
    assert.are.equal(2, #b2.Commands.Command)
    assert.are.equal("", b2.NextToken)
    b = H.ok(svc, clock, "DescribeCommands", { RegionId = "cn-hangzhou", Type = "RunBatScript" })
    assert.are.equal(1, b.TotalCount)
    assert.are.equal("other", b.Commands.Command[1].Name)
    assert.are.equal(0, H.ok(svc, clock, "DescribeCommands", { RegionId = "cn-shanghai" }).TotalCount)
    assert.are.equal("InvalidParameter.MaxResults",
      (H.err(svc, clock, "DescribeCommands", { RegionId = "cn-hangzhou", MaxResults = 51 })))
  end)

  it("counts InvokeTimes", function()
    local svc, clock = H.new()
    local id = H.plain_command(svc, clock, "echo")
    for _ = 1, 2 do
      H.ok(svc, clock, "InvokeCommand", { RegionId = "cn-hangzhou", CommandId = id,
        ["InstanceId.1"] = "i-bp1emuweb01" })
    end
    assert.are.equal(2, describe_one(svc, clock, id).InvokeTimes)
  end)
end)
