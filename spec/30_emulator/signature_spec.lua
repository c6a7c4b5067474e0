-- Signature verification: published vectors (reference 3.7 A, 4.5 A),
-- requests signed with the core, tampering, nonces and timestamps.
local H = require "30_emulator.emu_helper"

local V2_QUERY = "AccessKeyId=testid&Action=DescribeDedicatedHosts&Format=JSON"
  .. "&Signature=9NaGiOspFP5UPcwX8Iwt2YJXXuk%3D&SignatureMethod=HMAC-SHA1"
  .. "&SignatureNonce=edb2b34af0af9a6d14deaf7c1a5315eb&SignatureVersion=1.0"
  .. "&Timestamp=2023-03-13T08%3A34%3A30Z&Version=2014-05-26&RegionId=cn-beijing"
local V2_STS = "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeDedicatedHosts%26Format%3DJSON"
  .. "%26RegionId%3Dcn-beijing%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dedb2b34af0af9a6d14deaf7c1a5315eb"
  .. "%26SignatureVersion%3D1.0%26Timestamp%3D2023-03-13T08%253A34%253A30Z%26Version%3D2014-05-26"

local function v3_vector()
  return {
    method = "POST", path = "/", body = "",
    query = "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai",
    headers = {
      host = "ecs.cn-shanghai.aliyuncs.com",
      ["x-acs-action"] = "RunInstances",
      ["x-acs-version"] = "2014-05-26",
      ["x-acs-date"] = "2023-10-26T10:22:32Z",
      ["x-acs-signature-nonce"] = "3156853299f313e23d1673dc12e1703d",
      ["x-acs-content-sha256"] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      authorization = "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;"
        .. "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        .. "Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0",
    },
  }
end

local function vector_service(check)
  return H.new { check_timestamp = check or false,
    credentials = { testid = "testsecret", YourAccessKeyId = "YourAccessKeySecret" } }
end

