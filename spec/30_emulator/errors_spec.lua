-- The remaining documented error paths: tags, ResourceTag, containers,
-- SendFile lengths, parameter names, signature version, path.
local H = require "30_emulator.emu_helper"

local R = "cn-hangzhou"

describe("emulator error paths", function()
  local svc, clock, cmd
  before_each(function()
    svc, clock = H.new()
    cmd = H.plain_command(svc, clock, "echo {{name}}", { EnableParameter = "true" })
  end)

  local function invoke(extra)
    local p = { RegionId = R, CommandId = cmd, Parameters = '{"name":"x"}' }
    local has_target = false
    for k, v in pairs(extra) do
      p[k] = v
      if k:find("^ResourceTag") then has_target = true end
    end
    if not has_target then p["InstanceId.1"] = "i-bp1emuweb01" end
    return H.err(svc, clock, "InvokeCommand", p)
  end

  it("checks ResourceTag entries", function()
    local many = {}
    for i = 1, 11 do
      many["ResourceTag." .. i .. ".Key"] = "k" .. i
      many["ResourceTag." .. i .. ".Value"] = "v"
    end
    assert.are.equal("NumberExceed.ResourceTags", (invoke(many)))
    assert.are.equal("Duplicate.ResourceTagKey", (invoke { ["ResourceTag.1.Key"] = "env",
      ["ResourceTag.2.Key"] = "env" }))
    assert.are.equal("InvalidResourceTagKey.Malformed", (invoke { ["ResourceTag.1.Key"] = "acs:env" }))
    assert.are.equal("InvalidResourceTagKey.Malformed", (invoke { ["ResourceTag.1.Key"] = string.rep("k", 65) }))
    assert.are.equal("InvalidResourceTagValue.Malformed", (invoke { ["ResourceTag.1.Key"] = "env",
      ["ResourceTag.1.Value"] = "http://x" }))
  end)

  it("checks execution tags and ContainerName", function()
    assert.are.equal("InvalidTagKey.Malformed", (invoke { ["Tag.1.Key"] = "aliyun-team" }))
    assert.are.equal("InvalidTagValue.Malformed",
      (invoke { ["Tag.1.Key"] = "team", ["Tag.1.Value"] = string.rep("v", 129) }))
    assert.are.equal("InvalidParameter.Tag", (invoke { ["Tag.21.Key"] = "team" }))
    assert.are.equal("InvalidContainerName.Malformed", (invoke { ContainerName = "my container" }))
    assert.are.equal("WindowsPasswordName.ExceedLimit", (invoke { WindowsPasswordName = string.rep("w", 256) }))
  end)

  it("treats parameter names case-insensitively", function()
    assert.are.equal("ParameterKey.Duplicate", (invoke { Parameters = '{"name":"a","NAME":"b"}' }))
    local id = H.ok(svc, clock, "InvokeCommand", { RegionId = R, CommandId = cmd,
      ["InstanceId.1"] = "i-bp1emuweb01", Parameters = '{"Name":"mixed"}' }).InvokeId
    clock.t = clock.t + 5
    assert.are.equal("mixed\n", H.results(svc, clock, id)["i-bp1emuweb01"].Output)
  end)

  it("checks the length of parameter names in CreateCommand", function()
    local code, status = H.err(svc, clock, "CreateCommand", { RegionId = R, Name = "n", Type = "RunShellScript",
      CommandContent = "echo {{" .. string.rep("p", 65) .. "}}", ContentEncoding = "PlainText",
      EnableParameter = "true" })
    assert.are.equal("CmdParamName.ExceedLimit", code)
    assert.are.equal(403, status)
  end)

  it("checks SendFile lengths", function()
    local base = { RegionId = R, ["InstanceId.1"] = "i-bp1emuweb01", Name = "a", TargetDir = "/tmp", Content = "x" }
    for name, limit in pairs { Name = 255, TargetDir = 255, Description = 512, FileOwner = 64, FileGroup = 64 } do
      local p = {}
      for k, v in pairs(base) do p[k] = v end
      p[name] = string.rep("n", limit + 1)
      assert.are.equal("InvalidParameter." .. name, (H.err(svc, clock, "SendFile", p)))
    end
  end)

  it("checks SignatureVersion and the path", function()
    local core = H.core
    local flat = { Action = "DescribeRegions", Version = "2014-05-26", AccessKeyId = "testid",
      SignatureMethod = "HMAC-SHA1", SignatureVersion = "2.0", SignatureNonce = "sv",
      Timestamp = core.timestamp(H.T0) }
    flat.Signature = core.v2_signature("testsecret", core.v2_string_to_sign("GET", flat))
    local resp = svc:handle { method = "GET", path = "/", query = core.canonical_query(flat), headers = {} }
    assert.are.equal("InvalidSignatureVersion", H.decode(resp).Code)
    resp = svc:handle { method = "GET", path = "/api", query = "", headers = {} }
    assert.are.equal("InvalidApi.NotFound", H.decode(resp).Code)
    assert.are.equal(404, resp.status)
  end)
end)
