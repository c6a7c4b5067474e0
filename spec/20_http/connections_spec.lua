-- Keep-alive and concurrency, counted on the server side: N calls on one TCP
-- connection; a batch of 64 with a cap of 8 never has more than 8 requests
-- in flight at the server.
local core = require "ecs.core"
local support = require "20_http.support"
local socket = require "socket"

describe("connections", function()
  local http = support.serve { reset = true }
  local client = http.client

  for _, version in ipairs { "v3", "v2" } do
    it(("makes 20 calls over one TCP connection (%s)"):format(version), function()
      local c = client { signature_version = version }
      for i = 1, 20 do
        local res, err = c:describe_invocations { InvokeId = "t-" .. i, Echo = tostring(i) }
        assert.is_nil(err)
        assert.are.equal(tostring(i), res.Echo)
      end
      local s = http.srv:stats()
      assert.are.equal(20, s.requests)
      assert.are.equal(1, s.connections)
      assert.are.same({ requests = 20, connections = 1 }, c:stats())
      local reqs = http.srv:requests()
      for _, r in ipairs(reqs) do assert.are.equal(reqs[1].conn, r.conn) end
      c:close()
    end)
  end

  it("opens a new connection after the server closes one, and counts it", function()
    local c = client()
    assert(c:call("DescribeRegions", {}))
    assert(c:call("Close", {}))
    assert(c:call("DescribeRegions", {}))
    assert(c:call("DescribeRegions", {}))
    assert.are.equal(2, http.srv:stats().connections)
    assert.are.same({ requests = 4, connections = 2 }, c:stats())
    c:close()
  end)

  it("runs a batch of 64 with at most 8 requests in flight at the server", function()
    local c = client()
    local calls = {}
    for i = 1, 64 do calls[i] = { "Slow", { Delay = "0.05", Echo = tostring(i) } } end
    local t0 = socket.gettime()
    local results = c:call_batch(calls, { concurrency = 8 })
    local elapsed = socket.gettime() - t0
    assert.are.equal(64, #results)
    for i = 1, 64 do
      local res, err = results[i][1], results[i][2]
      assert.is_nil(err)
      assert.are.equal(tostring(i), res.Echo)
      assert.matches("^req%-%d+$", res.RequestId)
    end
    local s = http.srv:stats()
    assert.are.equal(64, s.requests)
    assert.is_true(s.max_in_flight <= 8, "max in flight " .. s.max_in_flight)
    assert.is_true(s.max_in_flight >= 4, "no concurrency: max in flight " .. s.max_in_flight)
    assert.is_true(s.connections <= 8, s.connections .. " connections")
    -- 64 x 50 ms one by one would take 3.2 s; eight at a time about 0.4 s
    assert.is_true(elapsed < 2, ("batch took %.2f s"):format(elapsed))
    assert.are.equal(64, c:stats().requests)
    c:close()
  end)

  it("keeps the batch connections alive for the next batch, and honours a cap of 2", function()
    local c = client()
    local calls = {}
    for i = 1, 16 do calls[i] = { "Slow", { Delay = "0.02", Echo = tostring(i) } } end
    c:call_batch(calls, { concurrency = 2 })
    c:call_batch(calls, { concurrency = 2 })
    local s = http.srv:stats()
    assert.are.equal(32, s.requests)
    assert.are.equal(2, s.max_in_flight)
    assert.are.equal(2, s.connections)
    assert.are.same({ requests = 32, connections = 2 }, c:stats())
    c:close()
  end)

  it("gives each batch entry its own result or error, in call order", function()
    local c = client()
    local results = c:call_batch({
      { "DescribeRegions", { Echo = "a" } },
      { "Fail", { Status = "404",
                  Body = '{"Code":"InvalidInstanceId.NotFound","Message":"nope","RequestId":"r-404"}' } },
      { "InvokeCommand", { CommandId = "c", InstanceId = { "i-1" }, Timeout = 1 } },
      { "DescribeRegions", { Echo = "d" } },
    }, { concurrency = 4 })
    assert.are.equal("a", results[1][1].Echo)
    assert.is_nil(results[2][1])
    assert.are.equal("InvalidInstanceId.NotFound", results[2][2].code)
    assert.are.equal("r-404", results[2][2].request_id)
    assert.are.equal(404, results[2][2].http_status)
    assert.are.equal("InvalidParameter.Timeout", results[3][2].code)
    assert.are.equal("d", results[4][1].Echo)
    assert.are.equal(3, http.srv:stats().requests)
    c:close()
  end)

  it("re-sends the retryable failures of a batch, signed afresh with the same ClientToken", function()
    local sleeps = {}
    local c = client { retry = { attempts = 3, base_delay = 0.01 }, sleep = function(s) sleeps[#sleeps + 1] = s end }
    local calls = {}
    for i = 1, 6 do
      calls[i] = { "InvokeCommand", { CommandId = "c-1", InstanceId = { "i-" .. i }, Echo = tostring(i),
                                      FailTimes = tostring(i % 3) } }
    end
    local results = c:call_batch(calls, { concurrency = 3 })
    for i = 1, 6 do
      assert.is_nil(results[i][2])
      assert.are.equal(tostring(i), results[i][1].Echo)
    end
    -- FailTimes 1, 2, 0, 1, 2, 0: 6 first sends, 4 second, 2 third
    local reqs = http.srv:requests()
    assert.are.equal(12, #reqs)
    assert.are.equal(2, #sleeps)
    local by_echo, nonces = {}, {}
    for _, r in ipairs(reqs) do
      local p = core.parse_query(r.body)
      local seen = by_echo[p.Echo] or {}
      by_echo[p.Echo] = seen
      seen[p.ClientToken] = true
      nonces[r.headers["x-acs-signature-nonce"]] = true
    end
    for i = 1, 6 do
      local n = 0
      for _ in pairs(by_echo[tostring(i)]) do n = n + 1 end
      assert.are.equal(1, n, "call " .. i .. " used more than one ClientToken")
    end
    local n = 0
    for _ in pairs(nonces) do n = n + 1 end
    assert.are.equal(12, n)
    c:close()
  end)

  it("gives up on a batch entry after the policy's attempts, with the count", function()
    local c = client { retry = { attempts = 2, base_delay = 0.01 }, sleep = function() end }
    local results = c:call_batch { { "InvokeCommand", { CommandId = "c", InstanceId = { "i-1" }, FailTimes = "5" } },
                                   { "DescribeRegions", { Echo = "fine" } } }
    assert.are.equal("ServiceUnavailable", results[1][2].code)
    assert.are.equal(2, results[1][2].attempts)
    assert.are.equal("fine", results[2][1].Echo)
    assert.are.equal(3, #http.srv:requests())
    c:close()
  end)

  it("send_batch of the C client caps transfers the same way", function()
    local cl = core.new { endpoint = http.srv.url, region = "cn-hangzhou", access_key_id = "testid",
                          access_key_secret = "testsecret" }
    local reqs = {}
    for i = 1, 24 do reqs[i] = cl:prepare("Slow", { Delay = "0.03", Echo = tostring(i) }) end
    local out = cl:send_batch(reqs, { concurrency = 3 })
    for i = 1, 24 do
      assert.are.equal(200, out[i].status)
      assert.are.equal(tostring(i), core.decode(out[i].status, out[i].body).Echo)
    end
    local s = http.srv:stats()
    assert.are.equal(3, s.max_in_flight)
    assert.are.equal(3, s.connections)
    cl:close()
  end)

  it("rejects a bad concurrency", function()
    local cl = core.new { endpoint = http.srv.url, access_key_id = "testid", access_key_secret = "testsecret" }
    assert.has_error(function() cl:call_batch({}, { concurrency = 0 }) end)
    assert.has_error(function() cl:call_batch({}, { concurrency = "8" }) end)
    assert.are.same({}, cl:call_batch({}))
    cl:close()
  end)
end)
