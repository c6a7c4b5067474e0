-- CommandContent and Parameters share one Base64 budget (reference §1.2):
-- 18 KB for InvokeCommand and kept commands, 24 KB for RunCommand without
-- KeepCommand. These fail locally, before anything is sent.
local ecs = require "ecs"

describe("content + Parameters limit", function()
  local client
  before_each(function()
    -- an endpoint nothing listens on: a call that passes the checks fails
    -- with a network error, one that does not never gets that far
    client = ecs.new { region = "cn-hangzhou", endpoint = "http://127.0.0.1:1", access_key_id = "id",
                       access_key_secret = "secret", retry = false }
  end)

  local function code(res, err)
    assert.is_nil(res)
    return err.code, err.message
  end

  it("counts Parameters alone for InvokeCommand (18 KB)", function()
    local c, msg = code(client:invoke_command { CommandId = "c-1", InstanceId = { "i-1" },
                                               Parameters = { a = string.rep("x", 14000) } })
    assert.are.equal("CmdContent.ExceedLimit", c)
    assert.matches("18 KB", msg)
    c = code(client:invoke_command { CommandId = "c-1", InstanceId = { "i-1" },
                                     Parameters = { a = string.rep("x", 13000) } })
    assert.are.equal("Network.ConnectFailed", c)
  end)

  it("adds the content for RunCommand: 24 KB unless the command is kept, then 18 KB", function()
    local base = { Type = "RunShellScript", CommandContent = string.rep("y", 10000), InstanceId = { "i-1" } }
    local p = {}
    for k, v in pairs(base) do p[k] = v end
    p.Parameters = { a = string.rep("x", 9000) }
    local c, msg = code(client:run_command(p))
    assert.are.equal("CmdContent.ExceedLimit", c)
    assert.matches("24 KB", msg)
    p.Parameters = { a = string.rep("x", 5000) }
    assert.are.equal("Network.ConnectFailed", (code(client:run_command(p))))
    p.KeepCommand = true
    c, msg = code(client:run_command(p))
    assert.are.equal("CmdContent.ExceedLimit", c)
    assert.matches("18 KB", msg)
  end)
end)
