-- Failures over real sockets: a server that never answers, a port nobody
-- listens on, error bodies, and a security token echoed back by the server.
local ecs = require "ecs"
local core = require "ecs.core"
local support = require "20_http.support"
local helper = require "helpers.emulator"
local socket = require "socket"

local TOKEN = "STS.tok/en+with=odd&chars"

describe("HTTP failures", function()
  local http = support.serve()
  local client = http.client

  describe("a server that never answers", function()
    it("gives Network.Timeout after the configured read timeout", function()
      local c = client { timeout = { connect = 2, read = 0.5 } }
      local t0 = socket.gettime()
      local res, err = c:call("Hang", {})
      local elapsed = socket.gettime() - t0
      assert.is_nil(res)
      assert.are.equal("Network.Timeout", err.code, tostring(err))
      assert.is_true(elapsed >= 0.45 and elapsed < 1.5, ("took %.2f s for a 0.5 s timeout"):format(elapsed))
      assert.are.equal("Hang", err.action)
      assert.is_true(err.sent, "the request went out before the timeout")
      assert.are.equal(28, err.curl_code)
      assert.is_nil(err.http_status)
      assert.matches("127%.0%.0%.1", err.message)
      c:close()
    end)

    it("honours a per-call timeout", function()
      local c = client { timeout = 10 }
      local t0 = socket.gettime()
      local _, err = c:call("Hang", {}, { timeout = 0.3 })
      local elapsed = socket.gettime() - t0
      assert.are.equal("Network.Timeout", err.code)
      assert.is_true(elapsed >= 0.25 and elapsed < 1.3, ("took %.2f s for a 0.3 s timeout"):format(elapsed))
      c:close()
    end)

    it("times out in a batch without holding up the other entries", function()
      local c = client { timeout = { read = 0.5 } }
      local t0 = socket.gettime()
      local results = c:call_batch({ { "Hang", {} }, { "DescribeRegions", { Echo = "ok" } } }, { concurrency = 2 })
      local elapsed = socket.gettime() - t0
      assert.are.equal("Network.Timeout", results[1][2].code)
      assert.are.equal("ok", results[2][1].Echo)
      assert.is_true(elapsed < 1.5, ("took %.2f s"):format(elapsed))
      c:close()
    end)
  end)

  describe("a listener that never accepts (its backlog is full)", function()
    local listener, fillers, port

    setup(function()
      listener = assert(socket.tcp())
      assert(listener:bind("127.0.0.1", 0))
      assert(listener:listen(0))
      port = select(2, listener:getsockname())
      fillers = {}
      for i = 1, 4 do
        fillers[i] = socket.tcp()
        fillers[i]:settimeout(0)
        fillers[i]:connect("127.0.0.1", port)
      end
      socket.sleep(0.05)
    end)

    teardown(function()
      for _, f in ipairs(fillers) do f:close() end
      listener:close()
    end)

    it("gives Network.Timeout after the connect timeout, with sent = false", function()
      local c = ecs.new { endpoint = "http://127.0.0.1:" .. port, region = "cn-hangzhou", access_key_id = "testid",
                          access_key_secret = "testsecret", retry = false, timeout = { connect = 0.4, read = 5 } }
      local t0 = socket.gettime()
      local _, err = c:describe_instances {}
      local elapsed = socket.gettime() - t0
      assert.are.equal("Network.Timeout", err.code, tostring(err))
      assert.is_false(err.sent)
      assert.is_true(elapsed >= 0.35 and elapsed < 1.4, ("took %.2f s for a 0.4 s connect timeout"):format(elapsed))
      c:close()
    end)
  end)

  describe("a port nobody listens on", function()
    it("gives Network.ConnectFailed with sent = false", function()
      local c = ecs.new { endpoint = "http://127.0.0.1:" .. helper.free_port(), region = "cn-hangzhou",
                          access_key_id = "testid", access_key_secret = "testsecret", retry = false }
      local res, err = c:invoke_command { CommandId = "c-1", InstanceId = { "i-1" } }
      assert.is_nil(res)
      assert.are.equal("Network.ConnectFailed", err.code)
      assert.is_false(err.sent)
      assert.are.equal(7, err.curl_code)
      assert.is_true(err.retryable)
      assert.are.equal("InvokeCommand", err.action)
      assert.matches("^InvokeCommand: Network.ConnectFailed: ", tostring(err))
      c:close()
    end)

    it("is retried under the policy, since nothing was sent", function()
      local sleeps = {}
      local c = ecs.new { endpoint = "http://127.0.0.1:" .. helper.free_port(), region = "cn-hangzhou",
                          access_key_id = "testid", access_key_secret = "testsecret",
                          retry = { attempts = 3 }, sleep = function(s) sleeps[#sleeps + 1] = s end,
                          random = function() return 0.5 end }
      local _, err = c:delete_command { CommandId = "c-1" }
      assert.are.equal("Network.ConnectFailed", err.code)
      assert.are.equal(3, err.attempts)
      assert.are.equal(2, #sleeps)
      c:close()
    end)
  end)

  describe("error bodies", function()
    it("decode into error objects with request_id, http_status and headers", function()
      local c = client()
      local body = '{"RequestId":"E-1","HostId":"ecs.test","Code":"Throttling.User","Message":"slow down",'
        .. '"Recommend":"https://example.test/r"}'
      local res, err = c:call("Fail", { Status = "400", Body = body, RetryAfter = "3" })
      assert.is_nil(res)
      assert.is_true(ecs.is_error(err))
      assert.are.equal("Throttling.User", err.code)
      assert.are.equal("slow down", err.message)
      assert.are.equal("E-1", err.request_id)
      assert.are.equal("ecs.test", err.host_id)
      assert.are.equal("https://example.test/r", err.recommend)
      assert.are.equal(400, err.http_status)
      assert.is_true(err.retryable)
      assert.are.equal("table", type(err.headers))
      assert.matches("^req%-%d+$", err.headers["x-acs-request-id"])
      assert.are.equal("3", err.headers["retry-after"])
      assert.is_truthy(core.parse_http_date(err.headers.date))
      assert.matches("^application/json", err.headers["content-type"])
      assert.are.equal("Fail: Throttling.User (HTTP 400): slow down [RequestId E-1]", tostring(err))
      c:close()
    end)

    it("give Response.NotJSON with a short excerpt for an HTML error page", function()
      local c = client()
      local page = "<html><body>" .. string.rep("Bad Gateway ", 100) .. "</body></html>"
      local _, err = c:call("Fail", { Status = "502", Body = page })
      assert.are.equal("Response.NotJSON", err.code)
      assert.are.equal(502, err.http_status)
      assert.is_truthy(err.message:find("<html><body>Bad Gateway", 1, true))
      assert.is_true(#err.message < 300)
      assert.are.equal("table", type(err.headers))
      c:close()
    end)

    it("give an error for an empty 5xx body", function()
      local c = client()
      local _, err = c:call("Fail", { Status = "503", Body = "" })
      assert.are.equal(503, err.http_status)
      assert.matches("^Response%.", err.code)
      assert.is_true(err.retryable)
      c:close()
    end)
  end)

  describe("a security token echoed by the server", function()
    local function assert_no_token(err)
      local text = tostring(err) .. "\n" .. tostring(err.message)
      for _, form in ipairs { TOKEN, core.percent_encode(TOKEN), core.percent_encode(core.percent_encode(TOKEN)) } do
        assert.is_nil(text:find(form, 1, true), "token visible: " .. text)
      end
      assert.is_nil(text:find("testsecret", 1, true))
    end

    for _, version in ipairs { "v2", "v3" } do
      it(("is redacted from a SignatureDoesNotMatch message (%s)"):format(version), function()
        local c = client { signature_version = version, security_token = TOKEN }
        local res, err = c:describe_instances { ForceMismatch = "1" }
        assert.is_nil(res)
        assert.are.equal("SignatureDoesNotMatch", err.code)
        assert.matches("server string to sign is:", err.message)
        assert_no_token(err)
        c:close()
      end)

      it(("is redacted by the C client too (%s)"):format(version), function()
        local cl = core.new { endpoint = http.srv.url, region = "cn-hangzhou", access_key_id = "testid",
                              access_key_secret = "testsecret", security_token = TOKEN, signature_version = version }
        local raw = assert(cl:send(cl:prepare("DescribeInstances", { ForceMismatch = "1" })))
        local _, echoed = core.decode(raw.status, raw.body)
        assert.is_truthy(echoed.message:find(TOKEN, 1, true), "the server did not echo the token")
        local res, err = cl:call("DescribeInstances", { ForceMismatch = "1" })
        assert.is_nil(res)
        assert.are.equal("SignatureDoesNotMatch", err.code)
        assert_no_token(err)
        local results = cl:call_batch { { "DescribeInstances", { ForceMismatch = "1" } } }
        assert.are.equal("SignatureDoesNotMatch", results[1][2].code)
        assert_no_token(results[1][2])
        cl:close()
      end)
    end
  end)
end)
