-- Real libcurl over loopback: the test server recomputes every signature it
-- receives with the core's functions (V3 and V2, with and without a security
-- token) and answers like the service; a call returns the decoded table.
local core = require "ecs.core"
local support = require "20_http.support"

describe("signed calls over HTTP", function()
  local http = support.serve { keys = { testid = "testsecret", LTAIother = "s2" } }
  local client = http.client

  for _, version in ipairs { "v3", "v2" } do
    describe(version, function()
      it("returns a table with RequestId and InvokeId, and the server verified the signature", function()
        local c = client { signature_version = version }
        local res, err = c:invoke_command { CommandId = "c-1", InstanceId = { "i-1", "i-2" },
                                            Parameters = { name = "Jack" } }
        assert.is_nil(err)
        assert.are.equal("table", type(res))
        assert.matches("^req%-%d+$", res.RequestId)
        assert.matches("^t%-%d+$", res.InvokeId)
        assert.are.equal(version, res.Verified)
        assert.are.equal("InvokeCommand", res.Action)
        assert.are.equal("testid", res.AccessKeyId)
        assert.is_false(res.HasToken)
        assert.are.equal("cn-hangzhou", res.RegionId)
        c:close()
      end)

      it("verifies with a security token, which the server receives", function()
        local c = client { signature_version = version, security_token = "sts-token/+=&x" }
        local res, err = c:describe_instances {}
        assert.is_nil(err)
        assert.are.equal(version, res.Verified)
        assert.is_true(res.HasToken)
        local last = http.srv:requests()[#http.srv:requests()]
        if version == "v3" then
          assert.are.equal("sts-token/+=&x", last.headers["x-acs-security-token"])
        else
          assert.are.equal("sts-token/+=&x", core.parse_query(last.body).SecurityToken)
        end
        c:close()
      end)

      it("is refused by the server with a wrong secret", function()
        local c = client { signature_version = version, access_key_secret = "wrong" }
        local res, err = c:describe_instances {}
        assert.is_nil(res)
        assert.are.equal("SignatureDoesNotMatch", err.code)
        assert.are.equal(400, err.http_status)
        c:close()
      end)

      it("sends a form-encoded POST to / with the params in the body, none in the query", function()
        local c = client { signature_version = version, user_agent = "spec-agent/1" }
        http.srv:reset()
        assert(c:describe_invocation_results { InvokeId = "t-1", InstanceId = "i-1", Echo = "a b&c=d/é" })
        local req = http.srv:requests()[1]
        assert.are.equal("POST", req.method)
        assert.are.equal("/", req.path)
        assert.are.equal("", req.query)
        assert.are.equal("application/x-www-form-urlencoded", req.headers["content-type"])
        assert.are.equal("spec-agent/1", req.headers["user-agent"])
        assert.are.equal("application/json", req.headers.accept)
        assert.is_nil(req.headers.expect)
        local p = core.parse_query(req.body)
        assert.are.equal("t-1", p.InvokeId)
        assert.are.equal("a b&c=d/é", p.Echo)
        if version == "v2" then
          assert.is_nil(req.headers.authorization)
          assert.are.equal("DescribeInvocationResults", p.Action)
        else
          assert.is_nil(p.Signature)
          assert.are.equal("DescribeInvocationResults", req.headers["x-acs-action"])
        end
        c:close()
      end)

      it("carries a 24 KB command with odd bytes and a 100-instance list, and it still verifies", function()
        local c = client { signature_version = version }
        local chars = {}
        for i = 1, 255 do chars[#chars + 1] = string.char(i) end
        local content = string.rep(table.concat(chars), 72):sub(1, 18000)
        local ids = {}
        for i = 1, 100 do ids[i] = "i-" .. i end
        http.srv:reset()
        local res, err = c:run_command { CommandContent = content, Type = "RunShellScript", InstanceId = ids,
                                         Parameters = { ["név"] = "中文 & = + %" }, Echo = "✓" }
        assert.is_nil(err)
        assert.are.equal(version, res.Verified)
        assert.are.equal("✓", res.Echo)
        local p = core.parse_query(http.srv:requests()[1].body)
        assert.are.equal(content, p.CommandContent)
        assert.are.equal("i-100", p["InstanceId.100"])
        assert.are.equal('{"név":"中文 & = + %"}', p.Parameters)
        c:close()
      end)

      it("signs every retry afresh and keeps one ClientToken", function()
        local c = client { signature_version = version, retry = { attempts = 3, base_delay = 0.001 },
                           sleep = function() end }
        http.srv:reset()
        local res, err = c:invoke_command { CommandId = "c-1", InstanceId = { "i-1" }, FailTimes = 2 }
        assert.is_nil(err)
        assert.are.equal(version, res.Verified)
        local reqs = http.srv:requests()
        assert.are.equal(3, #reqs)
        local tokens, nonces = {}, {}
        for _, r in ipairs(reqs) do
          local p = core.parse_query(r.body)
          tokens[p.ClientToken] = true
          nonces[version == "v3" and r.headers["x-acs-signature-nonce"] or p.SignatureNonce] = true
        end
        local nt, nn = 0, 0
        for _ in pairs(tokens) do nt = nt + 1 end
        for _ in pairs(nonces) do nn = nn + 1 end
        assert.are.equal(1, nt)
        assert.are.equal(3, nn)
        c:close()
      end)
    end)
  end

  it("goes through the stages on their own: prepare, send, decode", function()
    local cl = core.new { endpoint = http.srv.url, region = "cn-hangzhou", access_key_id = "testid",
                          access_key_secret = "testsecret" }
    local req = cl:prepare("RunCommand", { CommandContent = "echo hi", Type = "RunShellScript",
                                           InstanceId = { "i-1" } })
    local resp = assert(cl:send(req))
    assert.are.equal(200, resp.status)
    assert.matches("^application/json", resp.headers["content-type"])
    local res = assert(core.decode(resp.status, resp.body, resp.headers))
    assert.are.equal("v3", res.Verified)
    assert.are.equal("RunCommand", res.Action)
    cl:close()
  end)

  it("the C client's action methods run the whole path in C", function()
    for _, v in ipairs { "v3", "v2" } do
      local cl = core.new { endpoint = http.srv.url, region = "cn-hangzhou", access_key_id = "LTAIother",
                            access_key_secret = "s2", signature_version = v }
      local res, err = cl:invoke_command { CommandId = "c-9", InstanceId = { "i-1" } }
      assert.is_nil(err)
      assert.are.equal(v, res.Verified)
      assert.are.equal("LTAIother", res.AccessKeyId)
      res = assert(cl:call("DescribeRegions", {}))
      assert.are.equal("DescribeRegions", res.Action)
      cl:close()
    end
  end)

  it("picks up new credentials (set_credentials) on the next call", function()
    local cl = core.new { endpoint = http.srv.url, region = "cn-hangzhou", access_key_id = "testid",
                          access_key_secret = "testsecret" }
    assert.are.equal("testid", assert(cl:call("DescribeRegions", {})).AccessKeyId)
    cl:set_credentials("LTAIother", "s2", "tok")
    local res = assert(cl:call("DescribeRegions", {}))
    assert.are.equal("LTAIother", res.AccessKeyId)
    assert.is_true(res.HasToken)
    cl:close()
  end)
end)
