-- V2 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256) signatures through the Lua
-- functions of the core, against every published vector of reference §3.7
-- and §4.5.
local core = require "ecs.core"

local function b64(raw) return core.base64_encode(raw) end

describe("V2 signature (§3.7)", function()
  local A = {
    AccessKeyId = "testid", Action = "DescribeDedicatedHosts", Version = "2014-05-26", Format = "JSON",
    RegionId = "cn-beijing", SignatureMethod = "HMAC-SHA1", SignatureVersion = "1.0",
    SignatureNonce = "edb2b34af0af9a6d14deaf7c1a5315eb", Timestamp = "2023-03-13T08:34:30Z",
  }

  it("A: DescribeDedicatedHosts, GET", function()
    local sts = core.v2_string_to_sign("GET", A)
    assert.are.equal("GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeDedicatedHosts%26Format%3DJSON"
      .. "%26RegionId%3Dcn-beijing%26SignatureMethod%3DHMAC-SHA1"
      .. "%26SignatureNonce%3Dedb2b34af0af9a6d14deaf7c1a5315eb%26SignatureVersion%3D1.0"
      .. "%26Timestamp%3D2023-03-13T08%253A34%253A30Z%26Version%3D2014-05-26", sts)
    assert.are.equal("9NaGiOspFP5UPcwX8Iwt2YJXXuk=", core.v2_signature("testsecret", sts))
  end)

  it("A with POST gives the reference's own check value", function()
    local sts = core.v2_string_to_sign("POST", A)
    assert.are.equal("POST&%2F&", sts:sub(1, 9))
    assert.are.equal("ZvQ9xGiFnquSJRvj+WE6kdSpTwU=", core.v2_signature("testsecret", sts))
  end)

  it("B: DescribeRegions, GET", function()
    local sts = core.v2_string_to_sign("GET", {
      AccessKeyId = "testid", Action = "DescribeRegions", Version = "2014-05-26", Format = "XML",
      SignatureMethod = "HMAC-SHA1", SignatureVersion = "1.0",
      SignatureNonce = "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", Timestamp = "2016-02-23T12:46:24Z",
    })
    assert.are.equal("GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
      .. "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
      .. "%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26", sts)
    local sig = core.v2_signature("testsecret", sts)
    assert.are.equal("OLeaidS1JvxuMvnyHOwuJ+uX5qY=", sig)
    assert.are.equal("OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D", core.percent_encode(sig))
  end)

  it("C: darabonba Python test_get_rpc_signature", function()
    local sts = core.v2_string_to_sign("GET", { query = "test", body = "test" })
    assert.are.equal("GET&%2F&body%3Dtest%26query%3Dtest", sts)
    assert.are.equal("XlUyV4sXjOuX5FnjUz9IF9tm5rU=", core.v2_signature("secret", sts))
  end)

  it("C: darabonba Go Test_GetRPCSignature (empty method)", function()
    local sts = core.v2_string_to_sign("", { test = "ok" })
    assert.are.equal("&%2F&test%3Dok", sts)
    assert.are.equal("jHx/oHoHNrbVfhncHEvPdHXZwHU=", core.v2_signature("accessKeySecret", sts))
  end)

  it("C: Java RpcSignatureComposerTest string to sign", function()
    assert.are.equal("GET&%2F&queryKey1%3DqueryValue1%26queryKey2%3DqueryValue2",
      core.v2_string_to_sign("GET", { queryKey1 = "queryValue1", queryKey2 = "queryValue2" }))
  end)

  it("C: raw HMAC-SHA1 vectors (key used as given)", function()
    assert.are.equal("Jv4yi8SobFhg5t1C7nWLbhBSFZQ=", b64(core.hmac_sha1("secret", "source")))
    assert.are.equal("szlfHs3WVaO/HgY3Cg7/uyXDaRw=", b64(core.hmac_sha1("secret", "中文unicode")))
    assert.are.equal("7eV3A584uvdgKVk8Ck8r9ukg1gE=", b64(core.hmac_sha1("sk#$!~~~", "abc~!@#")))
  end)

  it("v2_signature keys HMAC-SHA1 with secret .. '&'", function()
    assert.are.equal(b64(core.hmac_sha1("s3cret&", "data")), core.v2_signature("s3cret", "data"))
    assert.are_not.equal(b64(core.hmac_sha1("s3cret", "data")), core.v2_signature("s3cret", "data"))
  end)

  it("raises on wrong argument types", function()
    assert.has_error(function() core.v2_string_to_sign("GET", "x") end)
    assert.has_error(function() core.v2_signature(nil, "x") end)
  end)
end)

