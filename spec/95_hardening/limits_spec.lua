-- The service's documented limits fail locally, with a message naming the
-- limit, and nothing goes on the wire; a client that rejected calls (limits,
-- cyclic and deep Parameters, bad types) keeps its config and credentials
-- and still works. Against the emulator on 127.0.0.1.
local ecs = require "ecs"
local helper = require "helpers.emulator"
local S = require "95_hardening.support"

local function ids(n)
  local out = {}
  for i = 1, n do out[i] = ("i-%07d"):format(i) end
  return out
end

local function params(n)
  local out = {}
  for i = 1, n do out["p" .. i] = "v" end
  return out
end

describe("documented limits", function()
  local emu, client

  setup(function()
    emu = helper.start {}
    client = ecs.new { region = "cn-hangzhou", endpoint = emu.url, access_key_id = "testid",
                       access_key_secret = "testsecret", retry = false }
  end)

  teardown(function()
    if client then client:close() end
    if emu then emu:stop() end
  end)

  local function requests()
    return emu:admin("GET", "/_emulator/counters").requests
  end

  -- call must fail locally with code and a message containing each of `words`
  local function rejected(method, p, code, words)
    local before = requests()
    local res, err = client[method](client, p)
    assert.is_nil(res)
    assert.is_true(ecs.is_error(err), tostring(err))
    assert.are.equal(code, err.code, tostring(err))
    assert.is_true(err["local"], "not a local check: " .. tostring(err))
    for _, w in ipairs(words) do
      assert.is_truthy(err.message:find(w, 1, true), ("%q not in %q"):format(w, err.message))
    end
    assert.are.equal(before, requests(), "a rejected call reached the emulator")
    return err
  end

  it("InstanceId: 101 instances (100 at most)", function()
    rejected("invoke_command", { CommandId = "c-1", InstanceId = ids(101) }, "InstanceIds.ExceedLimit",
      { "InstanceId", "101", "at most 100" })
    rejected("run_command", { Type = "RunShellScript", CommandContent = "ls", InstanceId = ids(101) },
      "InstanceIds.ExceedLimit", { "at most 100" })
  end)

  it("CommandContent above 18 KB once Base64-encoded (24 KB for RunCommand without KeepCommand)", function()
    local b64_19k = string.rep("A", 19 * 1024)
    rejected("create_command", { Name = "n", Type = "RunShellScript", CommandContent = b64_19k },
      "CmdContent.ExceedLimit", { "CommandContent", "18 KB" })
    local plain_18k = string.rep("a", 18 * 1024 + 1) -- 24,580 bytes once encoded
    rejected("run_command", { Type = "RunShellScript", InstanceId = { "i-1" }, CommandContent = plain_18k },
      "CmdContent.ExceedLimit", { "CommandContent", "24 KB" })
    rejected("run_command", { Type = "RunShellScript", InstanceId = { "i-1" }, KeepCommand = true,
                              CommandContent = string.rep("a", 14 * 1024) },
      "CmdContent.ExceedLimit", { "18 KB" })
  end)

  it("Parameters: 11 pairs (10 at most), a name over 64 characters, a value that is not a string", function()
    rejected("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, Parameters = params(11) },
      "ParameterCount.ExceedLimit", { "Parameters", "11", "at most 10" })
    rejected("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" },
                                 Parameters = { [string.rep("k", 65)] = "v" } },
      "ParameterKey.ExceedLimit", { "Parameters", "64" })
    rejected("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, Parameters = { n = 0 / 0 } },
      "ParameterType.NotSupported", { "Parameters.n", "strings" })
  end)

  it("Timeout 9 (at least 10)", function()
    rejected("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, Timeout = 9 },
      "InvalidParameter.Timeout", { "Timeout", "at least 10" })
    rejected("run_command", { Type = "RunShellScript", CommandContent = "ls", InstanceId = { "i-1" }, Timeout = 9 },
      "InvalidParameter.Timeout", { "at least 10" })
  end)

  it("Name, Description, WorkingDir and Username lengths", function()
    local base = { Type = "RunShellScript", CommandContent = "ls", InstanceId = { "i-1" } }
    local function with(k, v)
      local p = {}
      for a, b in pairs(base) do p[a] = b end
      p[k] = v
      return p
    end
    rejected("run_command", with("Name", string.rep("n", 129)), "InvalidParameter.Name", { "Name", "128" })
    rejected("run_command", with("Description", string.rep("d", 513)), "InvalidParameter.Description",
      { "Description", "512" })
    rejected("run_command", with("WorkingDir", "/" .. string.rep("w", 200)), "InvalidParameter.WorkingDir",
      { "WorkingDir", "200" })
    rejected("run_command", with("Username", string.rep("u", 256)), "InvalidParameter.Username",
      { "Username", "255" })
    rejected("create_command", { Name = string.rep("n", 129), Type = "RunShellScript", CommandContent = "bHM=" },
      "InvalidParameter.Name", { "128" })
  end)

  it("cyclic and 10,000-deep Parameters: a clear error, locally or from flatten, nothing sent", function()
    local cyclic = {}
    cyclic.a = cyclic
    rejected("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, Parameters = cyclic },
      "ParameterType.NotSupported", { "Parameters.a" })
    rejected("invoke_command", { CommandId = "c-1", InstanceId = { "i-1" }, Parameters = { x = S.deep_map(10000) } },
      "ParameterType.NotSupported", { "Parameters.x" })
    -- without the local checks, flatten refuses them, naming the key
    local before = requests()
    for _, p in ipairs { cyclic, { x = S.deep_map(10000) }, { x = S.deep_list(10000) } } do
      local o = S.call(5, client.invoke_command, client, { CommandId = "c-1", InstanceId = { "i-1" }, Parameters = p },
        { validate = false })
      assert.are.equal("raise", o.kind)
      assert.is_truthy(o.message:find("Parameters", 1, true), o.message)
      assert.is_nil(S.internal_error(o.message), o.message)
    end
    assert.are.equal(before, requests())
  end)

  it("after all the rejected calls the client's config and credentials are unchanged and it still works", function()
    local config = S.snapshot(client.config)
    local creds = S.snapshot((client.credentials.get()))
    local url, policy = client.url, S.snapshot(client.policy)
    local bad = {
      function() return client:invoke_command({ CommandId = "c-1", InstanceId = ids(101) }) end,
      function() return client:call("NotAnAction!", {}) end,
      function() return client:call("DescribeInstances", {}, { retry = { attempts = "x" } }) end,
      function() return client:call("DescribeInstances", {}, { bogus = 1 }) end,
      function() return client:describe_instances(42) end,
      function() return client:invoke_command { CommandId = "c-1", InstanceId = { "i-1" }, Frequency = "bad" } end,
      function() return client:run_command { Type = "RunShellScript", InstanceId = { "i-1" },
                                             CommandContent = S.huge() } end,
    }
    for _, f in ipairs(bad) do
      local o = S.call(5, f)
      assert.is_nil(S.problem(o))
      assert.are_not.equal("ok", o.kind)
    end
    assert.are.same(config, S.snapshot(client.config))
    assert.are.same(creds, S.snapshot((client.credentials.get())))
    assert.are.equal(url, client.url)
    assert.are.same(policy, S.snapshot(client.policy))
    local res, err = client:describe_instances { RegionId = "cn-hangzhou" }
    assert.is_nil(err)
    assert.is_string(res.RequestId)
  end)
end)
