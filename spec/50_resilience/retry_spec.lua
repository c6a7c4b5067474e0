-- Retry rules on a fake clock: a scripted transport stands in for the wire,
-- the clock only moves when the client sleeps, random is fixed.
local ecs = require "ecs"
local retry = require "ecs.retry"
local errors = require "ecs.errors"
local helper = require "helpers.emulator"

local function err(fields)
  return errors.new(fields)
end

-- A transport that answers from a script: each entry is a result table or an error.
local function fake_transport(script)
  local t = { calls = {}, offsets = {}, creds = nil }
  function t.call(_, action, params, opts)
    local n = #t.calls + 1
    local copy = {}
    for k, v in pairs(params) do copy[k] = v end
    t.calls[n] = { action = action, params = copy, opts = opts }
    local step = script[n] or script[#script]
    if type(step) == "function" then step = step(n) end
    if getmetatable(step) == errors.mt then
      local e = {}
      for k, v in pairs(step) do e[k] = v end
      e.action = action
      return nil, setmetatable(e, errors.mt)
    end
    return step
  end
  function t.call_batch(self, calls)
    t.batches = (t.batches or 0) + 1
    local out = {}
    for i, c in ipairs(calls) do out[i] = { self:call(c[1], c[2]) } end
    return out
  end
  function t.set_credentials(_, c) t.last_creds = c end
  function t.set_time_offset(_, s) t.offsets[#t.offsets + 1] = s end
  function t.close() end
  return t
end

local function fake_client(script, cfg)
  local world = { now = 1000, sleeps = {}, events = {} }
  local c = {
    region = "cn-hangzhou", endpoint = "http://127.0.0.1:9", access_key_id = "testid",
    access_key_secret = "testsecret", transport = "curl",
    clock = function() return world.now end,
    sleep = function(s) world.sleeps[#world.sleeps + 1] = s; world.now = world.now + s end,
    random = function() return 0.5 end,
    logger = function(ev) world.events[#world.events + 1] = ev end,
  }
  for k, v in pairs(cfg or {}) do c[k] = v end
  local client = ecs.new(c)
  local t = fake_transport(script)
  client.transports.curl = t
  return client, t, world
end

local OK = { RequestId = "r-ok", InvokeId = "t-1" }
local THROTTLE = err { code = "Throttling.User", http_status = 400, message = "denied", retryable = true }
local UNAVAILABLE = err { code = "ServiceUnavailable", http_status = 503, message = "busy", retryable = true }
local INTERNAL = err { code = "InternalError", http_status = 500, message = "oops", retryable = true }
local BAD = err { code = "InvalidParameter", http_status = 400, message = "bad value" }
local FORBIDDEN = err { code = "Forbidden.RAM", http_status = 403, message = "no permission" }
local DROPPED = err { code = "Network.EmptyReply", message = "empty reply", retryable = true, sent = true }
local REFUSED = err { code = "Network.ConnectFailed", message = "refused", retryable = true, sent = false }
local PROCESSING = err { code = "IdempotentProcessing", http_status = 400, message = "in flight" }

describe("retry rules", function()
  it("retries throttling, 5xx and IdempotentProcessing, then returns the result", function()
    local client, t = fake_client { THROTTLE, UNAVAILABLE, INTERNAL, PROCESSING, OK }
    local res, e = client:invoke_command({ CommandId = "c-1", InstanceId = { "i-1" } }, { retry = { attempts = 5 } })
    assert.is_nil(e)
    assert.equals("t-1", res.InvokeId)
    assert.equals(5, #t.calls)
  end)

  it("keeps one ClientToken for every attempt of a logical call, a new one per call", function()
    local client, t = fake_client { DROPPED, DROPPED, OK }
    assert.truthy(client:invoke_command { CommandId = "c-1", InstanceId = { "i-1" } })
    local token = t.calls[1].params.ClientToken
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", token)
    assert.equals(token, t.calls[2].params.ClientToken)
    assert.equals(token, t.calls[3].params.ClientToken)
    assert.truthy(client:invoke_command { CommandId = "c-1", InstanceId = { "i-1" } })
    assert.not_equals(token, t.calls[4].params.ClientToken)
  end)

  it("keeps a caller's ClientToken", function()
    local client, t = fake_client { DROPPED, OK }
    assert.truthy(client:run_command { Type = "RunShellScript", CommandContent = "ls", InstanceId = { "i-1" },
                                       ClientToken = "mine-123" })
    assert.equals("mine-123", t.calls[1].params.ClientToken)
    assert.equals("mine-123", t.calls[2].params.ClientToken)
  end)

  it("gives every token action a token and no other action one", function()
    local client, t = fake_client { OK }
    client:create_command { Name = "n", Type = "RunShellScript", CommandContent = "ls" }
    client:send_file { Name = "f", Content = "x", TargetDir = "/tmp", InstanceId = { "i-1" } }
    client:describe_invocations {}
    client:stop_invocation { InvokeId = "t-1", InstanceId = { "i-1" } }
    assert.is_string(t.calls[1].params.ClientToken)
    assert.is_string(t.calls[2].params.ClientToken)
    assert.is_nil(t.calls[3].params.ClientToken)
    assert.is_nil(t.calls[4].params.ClientToken)
  end)

  it("backs off exponentially with full jitter between base and cap", function()
    local client, _, world = fake_client({ UNAVAILABLE }, { retry = { attempts = 6, base_delay = 0.2, max_delay = 1 } })
    local res, e = client:describe_instances {}
    assert.is_nil(res)
    -- random() = 0.5: half of min(cap, base * 2^(n-1))
    assert.same({ 0.1, 0.2, 0.4, 0.5, 0.5 }, world.sleeps)
    assert.equals(6, e.attempts)
    assert.equals("attempts", e.gave_up)
  end)

  it("draws the jitter from the injected random source over [0, cap]", function()
    local draws = { 0, 1, 0.25 }
    local i = 0
    local client, _, world = fake_client({ UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, OK }, {
      retry = { attempts = 4, base_delay = 1, max_delay = 10 },
      random = function() i = i + 1 return draws[i] end })
    assert.truthy(client:describe_instances {})
    -- a zero draw retries at once (no sleep), then 1 * 2 and 0.25 * 4
    assert.same({ 2, 1 }, world.sleeps)
    assert.equals(3, i)
  end)

  it("honours x-acs-retry-after (milliseconds) and Retry-After (seconds), capped by max_delay", function()
    local slow = err { code = "Throttling.Api", http_status = 400, message = "slow down",
                       headers = { ["x-acs-retry-after"] = "1500" } }
    local later = err { code = "ServiceUnavailable", http_status = 503, message = "later",
                        headers = { ["retry-after"] = "3" } }
    local huge = err { code = "Throttling", http_status = 400, message = "much later",
                       headers = { ["x-acs-retry-after"] = "600000" } }
    local client, _, world = fake_client({ slow, later, huge, OK },
      { random = function() return 0 end, retry = { attempts = 4, max_delay = 20, max_time = 100 } })
    assert.truthy(client:describe_instances {})
    assert.same({ 1.5, 3, 20 }, world.sleeps)
  end)

  it("stops at max attempts and says how many were made and why each failed", function()
    local client, t = fake_client({ THROTTLE, DROPPED, UNAVAILABLE }, { retry = { attempts = 3 } })
    local res, e = client:describe_invocations {}
    assert.is_nil(res)
    assert.equals(3, #t.calls)
    assert.equals(3, e.attempts)
    assert.equals("ServiceUnavailable", e.code)
    assert.same({ "Throttling.User", "Network.EmptyReply", "ServiceUnavailable" },
                { e.history[1].code, e.history[2].code, e.history[3].code })
    assert.equals("busy [attempts: 1 Throttling.User (HTTP 400); 2 Network.EmptyReply; "
      .. "3 ServiceUnavailable (HTTP 503); attempts exhausted]", e.message)
    -- the attempts are listed once, not counted again by tostring
    assert.equals("DescribeInvocations: ServiceUnavailable (HTTP 503): " .. e.message, tostring(e))
  end)

  it("stops when the next wait would pass max_time", function()
    local client, t, world = fake_client({ UNAVAILABLE },
      { retry = { attempts = 50, base_delay = 1, max_delay = 8, max_time = 5 } })
    local _, e = client:describe_instances {}
    -- waits 0.5, 1, 2 (total 3.5); the next (4) would end at 7.5 > 5
    assert.same({ 0.5, 1, 2 }, world.sleeps)
    assert.equals(4, #t.calls)
    assert.equals("time", e.gave_up)
    assert.matches("retry time budget spent", e.message)
  end)

  it("never retries a plain 4xx", function()
    local notfound = err { code = "InvalidAccessKeyId.NotFound", http_status = 404, message = "x" }
    for _, e4 in ipairs { BAD, FORBIDDEN, notfound } do
      local client, t, world = fake_client { e4, OK }
      local res, e = client:describe_instances {}
      assert.is_nil(res)
      assert.equals(1, #t.calls)
      assert.same({}, world.sleeps)
      assert.equals(1, e.attempts)
      assert.equals("not_retryable", e.gave_up)
    end
  end)

  it("retry = false (client or call) makes one attempt; a call can turn retries back on", function()
    local client, t = fake_client({ UNAVAILABLE, OK }, { retry = false })
    assert.is_nil((client:describe_instances {}))
    assert.equals(1, #t.calls)
    local c2, t2 = fake_client { UNAVAILABLE, OK }
    assert.is_nil((c2:describe_instances({}, { retry = false })))
    assert.equals(1, #t2.calls)
    local c3, t3 = fake_client({ UNAVAILABLE, OK }, { retry = false })
    assert.truthy(c3:describe_instances({}, { retry = { attempts = 2 } }))
    assert.equals(2, #t3.calls)
  end)

  it("retries an ambiguous failure only where repeating is safe", function()
    -- DeleteCommand twice is not harmless: a lost answer is not retried
    local client, t = fake_client { DROPPED, OK }
    local _, e = client:delete_command { CommandId = "c-1" }
    assert.equals("Network.EmptyReply", e.code)
    assert.equals(1, #t.calls)
    -- ... but a request that never left, or throttling, is
    for _, first in ipairs { REFUSED, THROTTLE, UNAVAILABLE } do
      local c2, t2 = fake_client { first, OK }
      assert.truthy(c2:delete_command { CommandId = "c-1" })
      assert.equals(2, #t2.calls)
    end
    -- and a 500 (the service may have acted) is not
    local c3, t3 = fake_client { INTERNAL, OK }
    assert.is_nil((c3:delete_command { CommandId = "c-1" }))
    assert.equals(1, #t3.calls)
    -- reads and token actions retry ambiguous failures
    local c4, t4 = fake_client { DROPPED, INTERNAL, OK }
    assert.truthy(c4:describe_invocation_results { InvokeId = "t-1" })
    assert.equals(3, #t4.calls)
  end)

  it("passes per-call timeouts to the transport", function()
    local client, t = fake_client { OK }
    client:describe_instances({}, { timeout = 30, connect_timeout = 2 })
    assert.same({ timeout = 30, connect_timeout = 2 }, t.calls[1].opts)
  end)

  it("logs one retry event per retry with action, attempt, delay, code and request id", function()
    local e503 = err { code = "ServiceUnavailable", http_status = 503, message = "busy", request_id = "req-9" }
    local client, _, world = fake_client { e503, OK }
    assert.truthy(client:describe_instances {})
    local retries = {}
    for _, ev in ipairs(world.events) do if ev.event == "retry" then retries[#retries + 1] = ev end end
    assert.equals(1, #retries)
    assert.same({ event = "retry", action = "DescribeInstances", attempt = 1, delay = 0.1, code = "ServiceUnavailable",
                  http_status = 503, request_id = "req-9", region = "cn-hangzhou" }, retries[1])
  end)

  it("corrects the clock once on InvalidTimeStamp.Expired using the Date header", function()
    local expired = err { code = "InvalidTimeStamp.Expired", http_status = 400, message = "expired",
                          headers = { date = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 7200) } }
    local client, t, world = fake_client({ expired, OK }, { retry = false })
    assert.truthy(client:describe_instances {})
    assert.equals(2, #t.calls)
    assert.equals(1, #t.offsets)
    assert.is_true(math.abs(t.offsets[1] - 7200) <= 2)
    local skew
    for _, ev in ipairs(world.events) do if ev.event == "clock_skew" then skew = ev end end
    assert.is_true(math.abs(skew.offset - 7200) <= 2)
    -- a second Expired in the same call is not retried again
    local c2, t2 = fake_client({ expired, expired, OK }, { retry = { attempts = 4 } })
    local _, e = c2:describe_instances {}
    assert.equals("InvalidTimeStamp.Expired", e.code)
    assert.equals(2, #t2.calls)
    -- without a Date header there is nothing to correct from
    local nodate = err { code = "InvalidTimeStamp.Expired", http_status = 400, message = "expired" }
    local c3, t3 = fake_client { nodate, OK }
    assert.is_nil((c3:describe_instances {}))
    assert.equals(1, #t3.calls)
  end)
end)

describe("batch retries", function()
  it("re-sends only the retryable failures, with their ClientToken, after the longest wait", function()
    -- calls run in order inside each round: round 1 = calls 1..3, round 2 = the retried ones
    local client, t, world = fake_client {
      THROTTLE, OK, BAD,          -- round 1: invoke throttled, describe ok, delete refused for good
      OK,                         -- round 2: invoke ok
    }
    local out = client:call_batch {
      { "InvokeCommand", { CommandId = "c-1", InstanceId = { "i-1" } } },
      { "DescribeInstances", {} },
      { "DeleteCommand", { CommandId = "c-2" } },
    }
    assert.equals(2, t.batches)
    assert.equals("t-1", out[1][1].InvokeId)
    assert.is_table(out[2][1])
    assert.equals("InvalidParameter", out[3][2].code)
    assert.equals(1, out[3][2].attempts)
    assert.equals(t.calls[1].params.ClientToken, t.calls[4].params.ClientToken)
    assert.same({ 0.1 }, world.sleeps)
  end)

  it("gives up after max attempts with the history of each call", function()
    local client, t = fake_client({ UNAVAILABLE }, { retry = { attempts = 3 } })
    local out = client:call_batch { { "DescribeInstances", {} }, { "DescribeCommands", {} } }
    assert.equals(3, t.batches)
    for i = 1, 2 do
      local e = out[i][2]
      assert.equals("ServiceUnavailable", e.code)
      assert.equals(3, e.attempts)
      assert.equals(3, #e.history)
      assert.equals("attempts", e.gave_up)
    end
  end)

  it("stops when the wait would pass max_time", function()
    local client, t = fake_client({ UNAVAILABLE }, { retry = { attempts = 10, base_delay = 2, max_delay = 8,
                                                               max_time = 3 } })
    local out = client:call_batch { { "DescribeInstances", {} } }
    -- waits 1 and 2 (3 s in all, within the budget); the third wait (4) would pass it
    assert.equals(3, t.batches)
    assert.equals("time", out[1][2].gave_up)
  end)
end)

describe("retry module", function()
  it("validates its options", function()
    assert.has_error(function() retry.check_config { attempts = 0 } end,
      "retry: 'attempts' must be a whole number from 1 to 100")
    assert.has_error(function() retry.check_config { tries = 3 } end)
    assert.has_error(function() retry.check_config { base_delay = -1 } end)
    assert.has_error(function() retry.check_config { base_delay = 5, max_delay = 1 } end)
    assert.same({ attempts = 4, base_delay = 0.2, max_delay = 20, max_time = 60 }, retry.check_config {})
    assert.has_error(function() ecs.new { region = "cn-hangzhou", retry = { attempts = "3" } } end)
  end)

  it("reads Retry-After as seconds or as an HTTP date", function()
    assert.equals(1.5, retry.retry_after(err { code = "X", headers = { ["x-acs-retry-after"] = "1500" } }))
    assert.equals(7, retry.retry_after(err { code = "X", headers = { ["retry-after"] = "7" } }))
    assert.equals(90, retry.retry_after(err { code = "X", headers = {
      ["retry-after"] = "Fri, 27 Nov 2026 21:01:30 GMT", date = "Fri, 27 Nov 2026 21:00:00 GMT" } }))
    assert.is_nil(retry.retry_after(err { code = "X", headers = { ["retry-after"] = "soon" } }))
    assert.is_nil(retry.retry_after(err { code = "X" }))
  end)

  it("classifies failures", function()
    assert.is_true(retry.is_retryable(THROTTLE))
    assert.is_true(retry.is_retryable(err { code = "ServiceUnavailable.RegionMaintaining", http_status = 503 }))
    assert.is_true(retry.is_retryable(err { code = "InternalError.Dispatch", http_status = 500 }))
    assert.is_true(retry.is_retryable(err { code = "Whatever", http_status = 502 }))
    assert.is_true(retry.is_retryable(err { code = "TooMany", http_status = 429 }))
    assert.is_false(retry.is_retryable(err { code = "Network.TLS", retryable = false }))
    assert.is_false(retry.is_retryable(BAD))
    assert.is_false(retry.is_retryable(nil))
    assert.is_true(retry.safe_to_repeat("DescribeInstances"))
    assert.is_true(retry.safe_to_repeat("InvokeCommand"))
    assert.is_false(retry.safe_to_repeat("DeleteCommand"))
  end)
end)

describe("retries on the wire", function()
  local emu
  before_each(function() emu = helper.start {} end)
  after_each(function() emu:stop() end)

  it("signs every attempt afresh (new nonce and time) and keeps the ClientToken", function()
    local setup = ecs.new { region = "cn-hangzhou", endpoint = emu.url, access_key_id = "testid",
                            access_key_secret = "testsecret", signature_version = "v2" }
    local cmd = assert(setup:create_command { Name = "x", Type = "RunShellScript", CommandContent = "echo" })
    emu:admin("POST", "/_emulator/faults", { { kind = "error503", action = "InvokeCommand", first = 2 } })
    emu:admin("DELETE", "/_emulator/requests")
    local res, e = setup:invoke_command({ CommandId = cmd.CommandId, InstanceId = { "i-bp1emuweb01" } },
                                        { retry = { attempts = 3, base_delay = 0.001, max_delay = 0.002 } })
    assert.is_nil(e)
    assert.matches("^t%-", res.InvokeId)
    local reqs = emu:admin("GET", "/_emulator/requests?action=InvokeCommand").requests
    assert.equals(3, #reqs)
    local nonces = {}
    for _, r in ipairs(reqs) do
      assert.is_nil(nonces[r.params.SignatureNonce])
      nonces[r.params.SignatureNonce] = true
      assert.equals(reqs[1].params.ClientToken, r.params.ClientToken)
      assert.is_nil(r.params.Signature)
    end
  end)
end)
