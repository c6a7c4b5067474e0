-- ecs.new: option validation (wrong types and unknown keys raise naming the
-- option), defaults, endpoint resolution.
local ecs = require "ecs"

local BASE = { region = "cn-hangzhou", access_key_id = "LTAItestid", access_key_secret = "testsecret" }

local function with(extra)
  local cfg = {}
  for k, v in pairs(BASE) do cfg[k] = v end
  for k, v in pairs(extra) do cfg[k] = v end
  return cfg
end

local function new_error(cfg)
  local ok, err = pcall(ecs.new, cfg)
  assert.is_false(ok, "ecs.new accepted the config")
  return tostring(err)
end

local function raises_naming(cfg, name)
  local err = new_error(cfg)
  assert.is_truthy(err:find("'" .. name .. "'", 1, true), ("'%s' not named in: %s"):format(name, err))
  return err
end

describe("ecs.new option validation", function()
  local WRONG = {
    { "region", 1 }, { "region", "cn hangzhou" }, { "endpoint", 1 }, { "network", "internal" },
    { "access_key_id", 1 }, { "access_key_secret", true }, { "security_token", {} },
    { "signature_version", "v4" }, { "signature_version", 3 },
    { "timeout", "10" }, { "timeout", -1 }, { "timeout", 0 / 0 }, { "timeout.connect", { connect = "5" } },
    { "timeout.read", { read = 0 } }, { "timeout.other", { other = 1 } },
    { "retry", "yes" }, { "retry", { attempts = 0 } }, { "retry", { attempts = 1.5 } }, { "retry", { nope = 1 } },
    { "retry", { base_delay = -1 } },
    { "tls", true }, { "tls.verify", { verify = "no" } }, { "tls.ca_file", { ca_file = 1 } },
    { "tls.ca_path", { ca_path = false } }, { "tls.other", { other = 1 } },
    { "proxy", 1 }, { "no_proxy", {} }, { "logger", "print" }, { "user_agent", 1 }, { "validate", "no" },
    { "instance_zone", 8 }, { "credentials", "env" }, { "credentials", { nope = 1 } },
    { "clock", 1 }, { "sleep", "x" }, { "random", {} }, { "transport", "socket" }, { "ngx", 1 }, { "quota", 1 },
  }

  for _, case in ipairs(WRONG) do
    local path, value = case[1], case[2]
    it(("raises naming '%s' for a bad value (%s)"):format(path, type(value)), function()
      local top = path:match("^[^.]+")
      local err = raises_naming(with { [top] = value }, path)
      assert.matches("ecs.new", err)
    end)
  end

  it("raises naming an unknown option", function()
    raises_naming(with { regoin = "cn-hangzhou" }, "regoin")
    raises_naming(with { AccessKeyId = "x" }, "AccessKeyId")
  end)

  it("raises on a config that is not a table, or has non-string keys", function()
    assert.matches("config table", new_error("cn-hangzhou"))
    assert.matches("string", new_error({ [1] = "cn-hangzhou" }))
  end)

  it("points the error at the caller, not at the module", function()
    for _, cfg in ipairs { with { bogus = 1 }, with { region = 1 }, with { timeout = { connect = -1 } },
                           with { tls = { verify = 1 } }, with { retry = { attempts = 0 } } } do
      local err = new_error(cfg)
      assert.is_nil(err:match("^[^:]*lua/ecs/[%w_/]+%.lua:%d+:"), err)
    end
  end)

  it("requires access_key_id and access_key_secret together, and a token only with both", function()
    assert.matches("together", new_error { region = "cn-hangzhou", access_key_id = "LTAIx" })
    assert.matches("together", new_error { region = "cn-hangzhou", access_key_secret = "s" })
    assert.matches("together", new_error { region = "cn-hangzhou", access_key_id = "", access_key_secret = "s" })
    assert.matches("security_token", new_error { region = "cn-hangzhou", security_token = "tok" })
  end)

  it("never echoes a secret given with a wrong type", function()
    local err = new_error(with { access_key_secret = { "s3cr3t-value" }, security_token = 12345 })
    assert.is_nil(err:find("s3cr3t", 1, true))
    err = new_error(with { security_token = { "t0k3n-value" } })
    assert.is_nil(err:find("t0k3n", 1, true))
  end)
end)

