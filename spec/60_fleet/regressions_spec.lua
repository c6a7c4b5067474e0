-- Regressions of bad input to the fleet functions: a quadratic match on a
-- long region, a region of the wrong type reported as missing, numeric
-- options so large the wait never ended, a network failure reported as a
-- missing invocation, and messages quoting a whole 10 MB value.
local ecs = require "ecs"
local helper = require "helpers.emulator"
local socket = require "socket"

local HUGE = string.rep("A", 10 * 1024 * 1024)

local function raises(pattern, fn, ...)
  local ok, msg = pcall(fn, ...)
  assert.is_false(ok, "expected an error for " .. pattern)
  msg = tostring(msg)
  assert.is_truthy(msg:find(pattern, 1, true), ("%q does not contain %q"):format(msg, pattern))
  assert.is_nil(msg:find("attempt to", 1, true), msg)
  assert.is_true(#msg < 300, "message of " .. #msg .. " bytes")
  return msg
end

-- a client on a port nothing listens on, with a fake clock; sleeps are counted
local function dead_client()
  local t = 1700000000
  local c = ecs.new { region = "cn-hangzhou", endpoint = "http://127.0.0.1:" .. helper.free_port(),
    access_key_id = "id", access_key_secret = "secret", retry = { attempts = 2 },
    clock = function() return t end, sleep = function(s) t = t + s end }
  return c
end

describe("fleet regressions", function()
  it("invocation_quota answers at once for a 10 MB region, refusing it", function()
    local c = dead_client()
    local t0 = socket.gettime()
    local msg = raises("invocation_quota: bad region 'AAAA", c.invocation_quota, c, HUGE)
    assert.is_truthy(msg:find(string.rep("A", 40) .. "...", 1, true))
    assert.is_true(socket.gettime() - t0 < 1, "took " .. (socket.gettime() - t0) .. " s")
  end)

  it("invocation_quota gives the day without matching the key", function()
    local c = dead_client()
    local q = c:invocation_quota("cn-shanghai")
    assert.same({ region = "cn-shanghai", day = "2023-11-14", used = 0, limit = 500, remaining = 500 }, q)
    assert.are.equal("cn-hangzhou", c:invocation_quota().region)
  end)

  it("invocation_quota(42) says the region must be a string", function()
    local c = dead_client()
    raises("bad region: expected a region ID string, got number", c.invocation_quota, c, 42)
    raises("bad region: expected a region ID string, got table", c.invocation_quota, c, {})
    raises("bad region 'cn hangzhou': not a region ID", c.invocation_quota, c, "cn hangzhou")
  end)

  it("wait_invocation gives each numeric option a range and says it", function()
    local c = dead_client()
    local cases = {
      { { grace = 1e300 }, "bad option 'grace': expected a number of seconds from 0 to 86400" },
      { { grace = math.huge }, "bad option 'grace'" },
      { { grace = -1 }, "bad option 'grace'" },
      { { slack = 86401 }, "bad option 'slack': expected a number of seconds from 0 to 86400" },
      { { timeout = 1e300 }, "bad option 'timeout': expected a number of seconds from 0 to 604800" },
      { { timeout = 0 / 0 }, "bad option 'timeout'" },
      { { command_timeout = 604801 }, "bad option 'command_timeout': expected a number of seconds from 0 to 604800" },
      { { poll = 1e300 }, "bad option 'poll.min': expected a number from 0 to 3600" },
      { { poll = { max = 3601 } }, "bad option 'poll.max': expected a number from 0 to 3600" },
      { { poll = { factor = 11 } }, "bad option 'poll.factor': expected a number from 0 to 10" },
      { { poll = { jitter = 2 } }, "bad option 'poll.jitter'" },
      { { rate = 1e-300 }, "bad option 'rate': expected calls per second from 0.001 to 10000" },
      { { rate = 1e300 }, "bad option 'rate'" },
      { { concurrency = 0 / 0 }, "bad option 'concurrency'" },
    }
    for _, case in ipairs(cases) do
      raises(case[2], c.wait_invocation, c, "t-1", case[1])
    end
  end)

  it("the same ranges hold in invoke_fleet and plan_fleet", function()
    local c = dead_client()
    local base = { CommandId = "c-1", targets = { InstanceId = { "i-1" } } }
    for _, fn in ipairs { c.invoke_fleet, c.plan_fleet } do
      for k, v in pairs { grace = 1e300, slack = 1e300, wait_timeout = 1e300, rate = 1e-300 } do
        local o = {}
        for x, y in pairs(base) do o[x] = y end
        o[k] = v
        raises("bad option '" .. k .. "'", fn, c, o)
      end
    end
    -- the largest values are taken
    local plan = c:plan_fleet { CommandId = "c-1", targets = { InstanceId = { "i-1" } }, grace = 86400,
      slack = 86400, wait_timeout = 604800, rate = 10000, poll = { min = 3600, factor = 10, jitter = 1 } }
    assert.are.equal("InvokeCommand", plan.action)
  end)

  it("wait_invocation quotes at most 40 bytes of a bad value", function()
    local c = dead_client()
    for _, o in ipairs { { timeout = HUGE }, { grace = HUGE }, { region = HUGE }, { [HUGE] = 1 },
                         { poll = { [HUGE] = 1 } }, { concurrency = HUGE } } do
      local ok, msg = pcall(c.wait_invocation, c, "t-1", o)
      assert.is_false(ok)
      assert.is_true(#tostring(msg) < 300, "message of " .. #tostring(msg) .. " bytes")
    end
    local msg = raises("bad option 'timeout'", c.wait_invocation, c, "t-1", { timeout = HUGE })
    assert.is_truthy(msg:find(string.rep("A", 40) .. "...", 1, true), msg)
  end)

  it("rerun checks the report's request before reading it", function()
    local c = dead_client()
    for _, rep in ipairs { { results = {}, request = {} }, { results = {}, request = { params = {} } },
                           { results = {}, request = { options = {} } } } do
      raises("rerun: bad report: expected the report of invoke_fleet", c.rerun, c, rep)
    end
  end)

  it("wait_invocation reports the network error when no poll got through", function()
    local c = dead_client()
    local res, err = c:wait_invocation("t-123", { timeout = 60 })
    assert.is_nil(res)
    assert.are.equal("Network.ConnectFailed", err.code, err.code .. ": " .. tostring(err.message))
    -- with the grace at 0 and DescribeInvocations asked first, the same
    res, err = c:wait_invocation("t-123", { grace = 0 })
    assert.is_nil(res)
    assert.are.equal("Network.ConnectFailed", err.code)
  end)
end)
