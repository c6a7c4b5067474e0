-- json_encode, base64, digests, random bytes, timestamps, and the module's
-- constant fields.
local core = require "ecs.core"

describe("core.json_encode", function()
  it("writes compact JSON with object keys sorted by byte order", function()
    assert.are.equal('{"A":1,"a":{"x":[true,false],"y":"s"},"b":{}}',
      core.json_encode { b = {}, a = { y = "s", x = { true, false } }, A = 1 })
    assert.are.equal('{"A":1,"B":2,"a":3,"b":4}', core.json_encode { b = 4, a = 3, B = 2, A = 1 })
  end)

  it("writes scalars, core.null and numbers like flatten", function()
    assert.are.equal('"x"', core.json_encode("x"))
    assert.are.equal("true", core.json_encode(true))
    assert.are.equal("null", core.json_encode(core.null))
    assert.are.equal("[10,0.5,-3,1e+300]", core.json_encode { 10.0, 0.5, -3, 1e300 })
  end)

  it("escapes quotes, backslashes and control bytes, and leaves UTF-8 and / alone", function()
    assert.are.equal('"a\\"b\\\\c\\n\\r\\t\\b\\f\\u0000\\u0001\\u007f/中文"',
      core.json_encode("a\"b\\c\n\r\t\b\f\0\1\127/中文"))
  end)

  it("reads back equal through cjson", function()
    local cjson = require "cjson"
    local v = { name = "Jack", list = { 1, 2.5, "x" }, nested = { deep = { deeper = "yes" } }, flag = false }
    assert.are.same(v, cjson.decode(core.json_encode(v)))
  end)

  it("raises on values JSON cannot carry", function()
    assert.has_error(function() core.json_encode(print) end)
    assert.has_error(function() core.json_encode { x = 0 / 0 } end)
    assert.has_error(function() core.json_encode { 1, x = 2 } end)
    local t = {}
    t[1] = t
    local ok, err = pcall(core.json_encode, t)
    assert.is_false(ok)
    assert.matches("cycle", err)
  end)
end)

describe("core.base64", function()
  local RFC4648 = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==", fooba = "Zm9vYmE=",
                    foobar = "Zm9vYmFy" }

  it("encodes and decodes the RFC 4648 vectors", function()
    for plain, enc in pairs(RFC4648) do
      assert.are.equal(enc, core.base64_encode(plain))
      assert.are.equal(plain, core.base64_decode(enc))
    end
  end)

  it("round-trips every byte value", function()
    local all = {}
    for b = 0, 255 do all[#all + 1] = string.char(b) end
    local s = table.concat(all)
    assert.are.equal(s, core.base64_decode(core.base64_encode(s)))
    assert.are.equal(344, #core.base64_encode(s))
  end)

  it("returns nil and a message on bad input", function()
    local v, msg = core.base64_decode("a?b=")
    assert.is_nil(v)
    assert.are.equal("string", type(msg))
    assert.is_nil((core.base64_decode("Zm9v\0")))
  end)
end)

describe("core digests and random bytes", function()
  it("hmac_sha256 matches RFC 4231 test case 2", function()
    local raw = core.hmac_sha256("Jefe", "what do ya want for nothing?")
    local hex = raw:gsub(".", function(c) return ("%02x"):format(c:byte()) end)
    assert.are.equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", hex)
  end)

  it("random_hex gives 2n lowercase hex digits, different each time", function()
    local a, b = core.random_hex(16), core.random_hex(16)
    assert.matches("^[0-9a-f]+$", a)
    assert.are.equal(32, #a)
    assert.are_not.equal(a, b)
    assert.are.equal(2, #core.random_hex(1))
    assert.are.equal(128, #core.random_hex(64))
  end)

  it("uuid gives distinct version-4 UUIDs (the ClientToken format)", function()
    local seen = {}
    for _ = 1, 1000 do
      local u = core.uuid()
      assert.matches("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$", u)
      assert.is_nil(seen[u])
      seen[u] = true
    end
  end)

  it("random_hex raises outside 1..64 bytes", function()
    assert.has_error(function() core.random_hex(0) end)
    assert.has_error(function() core.random_hex(65) end)
  end)
end)

describe("core timestamps", function()
  it("formats epoch seconds as yyyy-MM-ddTHH:mm:ssZ in UTC", function()
    assert.are.equal("1970-01-01T00:00:00Z", core.timestamp(0))
    assert.are.equal("2023-03-13T08:34:30Z", core.timestamp(1678696470))
    assert.are.equal("2023-03-13T08:34:30Z", core.timestamp(1678696470.9))
    assert.are.equal("2000-02-29T00:00:00Z", core.timestamp(951782400))
    assert.are.equal("2016-02-23T12:46:24Z", core.timestamp(1456231584))
  end)

  it("defaults to now", function()
    local s = core.timestamp()
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", s)
    assert.is_true(math.abs(core.parse_timestamp(s) - os.time()) <= 2)
  end)

  it("raises on NaN or an out-of-range epoch", function()
    assert.has_error(function() core.timestamp(0 / 0) end)
    assert.has_error(function() core.timestamp(1e18) end)
  end)

  it("parses what it formats, fractions too", function()
    for _, t in ipairs { 0, 951782400, 1678696470, 4102444799 } do
      assert.are.equal(t, core.parse_timestamp(core.timestamp(t)))
    end
    assert.are.equal(1678696470.25, core.parse_timestamp("2023-03-13T08:34:30.25Z"))
  end)

  it("returns nil for malformed or impossible timestamps", function()
    for _, s in ipairs { "garbage", "", "2023-03-13 08:34:30Z", "2023-03-13T08:34:30", "2023-13-13T08:34:30Z",
                         "2023-02-30T00:00:00Z", "2001-02-29T00:00:00Z", "2023-03-13T24:00:00Z",
                         "2023-03-13T08:60:00Z" } do
      assert.is_nil(core.parse_timestamp(s), s)
    end
  end)

  it("parses HTTP dates (the Date header used for clock-skew correction)", function()
    assert.are.equal(784111777, core.parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"))
    assert.is_nil(core.parse_http_date("yesterday"))
  end)
end)

describe("core module fields", function()
  it("has the API version, a version string, null and the error metatable", function()
    assert.are.equal("2014-05-26", core.API_VERSION)
    assert.matches("^%d+%.%d+%.%d+", core._VERSION)
    assert.are.equal("userdata", type(core.null))
    assert.are.equal("function", type(core.error_mt.__tostring))
  end)

  it("lists one method per Cloud Assistant action, snake_case of the action", function()
    local want = { "InvokeCommand", "RunCommand", "CreateCommand", "DescribeCommands", "ModifyCommand",
                   "DeleteCommand", "DescribeInvocations", "DescribeInvocationResults", "StopInvocation",
                   "DescribeCloudAssistantStatus", "DescribeInstances", "SendFile", "DescribeSendFileResults" }
    local have = {}
    for _, a in ipairs(core.actions) do
      local snake = a.action:gsub("(%l)(%u)", "%1_%2"):lower()
      assert.are.equal(snake, a.method)
      have[a.action] = true
    end
    for _, action in ipairs(want) do assert.is_true(have[action], action) end
    assert.are.equal(#want, #core.actions)
  end)
end)
