-- What the client signs and sends (client:prepare, no network): V3 by
-- default, V2 with signature_version = "v2"; each signature recomputed here
-- from the request with the core's published-vector-tested functions.
local ecs = require "ecs"
local core = require "ecs.core"

local SECRET, TOKEN = "testsecret-XYZ", "sts-token/with+odd=chars&more"

local function client(extra)
  local cfg = { region = "cn-hangzhou", access_key_id = "LTAItestid", access_key_secret = SECRET }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return ecs.new(cfg)
end

-- Recomputes a V3 Authorization header from a prepared request.
local function verify_v3(req, secret)
  local auth = req.headers.authorization
  local id, signed, sig = auth:match("^ACS3%-HMAC%-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=(%x+)$")
  assert.is_truthy(id, "malformed Authorization: " .. tostring(auth))
  local hs = {}
  for name in signed:gmatch("[^;]+") do
    assert.is_truthy(req.headers[name], "signed header missing: " .. name)
    hs[name] = req.headers[name]
  end
  local cr, signed2 = core.v3_canonical_request(req.method, req.path, {}, hs, core.sha256_hex(req.body))
  assert.are.equal(signed, signed2)
  assert.are.equal(sig, core.v3_signature(secret, core.v3_string_to_sign(cr)))
  return id, signed
end

-- Recomputes a V2 Signature from a prepared form body.
local function verify_v2(req, secret)
  local params = core.parse_query(req.body)
  local sig = params.Signature
  assert.is_truthy(sig, "no Signature in the body")
  params.Signature = nil
  assert.are.equal(sig, core.v2_signature(secret, core.v2_string_to_sign(req.method, params)))
  return params
end

