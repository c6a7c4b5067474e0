-- TLS through libcurl against the emulator's HTTP host serving a tiny
-- service over HTTPS, with a CA made at test time: refused when the
-- certificate cannot be verified, accepted with tls = { ca_file = ... }.
local support = require "20_http.support"
local helper = require "helpers.emulator"
local tls = require "helpers.tls"

local SERVICE = [[
local M = {}
function M.new()
  local n = 0
  return { handle = function(_, req)
    n = n + 1
    return { status = 200, headers = { ["content-type"] = "application/json" },
             body = '{"RequestId":"tls-' .. n .. '","InvokeId":"t-tls","Path":"' .. req.path .. '"}' }
  end }
end
return M
]]

describe("TLS", function()
  local pki, emu, dir

  setup(function()
    pki = tls.make()
    dir = helper.tmpdir()
    local f = assert(io.open(dir .. "/service.lua", "w"))
    f:write(SERVICE)
    f:close()
    emu = helper.start { args = { "--service", dir .. "/service.lua" }, tls = { cert = pki.cert, key = pki.key } }
  end)

  teardown(function()
    if emu then emu:stop() end
    tls.remove(pki)
    helper.rmdir(dir)
  end)

  local function client(extra)
    return support.client(emu.url, { retry = { attempts = 3 }, sleep = function() end }, extra)
  end

  it("serves HTTPS on the emulator host", function()
    assert.matches("^https://127%.0%.0%.1:%d+$", emu.url)
  end)

  it("refuses a certificate from an unknown CA with Network.TLS, not retried", function()
    for _, t in ipairs { {}, { ca_file = pki.other_ca } } do
      local c = client { tls = t }
      local res, err = c:invoke_command { CommandId = "c-1", InstanceId = { "i-1" } }
      assert.is_nil(res)
      assert.are.equal("Network.TLS", err.code, tostring(err))
      assert.is_false(err.retryable)
      assert.are.equal(1, err.attempts)
      assert.are.equal("number", type(err.curl_code))
      c:close()
    end
  end)

  it("accepts it with tls = { ca_file = <the test CA> }, over one connection", function()
    local c = client { tls = { ca_file = pki.ca } }
    for i = 1, 3 do
      local res, err = c:invoke_command { CommandId = "c-1", InstanceId = { "i-1" } }
      assert.is_nil(err)
      assert.are.equal("tls-" .. i, res.RequestId)
      assert.are.equal("t-tls", res.InvokeId)
    end
    assert.are.same({ requests = 3, connections = 1 }, c:stats())
    c:close()
  end)

  it("accepts it with tls = { ca_path = <a hashed directory holding the test CA> }", function()
    local cadir = helper.tmpdir()
    local ok = os.execute(("cp %s %s/ca.pem && openssl rehash %s >/dev/null 2>&1"):format(
      helper.shell_quote(pki.ca), helper.shell_quote(cadir), helper.shell_quote(cadir)))
    assert.is_true(ok == true or ok == 0, "openssl rehash failed")
    local c = client { tls = { ca_path = cadir } }
    local res, err = c:describe_instances {}
    helper.rmdir(cadir)
    assert.is_nil(err)
    assert.matches("^tls%-", res.RequestId)
    c:close()
  end)

  it("checks the host name: the certificate is for 127.0.0.1 and localhost only", function()
    local port = emu.url:match(":(%d+)$")
    local c = client { endpoint = "https://localhost:" .. port, tls = { ca_file = pki.ca } }
    local res, err = c:describe_instances {}
    assert.is_nil(err)
    assert.matches("^tls%-", res.RequestId)
    c:close()
    local other = helper.start { args = { "--service", dir .. "/service.lua", "--host", "127.0.0.2" },
                                 tls = { cert = pki.cert, key = pki.key } }
    c = client { endpoint = "https://127.0.0.2:" .. other.port, tls = { ca_file = pki.ca } }
    res, err = c:describe_instances {}
    other:stop()
    assert.is_nil(res)
    assert.are.equal("Network.TLS", err.code, tostring(err))
    assert.matches("127%.0%.0%.2", err.message)
    c:close()
  end)

  it("accepts anything with verify = false, and warns", function()
    local events = {}
    local c = client { tls = { verify = false }, logger = function(ev) events[#events + 1] = ev end }
    local res, err = c:describe_instances {}
    assert.is_nil(err)
    assert.matches("^tls%-", res.RequestId)
    assert.are.equal("warning", events[1].event)
    c:close()
  end)

  it("runs a batch over TLS", function()
    local c = client { tls = { ca_file = pki.ca } }
    local calls = {}
    for i = 1, 12 do calls[i] = { "DescribeInstances", { PageNumber = i } } end
    local results = c:call_batch(calls, { concurrency = 4 })
    for i = 1, 12 do
      assert.is_nil(results[i][2])
      assert.matches("^tls%-", results[i][1].RequestId)
    end
    c:close()
  end)
end)
