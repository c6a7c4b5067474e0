-- Regressions of bad input to the client, the config and the module facade:
-- each case once slipped through (a Lua error from inside, a late failure,
-- or a message quoting a whole 10 MB value).
local ecs = require "ecs"
local helper = require "helpers.emulator"

local HUGE = string.rep("A", 10 * 1024 * 1024)

-- the message of the error fn raises (it must raise)
local function raised(fn, ...)
  local ok, msg = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return tostring(msg)
end

local function raises(pattern, fn, ...)
  local msg = raised(fn, ...)
  assert.is_truthy(msg:find(pattern, 1, true), ("%q does not contain %q"):format(msg, pattern))
  assert.is_nil(msg:find("attempt to", 1, true), msg)
  assert.is_true(#msg < 300, "message of " .. #msg .. " bytes")
  return msg
end

local function client(cfg)
  local t = 1700000000
  local c = { region = "cn-hangzhou", endpoint = "http://127.0.0.1:" .. helper.free_port(), access_key_id = "id",
              access_key_secret = "secret", clock = function() return t end, sleep = function(s) t = t + s end }
  for k, v in pairs(cfg or {}) do c[k] = v end
  return ecs.new(c)
end

local CALLS = { { "DescribeInstances", {} } }

describe("client regressions", function()
  it("call_batch checks the type of its options", function()
    local c = client()
    raises("call_batch: bad options: expected a table, got number", c.call_batch, c, CALLS, 42)
    raises("call_batch: bad options: expected a table, got string", c.call_batch, c, CALLS, "x")
  end)

  it("call_batch refuses unknown options, naming them (cut short when long)", function()
    local c = client()
    raises("unknown option 'no_such_option'", c.call_batch, c, CALLS, { no_such_option = 1 })
    local msg = raises("unknown option 'AAAA", c.call_batch, c, CALLS, { [HUGE] = 1 })
    assert.is_truthy(msg:find("...", 1, true))
  end)

  it("call_batch takes a whole concurrency from 1 to 256, not NaN", function()
    local c = client()
    for _, v in ipairs { 0 / 0, 0, -1, 257, 1.5, math.huge, -math.huge, 1e300, "8", true } do
      raises("bad option 'concurrency': expected a whole number from 1 to 256", c.call_batch, c, CALLS,
        { concurrency = v })
    end
  end)

  it("call_batch still sends with good options (retry = false, concurrency 1 and 256)", function()
    local c = client()
    for _, o in ipairs { { concurrency = 1, retry = false }, { concurrency = 256, retry = false } } do
      local out = c:call_batch(CALLS, o)
      assert.are.equal(1, #out)
      assert.is_nil(out[1][1])
      assert.are.equal("Network.ConnectFailed", out[1][2].code)
    end
  end)

  it("prepare checks its options (only validate)", function()
    local c = client()
    raises("bad options: expected a table, got number", c.prepare, c, "DescribeInstances", {}, 42)
    raises("unknown call option 'retry'", c.prepare, c, "DescribeInstances", {}, { retry = false })
    local req = c:prepare("InvokeCommand", { InstanceId = { "i-1" }, CommandId = "c-1", Timeout = 1 },
      { validate = false })
    assert.are.equal("POST", req.method)
    local res, err = c:prepare("InvokeCommand", { InstanceId = { "i-1" }, CommandId = "c-1", Timeout = 1 })
    assert.is_nil(res)
    assert.are.equal("InvalidParameter.Timeout", err.code)
  end)

  it("ecs.set_default_client takes a client or nil, nothing else", function()
    for _, v in ipairs { 42, "client", {}, setmetatable({}, {}), true } do
      raises("ecs.set_default_client: expected a client of ecs.new or nil", ecs.set_default_client, v)
    end
    local c = client()
    ecs.set_default_client(c)
    assert.are.equal(c, ecs.default_client())
    ecs.set_default_client(nil)
  end)

  it("ecs.new refuses unknown keys in quota and ngx", function()
    raises("bad option 'quota.no_such_key': unknown option", ecs.new, { endpoint = "http://127.0.0.1:1",
      quota = { no_such_key = 1 } })
    raises("unknown option 'no_such_key'", ecs.new, { endpoint = "http://127.0.0.1:1", ngx = { no_such_key = 1 } })
    for _, v in ipairs { -1, 1.5, 0 / 0, math.huge, "10" } do
      raises("bad option 'quota.daily_invocations': expected a whole number >= 0", ecs.new,
        { endpoint = "http://127.0.0.1:1", quota = { daily_invocations = v } })
    end
    raises("bad option 'quota': expected a table", ecs.new, { endpoint = "http://127.0.0.1:1", quota = 5 })
    assert.are.equal(7, client { quota = { daily_invocations = 7 } }:invocation_quota().limit)
  end)

  it("ecs.new refuses an endpoint that is not an http(s) URL at once", function()
    for _, ep in ipairs { "x", "\255\254", "cn-hangzhou", "h:0", "a.b:99999", "a..b", ".a", "http://h@x",
                          "http://:80" } do
      raises("bad endpoint", ecs.new, { endpoint = ep })
    end
    -- still taken: bare host names with a domain, localhost, addresses with a port
    assert.are.equal("https://ecs.example.test", client { endpoint = "ecs.example.test" }.url)
    assert.are.equal("https://localhost:8443", client { endpoint = "localhost:8443" }.url)
    assert.are.equal("http://127.0.0.1:8080", client { endpoint = "http://127.0.0.1:8080/" }.url)
    assert.are.equal("http://[::1]:8080", client { endpoint = "http://[::1]:8080" }.url)
  end)

  it("ecs.new quotes at most 40 bytes of a bad value", function()
    for _, k in ipairs { "region", "network", "signature_version", "transport", "endpoint" } do
      local cfg = { endpoint = "http://127.0.0.1:1" }
      cfg[k] = HUGE
      local msg = raises(k, ecs.new, cfg)
      assert.is_truthy(msg:find(string.rep("A", 40) .. "...", 1, true), msg)
      assert.is_nil(msg:find(string.rep("A", 41), 1, true), msg)
    end
    local msg = raises("unknown option", ecs.new, { [HUGE] = 1 })
    assert.is_nil(msg:find(string.rep("A", 41), 1, true))
    raises("timeout.AAAA", ecs.new, { timeout = { [HUGE] = 1 } })
    -- the nested checkers' messages too (retry, credentials)
    for _, k in ipairs { "retry", "credentials" } do
      msg = raises("bad option '" .. k .. "'", ecs.new, { endpoint = "http://127.0.0.1:1", [k] = { [HUGE] = 1 } })
      assert.is_truthy(msg:find(string.rep("A", 40) .. "...", 1, true), msg)
    end
  end)

  it("a call with a 10 MB action name is refused by the client, quoting 40 bytes of it", function()
    local c = client()
    local msg = raises("ecs: bad action name " .. string.rep("A", 40) .. "...", c.call, c, HUGE, {})
    assert.is_nil(msg:find(string.rep("A", 41), 1, true))
  end)
end)
