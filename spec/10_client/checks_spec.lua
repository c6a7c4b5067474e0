-- Local checks of documented limits (reference §1.2, §9): a request the
-- service would reject fails before it is sent, with a message naming the
-- limit. The client points at a closed loopback port, so a request that
-- wrongly passes the checks comes back as Network.ConnectFailed instead.
local ecs = require "ecs"
local checks = require "ecs.checks"
local helper = require "helpers.emulator"

local port = helper.free_port()

local function client(extra)
  local cfg = { region = "cn-hangzhou", endpoint = "http://127.0.0.1:" .. port, access_key_id = "LTAItestid",
                access_key_secret = "testsecret", retry = false, timeout = { connect = 2, read = 2 } }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return ecs.new(cfg)
end

local function ids(n)
  local out = {}
  for i = 1, n do out[i] = ("i-%04d"):format(i) end
  return out
end

-- call and expect a local failure: code, and every pattern in the message
local function rejected(method, params, code, ...)
  local events = {}
  local c = client { logger = function(ev) events[#events + 1] = ev end }
  local res, err = c[method](c, params)
  assert.is_nil(res)
  assert.is_true(ecs.is_error(err))
  assert.are.equal(code, err.code, tostring(err))
  assert.is_true(err["local"], "not marked local: " .. tostring(err))
  assert.are.equal(false, err.retryable)
  for _, pattern in ipairs { ... } do
    assert.is_truthy(err.message:find(pattern, 1, true), ("'%s' not in: %s"):format(pattern, err.message))
  end
  for _, ev in ipairs(events) do assert.are_not.equal("request", ev.event) end
  return err, events
end

-- call and expect it to get past the checks (to the closed port)
local function passes(method, params)
  local c = client()
  local res, err = c[method](c, params)
  assert.is_nil(res)
  assert.are.equal("Network.ConnectFailed", err.code, tostring(err))
  return err
end

describe("local checks", function()
  it("allows 100 instances for InvokeCommand and RunCommand, refuses 101 naming the limit", function()
    passes("invoke_command", { CommandId = "c-1", InstanceId = ids(100) })
    rejected("invoke_command", { CommandId = "c-1", InstanceId = ids(101) }, "InstanceIds.ExceedLimit", "101", "100")
    rejected("run_command", { CommandContent = "echo", Type = "RunShellScript", InstanceId = ids(101) },
      "InstanceIds.ExceedLimit", "100")
  end)

  it("takes 50 instances for StopInvocation and SendFile", function()
    passes("stop_invocation", { InvokeId = "t-1", InstanceId = ids(50) })
    rejected("stop_invocation", { InvokeId = "t-1", InstanceId = ids(51) }, "InstanceIds.ExceedLimit", "50")
    rejected("send_file", { Name = "f", TargetDir = "/tmp", Content = "x", InstanceId = ids(51) },
      "InstanceIds.ExceedLimit", "50")
  end)

  it("needs Timeout >= 10", function()
    passes("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, Timeout = 10 })
    rejected("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, Timeout = 9 },
      "InvalidParameter.Timeout", "at least 10")
    rejected("run_command", { CommandContent = "echo", Type = "RunShellScript", InstanceId = { "i-1" },
                              Timeout = "5" }, "InvalidParameter.Timeout", "10")
    rejected("create_command", { Name = "n", CommandContent = "ZWNobw==", Type = "RunShellScript", Timeout = 0 },
      "InvalidParameter.Timeout", "10")
  end)

  it("allows 10 parameters, refuses 11 naming the limit", function()
    local p = {}
    for i = 1, 10 do p["k" .. i] = "v" end
    passes("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, Parameters = p })
    p.k11 = "v"
    rejected("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, Parameters = p },
      "ParameterCount.ExceedLimit", "11", "at most 10")
  end)

  it("checks parameter names (1 to 64 characters) and value types", function()
    passes("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, Parameters = { [string.rep("k", 64)] = "" } })
    rejected("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" },
                                 Parameters = { [string.rep("k", 65)] = "v" } }, "ParameterKey.ExceedLimit", "64")
    rejected("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, Parameters = { name = { "x" } } },
      "ParameterType.NotSupported", "Parameters.name")
    -- the service takes string values only (reference §1.2): a number or a
    -- boolean would be sent as a JSON number and refused with this code
    rejected("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, Parameters = { n = 5 } },
      "ParameterType.NotSupported", "Parameters.n", "string")
    rejected("run_command", { CommandContent = "echo", Type = "RunShellScript", InstanceId = { "i-1" },
                              Parameters = { flag = true } }, "ParameterType.NotSupported", "Parameters.flag")
    passes("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, Parameters = { n = "5", e = "" } })
  end)

  it("limits command content: 24 KB Base64 for RunCommand unsaved, 18 KB when kept or created", function()
    local function plain(b64_bytes) return string.rep("a", b64_bytes / 4 * 3) end
    passes("run_command", { CommandContent = plain(24 * 1024), Type = "RunShellScript", InstanceId = { "i-1" } })
    rejected("run_command", { CommandContent = plain(24 * 1024 + 4), Type = "RunShellScript", InstanceId = { "i-1" } },
      "CmdContent.ExceedLimit", "24 KB")
    rejected("run_command", { CommandContent = plain(18 * 1024 + 4), Type = "RunShellScript", InstanceId = { "i-1" },
                              KeepCommand = true }, "CmdContent.ExceedLimit", "18 KB")
    passes("create_command", { Name = "n", Type = "RunShellScript", CommandContent = string.rep("A", 18 * 1024) })
    rejected("create_command", { Name = "n", Type = "RunShellScript", CommandContent = string.rep("A", 18 * 1024 + 4) },
      "CmdContent.ExceedLimit", "18 KB")
  end)

  it("limits SendFile content to 32 KB once Base64-encoded", function()
    passes("send_file", { Name = "f", TargetDir = "/tmp", InstanceId = { "i-1" }, Content = string.rep("a", 24576) })
    rejected("send_file", { Name = "f", TargetDir = "/tmp", InstanceId = { "i-1" }, Content = string.rep("a", 24577) },
      "InvalidParameter.Content", "32 KB")
  end)

  it("accepts the five RepeatMode values and names them for anything else", function()
    for _, mode in ipairs { "Once", "NextRebootOnly", "EveryReboot", "DryRun" } do
      passes("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, RepeatMode = mode })
    end
    rejected("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, RepeatMode = "Sometimes" },
      "InvalidRepeatMode.NotFound", "Sometimes", "Once, Period, NextRebootOnly, EveryReboot, DryRun")
  end)

  it("needs targets: InstanceId or ResourceTag, not both", function()
    rejected("invoke_command", { CommandId = "c-1" }, "MissingParam.InstanceId", "InstanceId")
    rejected("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, ResourceTag = { env = "prod" } },
      "InvalidResourceTag.ConflictWithInstanceIds", "ResourceTag")
    passes("invoke_command", { CommandId = "c-1", ResourceTag = { env = "prod" } })
  end)

  it("limits names, working dir, username and ClientToken lengths", function()
    rejected("create_command", { Name = string.rep("n", 129), Type = "RunShellScript", CommandContent = "ZWNobw==" },
      "InvalidParameter.Name", "128")
    rejected("invoke_command", { CommandId = "c", InstanceId = { "i-1" }, WorkingDir = string.rep("d", 201) },
      "InvalidParameter.WorkingDir", "200")
    rejected("invoke_command", { CommandId = "c", InstanceId = { "i-1" }, Username = string.rep("u", 256) },
      "InvalidParameter.Username", "255")
    rejected("invoke_command", { CommandId = "c", InstanceId = { "i-1" }, ClientToken = string.rep("t", 65) },
      "InvalidParameter.ClientToken", "64")
    rejected("invoke_command", { CommandId = "c", InstanceId = { "i-1" }, ClientToken = "tök" },
      "InvalidClientToken.Malformed", "ASCII")
  end)

  it("checks Frequency through the frequency module", function()
    rejected("invoke_command", { CommandId = "c", InstanceId = { "i-1" }, RepeatMode = "Period",
                                 Frequency = "not a schedule" }, "InvalidParam.Frequency", "Frequency")
    passes("invoke_command", { CommandId = "c", InstanceId = { "i-1" }, RepeatMode = "Period",
                               Frequency = "rate(5m)" })
  end)

  it("logs a rejected call as an 'invalid' event", function()
    local _, events = rejected("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, Timeout = 1 },
      "InvalidParameter.Timeout")
    assert.are.equal("invalid", events[#events].event)
    assert.are.equal("InvalidParameter.Timeout", events[#events].code)
  end)

  it("can be switched off per client and per call", function()
    local params = { CommandId = "c-1", InstanceId = ids(101), Timeout = 1 }
    local c = client { validate = false }
    local _, err = c:invoke_command(params)
    assert.are.equal("Network.ConnectFailed", err.code)
    _, err = client():invoke_command(params, { validate = false })
    assert.are.equal("Network.ConnectFailed", err.code)
  end)

  it("returns the params unchanged when they pass, and never changes the caller's table", function()
    local params = { CommandId = "c-1", InstanceId = { "i-1" }, Timeout = 60 }
    local out = checks.check("InvokeCommand", params)
    assert.are.same({ CommandId = "c-1", InstanceId = { "i-1" }, Timeout = 60 }, out)
    client():invoke_command(params)
    assert.are.same({ CommandId = "c-1", InstanceId = { "i-1" }, Timeout = 60 }, params)
  end)
end)