describe("client:prepare with V3 (the default)", function()
  it("signs a form-encoded POST whose Authorization verifies", function()
    local req = client():prepare("InvokeCommand", { CommandId = "c-1", InstanceId = { "i-1", "i-2" },
                                                    Parameters = { name = "Jack" } })
    assert.are.equal("POST", req.method)
    assert.are.equal("/", req.path)
    assert.are.equal("https://ecs.cn-hangzhou.aliyuncs.com/", req.url)
    assert.are.equal("application/x-www-form-urlencoded", req.headers["content-type"])
    local id, signed = verify_v3(req, SECRET)
    assert.are.equal("LTAItestid", id)
    for _, h in ipairs { "host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce",
                         "x-acs-content-sha256", "content-type" } do
      assert.is_truthy((";" .. signed .. ";"):find(";" .. h .. ";", 1, true), h .. " not signed")
    end
    assert.are.equal("InvokeCommand", req.headers["x-acs-action"])
    assert.are.equal("2014-05-26", req.headers["x-acs-version"])
    assert.are.equal(core.sha256_hex(req.body), req.headers["x-acs-content-sha256"])
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", req.headers["x-acs-date"])
    assert.is_true(math.abs(core.parse_timestamp(req.headers["x-acs-date"]) - os.time()) < 5)
  end)

  it("does not verify with another secret", function()
    local req = client():prepare("DescribeInstances", {})
    local ok = pcall(verify_v3, req, SECRET .. "x")
    assert.is_false(ok)
  end)

  it("puts every parameter in the body, with RegionId from the client", function()
    local req = client():prepare("InvokeCommand", { CommandId = "c-1", InstanceId = { "i-1", "i-2" },
                                                    Parameters = { name = "Jack" }, Timeout = 60 })
    local p = core.parse_query(req.body)
    assert.are.equal("c-1", p.CommandId)
    assert.are.equal("i-1", p["InstanceId.1"])
    assert.are.equal("i-2", p["InstanceId.2"])
    assert.are.equal('{"name":"Jack"}', p.Parameters)
    assert.are.equal("60", p.Timeout)
    assert.are.equal("cn-hangzhou", p.RegionId)
    assert.is_nil(p.Signature)
    assert.is_nil(p.AccessKeyId)
  end)

  it("keeps an explicit RegionId", function()
    local p = core.parse_query(client():prepare("DescribeInstances", { RegionId = "cn-beijing" }).body)
    assert.are.equal("cn-beijing", p.RegionId)
  end)

  it("adds a ClientToken to InvokeCommand/RunCommand/CreateCommand/SendFile only, and keeps one given", function()
    local c = client()
    for _, a in ipairs { "InvokeCommand", "RunCommand", "CreateCommand", "SendFile" } do
      local params = { CommandId = "c", InstanceId = { "i-1" }, CommandContent = "ZWNobw==", Type = "RunShellScript",
                       Name = "n", Content = "x", TargetDir = "/tmp" }
      local p = core.parse_query(c:prepare(a, params).body)
      assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", p.ClientToken, a)
    end
    assert.is_nil(core.parse_query(c:prepare("DescribeInstances", {}).body).ClientToken)
    local p = core.parse_query(c:prepare("InvokeCommand", { CommandId = "c", InstanceId = { "i-1" },
                                                            ClientToken = "mine-1" }).body)
    assert.are.equal("mine-1", p.ClientToken)
  end)

  it("uses a fresh nonce for every request", function()
    local c = client()
    local seen = {}
    for _ = 1, 20 do
      local nonce = c:prepare("DescribeInstances", {}).headers["x-acs-signature-nonce"]
      assert.matches("^%x+$", nonce)
      assert.is_true(#nonce >= 16)
      assert.is_nil(seen[nonce])
      seen[nonce] = true
    end
  end)

  it("signs the security token as x-acs-security-token", function()
    local req = client { security_token = TOKEN }:prepare("DescribeInstances", {})
    assert.are.equal(TOKEN, req.headers["x-acs-security-token"])
    local _, signed = verify_v3(req, SECRET)
    assert.is_truthy(signed:find("x-acs-security-token", 1, true))
  end)
end)

describe("client:prepare with V2", function()
  it("signs the form body with HMAC-SHA1 and the common parameters", function()
    local req = client { signature_version = "v2" }:prepare("InvokeCommand", { CommandId = "c-1",
                                                                              InstanceId = { "i-1" } })
    assert.is_nil(req.headers.authorization)
    assert.are.equal("application/x-www-form-urlencoded", req.headers["content-type"])
    local p = verify_v2(req, SECRET)
    assert.are.equal("InvokeCommand", p.Action)
    assert.are.equal("2014-05-26", p.Version)
    assert.are.equal("JSON", p.Format)
    assert.are.equal("LTAItestid", p.AccessKeyId)
    assert.are.equal("HMAC-SHA1", p.SignatureMethod)
    assert.are.equal("1.0", p.SignatureVersion)
    assert.matches("^%x+$", p.SignatureNonce)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", p.Timestamp)
    assert.are.equal("cn-hangzhou", p.RegionId)
    assert.are.equal("c-1", p.CommandId)
  end)

  it("includes SecurityToken in the signed parameters", function()
    local req = client { signature_version = "v2", security_token = TOKEN }:prepare("DescribeInstances", {})
    local p = verify_v2(req, SECRET)
    assert.are.equal(TOKEN, p.SecurityToken)
  end)

  it("reproduces the reference's POST signature of vector A with a fixed nonce and time", function()
    local cl = core.new { endpoint = "https://ecs.cn-beijing.aliyuncs.com", signature_version = "v2",
                          access_key_id = "testid", access_key_secret = "testsecret" }
    local req = cl:prepare("DescribeDedicatedHosts", { RegionId = "cn-beijing" },
      { nonce = "edb2b34af0af9a6d14deaf7c1a5315eb", timestamp = 1678696470 })
    local p = core.parse_query(req.body)
    assert.are.equal("ZvQ9xGiFnquSJRvj+WE6kdSpTwU=", p.Signature)
    assert.are.equal("2023-03-13T08:34:30Z", p.Timestamp)
    assert.are.equal("ecs.cn-beijing.aliyuncs.com", req.host)
    cl:close()
  end)
end)

describe("the C client's prepare", function()
  it("signs V3 with a fixed nonce and time reproducibly", function()
    local cl = core.new { endpoint = "http://127.0.0.1:8080", region = "cn-hangzhou",
                          access_key_id = "testid", access_key_secret = "testsecret" }
    local opts = { nonce = "3156853299f313e23d1673dc12e1703d", timestamp = 1698315752 }
    local a = cl:prepare("RunInstances", { ImageId = "img" }, opts)
    local b = cl:prepare("RunInstances", { ImageId = "img" }, opts)
    assert.are.equal(a.headers.authorization, b.headers.authorization)
    assert.are.equal("2023-10-26T10:22:32Z", a.headers["x-acs-date"])
    assert.are.equal("127.0.0.1:8080", a.host)
    verify_v3(a, "testsecret")
    cl:close()
  end)

  it("raises on unknown options, and when used after close", function()
    assert.has_error(function() core.new { endpoint = "http://127.0.0.1:1", bogus = 1 } end)
    assert.has_error(function() core.new { region = "cn-hangzhou" } end)
    assert.has_error(function() core.new { endpoint = "ftp://x" } end)
    local cl = core.new { endpoint = "http://127.0.0.1:1", access_key_id = "a", access_key_secret = "b" }
    assert.has_error(function() cl:prepare("X", {}, { bogus = 1 }) end)
    cl:close()
    cl:close()
    assert.has_error(function() cl:prepare("X", {}) end)
    assert.are.equal("ecs.core.client(closed)", tostring(cl))
  end)

  it("raises when signing without credentials", function()
    local cl = core.new { endpoint = "http://127.0.0.1:1" }
    local ok, err = pcall(cl.prepare, cl, "DescribeInstances", {})
    assert.is_false(ok)
    assert.matches("credentials", err)
    cl:close()
  end)
end)
