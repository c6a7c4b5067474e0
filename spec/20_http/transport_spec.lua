-- The rest of the libcurl path: proxies, big answers, the send stage's
-- failures, the signing clock, reuse after close, the default User-Agent.
local ecs = require "ecs"
local core = require "ecs.core"
local support = require "20_http.support"
local helper = require "helpers.emulator"

describe("libcurl transport", function()
  local http = support.serve { reset = true }
  local client = http.client

  it("sends through the proxy option, and no_proxy bypasses it", function()
    local port = helper.free_port()
    local endpoint = "http://localhost:" .. port
    for _, v in ipairs { "v3", "v2" } do
      local c = client { endpoint = endpoint, proxy = http.srv.url, signature_version = v }
      local res, err = c:describe_instances { Echo = "via proxy" }
      assert.is_nil(err)
      assert.are.equal("via proxy", res.Echo)
      assert.are.equal(v, res.Verified)
      c:close()
    end
    local reqs = http.srv:requests()
    assert.are.equal(2, #reqs)
    assert.are.equal(endpoint .. "/", reqs[1].target)
    assert.are.equal("localhost:" .. port, reqs[1].headers.host)
    local c = client { endpoint = endpoint, proxy = http.srv.url, no_proxy = "localhost" }
    local _, err = c:describe_instances {}
    assert.are.equal("Network.ConnectFailed", err.code)
    assert.are.equal(2, #http.srv:requests())
    c:close()
  end)

  it("keeps a proxy password out of errors and tostring", function()
    local c = client { proxy = "http://user:pr0xy-pass@127.0.0.1:" .. helper.free_port() }
    local _, err = c:describe_instances {}
    assert.matches("^Network%.", err.code)
    assert.is_nil(tostring(err):find("pr0xy-pass", 1, true))
    assert.is_nil(tostring(c):find("pr0xy-pass", 1, true))
    c:close()
  end)

  it("decodes a 2 MB answer", function()
    local c = client()
    local res, err = c:describe_invocation_results { InvokeId = "t-1", Size = tostring(2 * 1024 * 1024) }
    assert.is_nil(err)
    assert.are.equal(2 * 1024 * 1024, #res.Data)
    c:close()
  end)

  it("sends a default User-Agent naming the module and its version", function()
    local c = client()
    assert(c:describe_instances {})
    assert.are.equal("aliyun-ecs-lua/" .. ecs._VERSION, http.srv:requests()[1].headers["user-agent"])
    c:close()
  end)

  it("the send stage returns nil, err for a network failure and a response for any status", function()
    local cl = core.new { endpoint = http.srv.url, access_key_id = "testid", access_key_secret = "testsecret" }
    local resp = assert(cl:send { url = http.srv.url .. "/", body = "Action=X" })
    assert.are.equal(400, resp.status)
    local _, e = core.decode(resp.status, resp.body)
    assert.are.equal("MissingParameter.Signature", e.code)
    local dead = "http://127.0.0.1:" .. helper.free_port() .. "/"
    local r, err = cl:send { url = dead, body = "" }
    assert.is_nil(r)
    assert.are.equal("Network.ConnectFailed", err.code)
    assert.is_false(err.sent)
    local out = cl:send_batch { { url = dead }, cl:prepare("DescribeRegions", {}) }
    assert.are.equal("Network.ConnectFailed", out[1].code)
    assert.is_true(ecs.is_error(out[1]))
    assert.are.equal(200, out[2].status)
    cl:close()
  end)

  it("signs with the clock offset set by set_time_offset", function()
    local cl = core.new { endpoint = http.srv.url, region = "cn-hangzhou", access_key_id = "testid",
                          access_key_secret = "testsecret" }
    local now = cl:time()
    assert.is_true(math.abs(now - os.time()) < 3)
    cl:set_time_offset(-3600)
    assert.is_true(math.abs(cl:time() - (now - 3600)) < 3)
    local req = cl:prepare("DescribeRegions", {})
    assert.is_true(math.abs(core.parse_timestamp(req.headers["x-acs-date"]) - (os.time() - 3600)) < 3)
    assert(cl:call("DescribeRegions", {}))
    local got = http.srv:requests()[1].headers["x-acs-date"]
    assert.is_true(math.abs(core.parse_timestamp(got) - (os.time() - 3600)) < 3, got)
    cl:close()
  end)

  it("works again after close, on a new connection", function()
    local c = client()
    assert(c:describe_instances {})
    c:close()
    assert(c:describe_instances {})
    assert.are.equal(2, http.srv:stats().connections)
    c:close()
  end)
end)