describe("V3 signature (§4.5)", function()
  local EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

  it("D: sha256_hex vectors", function()
    assert.are.equal("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", core.sha256_hex("test"))
    assert.are.equal(EMPTY, core.sha256_hex(""))
  end)

  it("A: RunInstances, POST (official doc example)", function()
    local cr, signed = core.v3_canonical_request("POST", "/", {
      ImageId = "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd", RegionId = "cn-shanghai",
    }, {
      host = "ecs.cn-shanghai.aliyuncs.com", ["x-acs-action"] = "RunInstances", ["x-acs-version"] = "2014-05-26",
      ["x-acs-date"] = "2023-10-26T10:22:32Z", ["x-acs-signature-nonce"] = "3156853299f313e23d1673dc12e1703d",
      ["x-acs-content-sha256"] = EMPTY,
      Accept = "application/json", ["User-Agent"] = "not signed",
    }, EMPTY)
    local expect_signed = "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
    assert.are.equal(table.concat({
      "POST", "/", "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai",
      "host:ecs.cn-shanghai.aliyuncs.com", "x-acs-action:RunInstances", "x-acs-content-sha256:" .. EMPTY,
      "x-acs-date:2023-10-26T10:22:32Z", "x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d",
      "x-acs-version:2014-05-26", "", expect_signed, EMPTY }, "\n"), cr)
    assert.are.equal(expect_signed, signed)
    local sts = core.v3_string_to_sign(cr)
    assert.are.equal("ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259", sts)
    assert.are.equal("06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0",
      core.v3_signature("YourAccessKeySecret", sts))
  end)

  local B_HEADERS = { { "x-acs-test", "http" }, { "x-acs-TEST", "https" } }
  local B_HASH = "55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23"

  it("B: darabonba Python test_get_authorization (duplicate headers joined)", function()
    local cr, signed = core.v3_canonical_request("GET", "/", { test = "ok", empty = "" }, B_HEADERS, B_HASH)
    assert.are.equal("GET\n/\nempty=&test=ok\nx-acs-test:http,https\n\nx-acs-test\n" .. B_HASH, cr)
    assert.are.equal("x-acs-test", signed)
    assert.are.equal("d16b30a7699ae9e43875b13195b2f81bcc3ed10c14a9b5eb780e51619aa50be1",
      core.v3_signature("secret", core.v3_string_to_sign(cr)))
  end)

  it("C: darabonba Go Test_GetAuthorization (empty method)", function()
    local cr = core.v3_canonical_request("", "/", { test = "ok", empty = "" }, B_HEADERS, B_HASH)
    assert.are.equal("\n/\n", cr:sub(1, 3))
    assert.are.equal("4ab59fffe3c5738ff8a2729f90cc04fe18b02a4b15b2102cbaf92f9ff3df2ea3",
      core.v3_signature("secret", core.v3_string_to_sign(cr)))
  end)

  it("trims header values, lowercases names and keeps content-type", function()
    local cr, signed = core.v3_canonical_request("POST", "/", {}, {
      ["Content-Type"] = "  application/x-www-form-urlencoded ", ["X-Acs-Action"] = " A ", Accept = "x",
    }, EMPTY)
    assert.are.equal("POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nx-acs-action:A\n\n"
      .. "content-type;x-acs-action\n" .. EMPTY, cr)
    assert.are.equal("content-type;x-acs-action", signed)
  end)

  it("v3_signature is lowercase hex HMAC-SHA256 keyed with the bare secret", function()
    local raw = core.hmac_sha256("k", "data")
    local hex = raw:gsub(".", function(c) return ("%02x"):format(c:byte()) end)
    assert.are.equal(hex, core.v3_signature("k", "data"))
    assert.are.equal(64, #hex)
  end)

  it("raises on a bad headers argument", function()
    assert.has_error(function() core.v3_canonical_request("GET", "/", {}, { { "x-acs-a" } }, EMPTY) end)
    assert.has_error(function() core.v3_canonical_request("GET", "/", {}, nil, EMPTY) end)
  end)
end)
