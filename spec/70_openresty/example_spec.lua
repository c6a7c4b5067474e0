-- The OpenResty example (examples/openresty/run.sh) against the emulator:
-- POST /invoke, GET /invocations/{id}, both signature versions, input and
-- service errors, retries with ngx.sleep, and the non-blocking proof.
local helper = require "helpers.emulator"
local nginx = require "helpers.nginx"
local support = require "70_openresty.support"
local socket = require "socket"

local json, decode = support.json, support.decode

local function start_example(emu, env)
  local e = { ECS_ENDPOINT = emu.url, ALIBABA_CLOUD_ACCESS_KEY_ID = "testid",
              ALIBABA_CLOUD_ACCESS_KEY_SECRET = "testsecret", ALIBABA_CLOUD_REGION_ID = "cn-hangzhou" }
  for k, v in pairs(env or {}) do e[k] = v end
  return nginx.run_example { env = e }
end

describe("OpenResty example", function()
  local emu, ng, command

  setup(function()
    emu = helper.start { args = { "--time-scale", "50" } }
    command = support.create_command(emu)
    ng = start_example(emu)
  end)

  teardown(function() support.stop(ng, emu) end)

  before_each(function() support.clear_faults(emu) end)

  it("prints 'listening <port>' first and serves on that port", function()
    assert.matches("^listening %d+$", ng.first_line)
    local status, _, body = ng:request("GET", "/health")
    assert.are.equal(200, status)
    assert.are.same({ status = "ok" }, decode(body))
  end)

  it("POST /invoke runs InvokeCommand and answers the InvokeId; GET /invocations/{id} reads it back", function()
    local status, headers, body = ng:request("POST", "/invoke", json.encode {
      CommandId = command, InstanceId = support.INSTANCES, Parameters = { name = "Jack" } })
    assert.are.equal(200, status, body)
    assert.matches("^application/json", headers["content-type"])
    local res = decode(body)
    assert.matches("^t%-%w+", res.InvokeId)
    assert.is_string(res.RequestId)
    local seen = support.requests(emu, "InvokeCommand")
    local last = seen[#seen]
    assert.are.equal(command, last.params.CommandId)
    assert.are.equal("i-bp1emuweb01", last.params["InstanceId.1"])
    assert.are.equal("i-bp1emuweb02", last.params["InstanceId.2"])
    assert.are.same({ name = "Jack" }, json.decode(last.params.Parameters))
    assert.is_string(last.params.ClientToken)

    local st, _, rbody = ng:request("GET", "/invocations/" .. res.InvokeId)
    assert.are.equal(200, st, rbody)
    local doc = decode(rbody)
    local list = doc.Invocation.InvocationResults.InvocationResult
    assert.are.equal(2, #list)
    for _, r in ipairs(list) do assert.are.equal(res.InvokeId, r.InvokeId) end
  end)

  it("answers bad input with 400 and the error object, before calling the service", function()
    local before = #support.requests(emu)
    local cases = {
      { "not json", "not JSON" },
      { "[1,2]", "JSON object" },
      { json.encode { InstanceId = { "i-1" } }, "CommandId" },
      { json.encode { CommandId = command }, "InstanceId" },
      { json.encode { CommandId = command, InstanceId = "i-1" }, "InstanceId" },
      { json.encode { CommandId = command, InstanceId = { "i-1" }, Parameters = { 1, 2 } }, "Parameters" },
    }
    for _, c in ipairs(cases) do
      local status, _, body = ng:request("POST", "/invoke", c[1])
      assert.are.equal(400, status, body)
      local err = decode(body)
      assert.is_table(err, body)
      assert.are.equal("InvalidInput", err.code)
      assert.matches(c[2], err.message, 1, true)
      assert.is_false(err.retryable)
    end
    -- a limit the client checks locally (101 instances)
    local ids = {}
    for i = 1, 101 do ids[i] = ("i-bp1x%03d"):format(i) end
    local status, _, body = ng:request("POST", "/invoke", json.encode { CommandId = command, InstanceId = ids })
    assert.are.equal(400, status, body)
    assert.are.equal("InstanceIds.ExceedLimit", decode(body).code)
    assert.are.equal(before, #support.requests(emu))
    local st = ng:request("GET", "/invoke")
    assert.are.equal(405, st)
    st = ng:request("GET", "/invocations/not-an-id")
    assert.are.equal(400, st)
    local nf, _, nbody = ng:request("GET", "/invocations/t-000000000000")
    assert.are.equal(404, nf)
    assert.are.equal("InvalidInvokeId.NotFound", decode(nbody).code)
  end)

  it("passes a service error through with its status, code and RequestId, and no secret", function()
    local status, _, body = ng:request("POST", "/invoke", json.encode {
      CommandId = "c-doesnotexist0000", InstanceId = { "i-bp1emuweb01" } })
    local err = decode(body)
    assert.is_table(err, body)
    assert.is_true(status >= 400 and status < 500, body)
    assert.are.equal(status, err.http_status)
    assert.matches("NotFound", err.code)
    assert.is_string(err.request_id)
    assert.is_nil(body:find("testsecret", 1, true))
  end)

  it("retries throttled calls with ngx.sleep, keeping the ClientToken, while the worker serves others", function()
    emu:admin("POST", "/_emulator/faults", { { kind = "throttle", action = "InvokeCommand", first = 2,
                                               retry_after = 300 } })
    local before = #support.requests(emu, "InvokeCommand")
    local body = json.encode { CommandId = command, InstanceId = { "i-bp1emuweb03" }, Parameters = { name = "x" } }
    local s = socket.tcp()
    s:settimeout(30)
    assert(s:connect("127.0.0.1", ng.port))
    local t0 = socket.gettime()
    assert(s:send(("POST /invoke HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s")
      :format(#body, body)))
    -- while the invoke waits between attempts, the single worker answers at once
    socket.sleep(0.1)
    local h0 = socket.gettime()
    local hs = ng:request("GET", "/health")
    local health_time = socket.gettime() - h0
    assert.are.equal(200, hs)
    local raw = s:receive("*a")
    s:close()
    local elapsed = socket.gettime() - t0
    local status, _, rbody = helper.parse_response(raw)
    assert.are.equal(200, status, rbody)
    assert.matches("^t%-", decode(rbody).InvokeId)
    print(("\n  throttled invoke: %.2f s for 3 attempts (two waits of >= 0.3 s); /health meanwhile: %.3f s")
      :format(elapsed, health_time))
    assert.is_true(elapsed >= 0.55, "waited the server's retry-after twice")
    assert.is_true(health_time < 0.25, "the worker was blocked")
    local seen = support.requests(emu, "InvokeCommand")
    assert.are.equal(before + 3, #seen)
    local token = seen[before + 1].params.ClientToken
    assert.is_string(token)
    assert.are.equal(token, seen[before + 2].params.ClientToken)
    assert.are.equal(token, seen[before + 3].params.ClientToken)
    assert.matches("ecs retry action=%-? ?", ng:error_log())
  end)

  it("serves 50 concurrent invokes in a small multiple of the service delay D, not 50 x D", function()
    local D = 0.4
    emu:admin("POST", "/_emulator/faults", { { kind = "delay", action = "InvokeCommand", delay = D } })
    local body = json.encode { CommandId = command, InstanceId = { "i-bp1emuweb01" }, Parameters = { name = "x" } }
    local results, elapsed = ng:concurrent(50, "POST", "/invoke", body)
    local ids = {}
    for i, r in ipairs(results) do
      assert.are.equal(200, r.status, "request " .. i .. ": " .. tostring(r.body))
      ids[decode(r.body).InvokeId] = true
    end
    local n = 0
    for _ in pairs(ids) do n = n + 1 end
    assert.are.equal(50, n)
    print(("\n  50 concurrent invokes, one nginx worker, D = %.1f s: %.2f s elapsed (%.1f x D; blocking would take"
      .. " %.0f s)"):format(D, elapsed, elapsed / D, 50 * D))
    assert.is_true(elapsed >= D)
    assert.is_true(elapsed < 5 * D, ("took %.2f s"):format(elapsed))
  end)
end)

describe("OpenResty example, signature versions", function()
  local emu, command

  setup(function()
    emu = helper.start()
    command = support.create_command(emu)
  end)
  teardown(function() if emu then emu:stop() end end)

  for _, version in ipairs { "v2", "v3" } do
    it("signs with " .. version .. " and the emulator verifies it", function()
      local ng = start_example(emu, { ECS_SIGNATURE_VERSION = version })
      local ok, err = pcall(function()
        local status, _, body = ng:request("POST", "/invoke", json.encode {
          CommandId = command, InstanceId = { "i-bp1emuweb01" }, Parameters = { name = "x" } })
        assert.are.equal(200, status, body)
        assert.matches("^t%-", decode(body).InvokeId)
        local seen = support.requests(emu, "InvokeCommand")
        assert.are.equal(version, seen[#seen].version)
      end)
      ng:cleanup()
      assert(ok, err)
    end)
  end
end)

describe("OpenResty example over TLS", function()
  local emu, tls, command

  setup(function()
    tls = helper.make_tls()
    emu = helper.start { tls = tls }
    command = support.create_command(emu)
  end)
  teardown(function()
    if emu then emu:stop() end
    helper.rmdir(tls and tls.dir)
  end)

  it("verifies the emulator's certificate against lua_ssl_trusted_certificate", function()
    -- nginx checks the certificate against a host name, not an IP address
    local ng = start_example(emu, { ECS_CA_FILE = tls.ca, ECS_TLS_SERVER_NAME = "localhost" })
    local ok, err = pcall(function()
      local status, _, body = ng:request("POST", "/invoke", json.encode {
        CommandId = command, InstanceId = { "i-bp1emuweb01" }, Parameters = { name = "x" } })
      assert.are.equal(200, status, body)
      assert.matches("^t%-", decode(body).InvokeId)
    end)
    ng:cleanup()
    assert(ok, err)
  end)

  it("refuses a server whose CA is not trusted, with Network.TLS", function()
    local ng = start_example(emu, { ECS_CA_FILE = "/etc/ssl/certs/ca-certificates.crt",
                                    ECS_TLS_SERVER_NAME = "localhost" })
    local ok, err = pcall(function()
      local status, _, body = ng:request("POST", "/invoke", json.encode {
        CommandId = command, InstanceId = { "i-bp1emuweb01" }, Parameters = { name = "x" } })
      assert.are.equal(502, status, body)
      local e = decode(body)
      assert.are.equal("Network.TLS", e.code)
      assert.matches("lua_ssl_trusted_certificate", e.message, 1, true)
      assert.are.equal(1, e.attempts)
    end)
    ng:cleanup()
    assert(ok, err)
  end)
end)
