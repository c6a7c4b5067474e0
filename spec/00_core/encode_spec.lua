-- Percent-encoding, canonical query and form parsing (reference §3.2, §3.3),
-- checked against the published SDK vectors.
local core = require "ecs.core"

describe("core.percent_encode", function()
  it("matches the Java SDK vector (AcsURLEncoderTest)", function()
    assert.are.equal("123abc%21%40%23%24%25%5E%26%2A%28%29-%3D_%2B%20~%7C%5C%2F",
      core.percent_encode("123abc!@#$%^&*()-=_+ ~|\\/"))
  end)

  it("matches the darabonba vector (leading space, ~ kept, * and / encoded)", function()
    assert.are.equal("%20~%2F%2A-%2B", core.percent_encode(" ~/*-+"))
  end)

  it("keeps exactly the unreserved set and encodes every other byte in uppercase hex", function()
    for b = 0, 255 do
      local c = string.char(b)
      local got = core.percent_encode(c)
      if c:match("^[A-Za-z0-9%-_%.~]$") then
        assert.are.equal(c, got)
      else
        assert.are.equal(("%%%02X"):format(b), got)
      end
    end
  end)

  it("encodes UTF-8 byte by byte and keeps embedded NUL", function()
    assert.are.equal("%E4%B8%AD%E6%96%87", core.percent_encode("中文"))
    assert.are.equal("a%00b", core.percent_encode("a\0b"))
    assert.are.equal("", core.percent_encode(""))
  end)

  it("round-trips through percent_decode, which leaves + alone", function()
    local s = "123abc!@#$%^&*()-=_+ ~|\\/\0中文"
    assert.are.equal(s, core.percent_decode(core.percent_encode(s)))
    assert.are.equal("a+b c", core.percent_decode("a+b%20c"))
    assert.are.equal("~", core.percent_decode("%7e"))
  end)

  it("raises naming the argument on a wrong type", function()
    assert.has_error(function() core.percent_encode({}) end)
    local ok, err = pcall(core.percent_encode)
    assert.is_false(ok)
    assert.matches("#1", err)
  end)
end)

describe("core.canonical_query", function()
  it("matches the darabonba vector", function()
    assert.are.equal("test=%20~%2F%2A-%2B", core.canonical_query { test = " ~/*-+" })
  end)

  it("gives the published V2 canonical query of DescribeDedicatedHosts (§3.7 A)", function()
    assert.are.equal("AccessKeyId=testid&Action=DescribeDedicatedHosts&Format=JSON&RegionId=cn-beijing"
      .. "&SignatureMethod=HMAC-SHA1&SignatureNonce=edb2b34af0af9a6d14deaf7c1a5315eb&SignatureVersion=1.0"
      .. "&Timestamp=2023-03-13T08%3A34%3A30Z&Version=2014-05-26",
      core.canonical_query {
        AccessKeyId = "testid", Action = "DescribeDedicatedHosts", Format = "JSON", RegionId = "cn-beijing",
        SignatureMethod = "HMAC-SHA1", SignatureNonce = "edb2b34af0af9a6d14deaf7c1a5315eb",
        SignatureVersion = "1.0", Timestamp = "2023-03-13T08:34:30Z", Version = "2014-05-26",
      })
  end)

  it("sorts by byte order: uppercase first, InstanceId.10 before InstanceId.2", function()
    assert.are.equal("B=1&InstanceId.1=a&InstanceId.10=j&InstanceId.2=b&a=2",
      core.canonical_query { a = "2", B = "1", ["InstanceId.2"] = "b", ["InstanceId.10"] = "j",
                             ["InstanceId.1"] = "a" })
  end)

  it("writes empty values as name= and an empty table as an empty string", function()
    assert.are.equal("empty=&test=ok", core.canonical_query { test = "ok", empty = "" })
    assert.are.equal("", core.canonical_query {})
  end)

  it("encodes names too", function()
    assert.are.equal("a%20b=c%2Ad", core.canonical_query { ["a b"] = "c*d" })
  end)

  it("formats scalar values like flatten (booleans, integers)", function()
    assert.are.equal("A=true&B=false&C=10", core.canonical_query { A = true, B = false, C = 10 })
  end)

  it("raises naming the key on a value it cannot send", function()
    local ok, err = pcall(core.canonical_query, { Bad = {} })
    assert.is_false(ok)
    assert.matches("Bad", err)
    ok, err = pcall(core.canonical_query, { [1] = "x" })
    assert.is_false(ok)
    assert.matches("name", err)
  end)
end)

describe("core.parse_query", function()
  it("decodes names and values, + as space in forms", function()
    assert.are.same({ a = "1 2", b = " x", ["c d"] = "~*" }, core.parse_query("a=1+2&b=%20x&c%20d=~%2A"))
  end)

  it("keeps the last of a repeated name, and empty or missing values as empty strings", function()
    local t = core.parse_query("a=1&a=3&c&d=")
    assert.are.equal("3", t.a)
    assert.are.equal("", t.c)
    assert.are.equal("", t.d)
  end)

  it("reads back what canonical_query writes", function()
    local flat = { Parameters = '{"name":"Jack & Jill"}', CommandContent = "echo 'hi' + 1 = ~%",
                   ["InstanceId.1"] = "i-1", Empty = "", Unicode = "中文\0nul" }
    assert.are.same(flat, core.parse_query(core.canonical_query(flat)))
  end)

  it("gives an empty table for an empty string", function()
    assert.are.same({}, core.parse_query(""))
  end)
end)