describe("ecs.new defaults", function()
  it("signs with v3, 5 s connect / 10 s read, verifies TLS, validates, retries 4 times", function()
    local c = ecs.new(BASE)
    assert.are.equal("v3", c.config.signature_version)
    assert.are.same({ connect = 5, read = 10 }, c.config.timeout)
    assert.is_true(c.config.tls.verify)
    assert.is_true(c.config.validate)
    assert.are.equal(4, c.policy.attempts)
    assert.are.equal(0.2, c.policy.base_delay)
    assert.are.equal(20, c.policy.max_delay)
  end)

  it("takes a number as the read timeout and fills the other half of a partial timeout", function()
    assert.are.same({ connect = 5, read = 3 }, ecs.new(with { timeout = 3 }).config.timeout)
    assert.are.same({ connect = 2, read = 10 }, ecs.new(with { timeout = { connect = 2 } }).config.timeout)
  end)

  it("accepts retry = false and keeps tls options", function()
    local c = ecs.new(with { retry = false, tls = { ca_file = "/tmp/ca.pem" } })
    assert.is_false(c.policy)
    assert.are.same({ verify = true, ca_file = "/tmp/ca.pem" }, c.config.tls)
  end)

  it("does not change the caller's table", function()
    local cfg = with { timeout = { read = 3 }, tls = { verify = true } }
    ecs.new(cfg)
    assert.are.same({ read = 3 }, cfg.timeout)
    assert.are.same(with { timeout = { read = 3 }, tls = { verify = true } }, cfg)
  end)

  it("resolves the regional endpoint, the VPC one, and an explicit one", function()
    assert.are.equal("https://ecs.cn-hangzhou.aliyuncs.com", ecs.new(BASE).url)
    assert.are.equal("https://ecs-vpc.cn-hangzhou.aliyuncs.com", ecs.new(with { network = "vpc" }).url)
    assert.are.equal("http://127.0.0.1:8080", ecs.new(with { endpoint = "http://127.0.0.1:8080" }).url)
    assert.are.equal("https://ecs.example.test", ecs.new(with { endpoint = "ecs.example.test" }).url)
  end)

  it("warns through the logger when TLS verification is off", function()
    local events = {}
    ecs.new(with { tls = { verify = false }, logger = function(ev) events[#events + 1] = ev end })
    assert.are.equal(1, #events)
    assert.are.equal("warning", events[1].event)
    assert.matches("verification", events[1].message)
  end)

  it("has one method per core action and a generic call/request", function()
    local c = ecs.new(BASE)
    for _, a in ipairs(require("ecs.core").actions) do
      assert.are.equal("function", type(c[a.method]), a.method)
      assert.are.equal("function", type(ecs[a.method]), "ecs." .. a.method)
    end
    assert.are.equal(c.call, c.request)
  end)

  it("exposes null, is_error and the versions", function()
    local core = require "ecs.core"
    assert.are.equal(core.null, ecs.null)
    assert.are.equal(core._VERSION, ecs._VERSION)
    assert.are.equal("2014-05-26", ecs.API_VERSION)
    assert.is_true(ecs.is_error(core.new_error {}))
  end)
end)

describe("client call arguments", function()
  local c = ecs.new(with { endpoint = "http://127.0.0.1:9", retry = false })

  it("raises on a bad action name", function()
    for _, bad in ipairs { 1, "", "invokeCommand", "Invoke Command", "Invoke&x=1" } do
      assert.has_error(function() c:call(bad, {}) end)
    end
  end)

  it("raises on params or options of the wrong type, and unknown call options", function()
    local ok, err = pcall(c.call, c, "DescribeRegions", "x")
    assert.is_false(ok)
    assert.matches("params", err)
    ok, err = pcall(c.invoke_command, c, { CommandId = "c" }, { tiemout = 1 })
    assert.is_false(ok)
    assert.matches("tiemout", err)
    ok, err = pcall(c.invoke_command, c, { CommandId = "c" }, 5)
    assert.is_false(ok)
    assert.matches("options", err)
  end)

  it("raises naming the key when a param value cannot be sent", function()
    local ok, err = pcall(c.describe_instances, c, { InstanceName = print }, { validate = false })
    assert.is_false(ok)
    assert.matches("InstanceName", err)
  end)
end)