describe("emulator signatures", function()
  describe("published V2 vector (reference 3.7 A)", function()
    it("accepts the signature: the request reaches the action check", function()
      local svc = vector_service()
      local resp = svc:handle { method = "GET", path = "/", query = V2_QUERY,
        headers = { host = "ecs.cn-beijing.aliyuncs.com" } }
      local body = H.decode(resp)
      -- DescribeDedicatedHosts is not modelled: the answer after a valid signature
      assert.are.equal(404, resp.status)
      assert.are.equal("InvalidAction.NotFound", body.Code)
    end)

    it("rejects the same request sent again (nonce used)", function()
      local svc = vector_service()
      local req = { method = "GET", path = "/", query = V2_QUERY, headers = {} }
      svc:handle(req)
      local body = H.decode(svc:handle(req))
      assert.are.equal("SignatureNonceUsed", body.Code)
    end)

    it("rejects a tampered parameter and shows the server string to sign", function()
      local svc = vector_service()
      local q = V2_QUERY:gsub("cn%-beijing", "cn-shanghai")
      local resp = svc:handle { method = "GET", path = "/", query = q, headers = {} }
      local body = H.decode(resp)
      assert.are.equal(400, resp.status)
      assert.are.equal("SignatureDoesNotMatch", body.Code)
      local expected = V2_STS:gsub("cn%-beijing", "cn-shanghai")
      assert.are.equal("server string to sign is:" .. expected, body.Message:match("server string to sign is:.*$"))
    end)

    it("computes the published StringToSign (wrong signature echoes it exactly)", function()
      local svc = vector_service()
      local q = V2_QUERY:gsub("9NaGiOspFP5UPcwX8Iwt2YJXXuk%%3D", "AAAAOspFP5UPcwX8Iwt2YJXXuk%%3D")
      local body = H.decode(svc:handle { method = "GET", path = "/", query = q, headers = {} })
      assert.are.equal("SignatureDoesNotMatch", body.Code)
      assert.are.equal(V2_STS, body.Message:match("server string to sign is:(.*)$"))
    end)

    it("rejects the GET vector sent with POST (the method is signed)", function()
      local svc = vector_service()
      local body = H.decode(svc:handle { method = "POST", path = "/", query = V2_QUERY, headers = {} })
      assert.are.equal("SignatureDoesNotMatch", body.Code)
      assert.truthy(body.Message:find("server string to sign is:POST&%2F&", 1, true))
    end)

    it("rejects the vector as expired when the timestamp check is on", function()
      local svc = vector_service(true)
      local body = H.decode(svc:handle { method = "GET", path = "/", query = V2_QUERY, headers = {} })
      assert.are.equal("InvalidTimeStamp.Expired", body.Code)
    end)
  end)

  describe("published V3 vector (reference 4.5 A)", function()
    it("accepts the signature: the request reaches the action check", function()
      local resp = vector_service():handle(v3_vector())
      assert.are.equal(404, resp.status)
      assert.are.equal("InvalidAction.NotFound", H.decode(resp).Code)
    end)

    it("computes the published string to sign (wrong signature echoes it)", function()
      local req = v3_vector()
      req.headers.authorization = req.headers.authorization:gsub("Signature=06563a9e", "Signature=16563a9e")
      local body = H.decode(vector_service():handle(req))
      assert.are.equal("SignatureDoesNotMatch", body.Code)
      assert.are.equal("ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259",
        body.Message:match("server string to sign is:(.*)$"))
      assert.truthy(body.Message:find("x-acs-action:RunInstances\n", 1, true))
    end)

    it("rejects a tampered query parameter", function()
      local req = v3_vector()
      req.query = req.query:gsub("cn%-shanghai", "cn-beijing")
      local body = H.decode(vector_service():handle(req))
      assert.are.equal("SignatureDoesNotMatch", body.Code)
      assert.truthy(body.Message:find("RegionId=cn-beijing", 1, true))
    end)

    it("rejects a body that does not match x-acs-content-sha256", function()
      local req = v3_vector()
      req.body = "RegionId=cn-hangzhou"
      req.headers["content-type"] = "application/x-www-form-urlencoded"
      local body = H.decode(vector_service():handle(req))
      assert.are.equal("IncompleteSignature", body.Code)
      assert.truthy(body.Message:find("x-acs-content-sha256", 1, true))
    end)

    it("rejects an Authorization header that is not well formed", function()
      local req = v3_vector()
      req.headers.authorization = "ACS3-HMAC-SHA256 Credential=YourAccessKeyId"
      assert.are.equal("IncompleteSignature", H.decode(vector_service():handle(req)).Code)
      req = v3_vector()
      req.headers.authorization = req.headers.authorization:gsub("^ACS3%-HMAC%-SHA256", "ACS3-HMAC-SM3")
      assert.are.equal("InvalidSignatureMethod", H.decode(vector_service():handle(req)).Code)
    end)

    it("requires the x-acs headers to be signed", function()
      local req = v3_vector()
      req.headers.authorization = req.headers.authorization:gsub("x%-acs%-signature%-nonce;", "")
      local body = H.decode(vector_service():handle(req))
      assert.are.equal("IncompleteSignature", body.Code)
      assert.truthy(body.Message:find("x-acs-signature-nonce", 1, true))
    end)
  end)

  describe("requests signed by the core", function()
    it("accepts V2 in a form body, V2 in the query and V3", function()
      local svc, clock = H.new()
      local p = { RegionId = "cn-hangzhou" }
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", p)))
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", p, { in_query = true })))
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", p, { method = "GET" })))
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", p, { v3 = true })))
    end)

    it("rejects a wrong secret in both versions", function()
      local svc, clock = H.new()
      local p = { RegionId = "cn-hangzhou" }
      assert.are.equal("SignatureDoesNotMatch", (H.err(svc, clock, "DescribeInstances", p, { secret = "nope" })))
      assert.are.equal("SignatureDoesNotMatch",
        (H.err(svc, clock, "DescribeInstances", p, { secret = "nope", v3 = true })))
    end)

    it("rejects a tampered form body (V2 signs the body parameters)", function()
      local svc = H.new()
      local req = H.v2_request("DescribeInstances", { RegionId = "cn-hangzhou" })
      req.body = req.body:gsub("cn%-hangzhou", "cn-shanghai")
      assert.are.equal("SignatureDoesNotMatch", H.decode(svc:handle(req)).Code)
    end)

    it("rejects a tampered form body in V3 (content hash)", function()
      local svc = H.new()
      local req = H.v3_request("DescribeInstances", { RegionId = "cn-hangzhou" })
      req.body = req.body:gsub("cn%-hangzhou", "cn-shanghai")
      assert.are.equal("IncompleteSignature", H.decode(svc:handle(req)).Code)
    end)

    it("accepts extra credential pairs and refuses unknown AccessKeyIds", function()
      local svc, clock = H.new { credentials = { testid = "testsecret", other = "s3cret" } }
      local p = { RegionId = "cn-hangzhou" }
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", p, { id = "other", secret = "s3cret" })))
      local code, status = H.err(svc, clock, "DescribeInstances", p, { id = "ghost", secret = "x", v3 = true })
      assert.are.equal("InvalidAccessKeyId.NotFound", code)
      assert.are.equal(404, status)
    end)

    it("checks a configured security token and masks it in the echo", function()
      local svc, clock = H.new { credentials = { sts = { secret = "s", security_token = "TOKEN123" } } }
      local p = { RegionId = "cn-hangzhou" }
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", p, { id = "sts", secret = "s", v3 = true,
        token = "TOKEN123" })))
      local code, status, body = H.err(svc, clock, "DescribeInstances", p,
        { id = "sts", secret = "s", v3 = true, token = "OTHER" })
      assert.are.equal("InvalidSecurityToken.MismatchWithAccessKey", code)
      assert.are.equal(400, status)
      assert.falsy(body.Message:find("TOKEN123", 1, true))
      code, status, body = H.err(svc, clock, "DescribeInstances", p, { id = "sts", secret = "bad", v3 = true,
        token = "TOKEN123" })
      assert.are.equal(400, status)
      assert.are.equal("SignatureDoesNotMatch", code)
      assert.falsy(body.Message:find("TOKEN123", 1, true))
    end)

    it("requires the token of an STS pair in V2 (SecurityToken) and V3 (x-acs-security-token)", function()
      local svc, clock = H.new { credentials = { testid = "testsecret",
        ["STS.emu1"] = { secret = "stssecret", security_token = "tok/en+1=" } } }
      local p = { RegionId = "cn-hangzhou" }
      local sts = { id = "STS.emu1", secret = "stssecret" }
      local function with(extra)
        local o = {}
        for k, v in pairs(sts) do o[k] = v end
        for k, v in pairs(extra) do o[k] = v end
        return o
      end
      local tp = { RegionId = "cn-hangzhou", SecurityToken = "tok/en+1=" }
      -- the right token: accepted both ways
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", tp, with {})))
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", p, with { v3 = true, token = "tok/en+1=" })))
      -- missing: InvalidSecurityToken.Malformed (400)
      local code, status, body = H.err(svc, clock, "DescribeInstances", p, with {})
      assert.are.equal("InvalidSecurityToken.Malformed", code)
      assert.are.equal(400, status)
      assert.truthy(body.Message:find("SecurityToken", 1, true))
      code, status = H.err(svc, clock, "DescribeInstances", p, with { v3 = true })
      assert.are.equal("InvalidSecurityToken.Malformed", code)
      assert.are.equal(400, status)
      -- another token: InvalidSecurityToken.MismatchWithAccessKey (400), never echoed
      code, status, body = H.err(svc, clock, "DescribeInstances",
        { RegionId = "cn-hangzhou", SecurityToken = "tok/en+2=" }, with {})
      assert.are.equal("InvalidSecurityToken.MismatchWithAccessKey", code)
      assert.are.equal(400, status)
      assert.falsy(body.Message:find("tok/en", 1, true))
      assert.are.equal("InvalidSecurityToken.MismatchWithAccessKey",
        (H.err(svc, clock, "DescribeInstances", p, with { v3 = true, token = "tok/en+1" })))
      -- a refused token spends no nonce: the same nonce with the right token still works
      assert.are.equal("InvalidSecurityToken.Malformed",
        (H.err(svc, clock, "DescribeInstances", p, with { v3 = true, nonce = "sts-n1" })))
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", p,
        with { v3 = true, nonce = "sts-n1", token = "tok/en+1=" })))
      -- a pair without a token ignores one sent along
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", p, { v3 = true, token = "anything" })))
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances",
        { RegionId = "cn-hangzhou", SecurityToken = "anything" })))
      -- the request log keeps the outcome, never the token
      local log = svc:requests()
      local codes = {}
      for _, e in ipairs(log) do
        codes[#codes + 1] = e.code or e.status
        assert.is_nil(e.params.SecurityToken)
      end
      assert.are.same({ 200, 200, "InvalidSecurityToken.Malformed", "InvalidSecurityToken.Malformed",
        "InvalidSecurityToken.MismatchWithAccessKey", "InvalidSecurityToken.MismatchWithAccessKey",
        "InvalidSecurityToken.Malformed", 200, 200, 200 }, codes)
    end)

    it("adds a pair at run time with set_credential", function()
      local svc, clock = H.new()
      local p = { RegionId = "cn-hangzhou" }
      assert.are.equal("InvalidAccessKeyId.NotFound",
        (H.err(svc, clock, "DescribeInstances", p,
          { id = "STS.late", secret = "late-secret-9", v3 = true, token = "lt" })))
      svc:set_credential("STS.late", "late-secret-9", "lt")
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", p,
        { id = "STS.late", secret = "late-secret-9", v3 = true, token = "lt" })))
      assert.are.equal("InvalidSecurityToken.Malformed",
        (H.err(svc, clock, "DescribeInstances", p, { id = "STS.late", secret = "late-secret-9", v3 = true })))
      svc:set_credential("plain", "ps")
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", p, { id = "plain", secret = "ps" })))
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", p)))
      assert.falsy(tostring(svc):find("late-secret-9", 1, true))
      assert.has_error(function() svc:set_credential("", "s") end,
        "ecs.emulator: set_credential expects a non-empty AccessKeyId")
      assert.has_error(function() svc:set_credential("a", nil) end,
        "ecs.emulator: set_credential expects a non-empty AccessKeySecret")
      assert.has_error(function() svc:set_credential("a", "s", "") end,
        "ecs.emulator: set_credential: the SecurityToken must be a non-empty string when given")
    end)

    it("validates credential options", function()
      assert.has_error(function() H.new { credentials = { a = { secret = "s", security_token = "" } } } end,
        "ecs.emulator.new: credentials[a].security_token must be a non-empty string")
      assert.has_error(function() H.new { credentials = { a = { secret = "s", token = "t" } } } end,
        "ecs.emulator.new: credentials[a]: unknown key 'token'")
      assert.has_error(function() H.new { credentials = { a = { security_token = "t" } } } end,
        "ecs.emulator.new: credentials[a].secret must be a string")
    end)
  end)

  describe("nonces and timestamps", function()
    it("rejects a reused nonce (V2 and V3), but not after a failed signature", function()
      local svc, clock = H.new()
      local p = { RegionId = "cn-hangzhou" }
      assert.are.equal("SignatureDoesNotMatch",
        (H.err(svc, clock, "DescribeInstances", p, { nonce = "n-1", secret = "bad" })))
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", p, { nonce = "n-1" })))
      assert.are.equal("SignatureNonceUsed", (H.err(svc, clock, "DescribeInstances", p, { nonce = "n-1" })))
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", p, { nonce = "n-2", v3 = true })))
      assert.are.equal("SignatureNonceUsed",
        (H.err(svc, clock, "DescribeInstances", p, { nonce = "n-2", v3 = true })))
    end)

    it("accepts 14 minutes of skew and rejects 16, both ways", function()
      local svc, clock = H.new()
      local p = { RegionId = "cn-hangzhou" }
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", p, { time = clock.t - 14 * 60 })))
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", p, { time = clock.t + 14 * 60, v3 = true })))
      assert.are.equal("InvalidTimeStamp.Expired",
        (H.err(svc, clock, "DescribeInstances", p, { time = clock.t - 16 * 60 })))
      assert.are.equal("InvalidTimeStamp.Expired",
        (H.err(svc, clock, "DescribeInstances", p, { time = clock.t + 16 * 60, v3 = true })))
    end)

    it("turns the timestamp check off with check_timestamp = false", function()
      local svc, clock = H.new { check_timestamp = false }
      assert.are.equal(200, (H.call(svc, clock, "DescribeInstances", { RegionId = "cn-hangzhou" },
        { time = clock.t - 86400 * 365 })))
    end)
  end)
end)
