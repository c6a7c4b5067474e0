-- core.decode: HTTP status + body (+ headers) to a result table or an error
-- object (docs/core-api.md "Decoding", "Error objects"; reference §10.1).
local core = require "ecs.core"

local HAS_INTEGERS = math.type ~= nil

describe("core.decode of 2xx JSON", function()
  it("returns the service's table with its own key names", function()
    local r = core.decode(200, '{"RequestId":"473469C7-AA6F-4DC5-B3DB-A3DC0DE3AAAA","InvokeId":"t-7d2a"}')
    assert.are.same({ RequestId = "473469C7-AA6F-4DC5-B3DB-A3DC0DE3AAAA", InvokeId = "t-7d2a" }, r)
    assert.is_nil(getmetatable(r))
  end)

  it("accepts any 2xx status", function()
    assert.are.same({ ok = true }, core.decode(204, '{"ok":true}'))
    assert.are.same({ ok = true }, core.decode(299, '{"ok":true}'))
  end)

  it("turns JSON null into core.null, at any depth", function()
    local r = core.decode(200, '{"A":null,"L":[null,1],"N":{"x":null}}')
    assert.are.equal(core.null, r.A)
    assert.are.equal(core.null, r.L[1])
    assert.are.equal(core.null, r.N.x)
    assert.is_true(r.A ~= nil)
  end)

  it("keeps nested lists and objects", function()
    local r = core.decode(200, '{"Invocation":{"InvokeInstances":{"InvokeInstance":[{"InstanceId":"i-1",'
      .. '"Output":"aGk=","Dropped":0},{"InstanceId":"i-2","ExitCode":1}]}}}')
    local list = r.Invocation.InvokeInstances.InvokeInstance
    assert.are.equal(2, #list)
    assert.are.equal("i-2", list[2].InstanceId)
    assert.are.equal("hi", core.base64_decode(list[1].Output))
  end)

  it("keeps Unicode and decodes \\u escapes to UTF-8", function()
    local r = core.decode(200, '{"s":"中文","e":"\\u4e2d\\u00e9\\ud83d\\ude00"}')
    assert.are.equal("中文", r.s)
    assert.are.equal("\228\184\173\195\169\240\159\152\128", r.e)
  end)

  if HAS_INTEGERS then
    it("gives integers for integral numbers on 5.3+, at any depth, and floats otherwise", function()
      local r = core.decode(200, '{"ExitCode":0,"Size":40,"L":[1,2,{"n":3}],"F":1.5,"E":2e3,"Neg":-7}')
      assert.are.equal("integer", math.type(r.ExitCode))
      assert.are.equal("0", tostring(r.ExitCode))
      assert.are.equal("integer", math.type(r.L[3].n))
      assert.are.equal("integer", math.type(r.L[1]))
      assert.are.equal("integer", math.type(r.E))
      assert.are.equal(2000, r.E)
      assert.are.equal("integer", math.type(r.Neg))
      assert.are.equal("float", math.type(r.F))
    end)
  else
    it("gives plain numbers on Lua 5.1/5.2/LuaJIT", function()
      local r = core.decode(200, '{"ExitCode":0,"F":1.5}')
      assert.are.equal(0, r.ExitCode)
      assert.are.equal("0", tostring(r.ExitCode))
      assert.are.equal(1.5, r.F)
    end)
  end

  it("is not affected by the user's cjson settings", function()
    local cjson = require "cjson"
    local ok = pcall(cjson.decode_max_depth, 2)
    local r = core.decode(200, '{"a":{"b":{"c":{"d":1}}}}')
    if ok then cjson.decode_max_depth(1000) end
    assert.are.equal(1, r.a.b.c.d)
  end)
end)

describe("core.decode of error responses", function()
  local BODY = '{"RequestId":"540CFF28-407A-40B5-B6A5-74B000000000","HostId":"ecs.aliyuncs.com",'
    .. '"Code":"MissingParameter.CommandId","Message":"The input parameter CommandId is not supplied.",'
    .. '"Recommend":"https://api.aliyun.com/troubleshoot?q=MissingParameter.CommandId"}'

  it("fills every field of the error object from a 4xx JSON body", function()
    local headers = { ["x-acs-request-id"] = "540CFF28", date = "Mon, 01 Jan 2024 00:00:00 GMT" }
    local res, err = core.decode(400, BODY, headers, "InvokeCommand")
    assert.is_nil(res)
    assert.are.equal(core.error_mt, getmetatable(err))
    assert.are.equal("MissingParameter.CommandId", err.code)
    assert.are.equal("The input parameter CommandId is not supplied.", err.message)
    assert.are.equal("540CFF28-407A-40B5-B6A5-74B000000000", err.request_id)
    assert.are.equal("ecs.aliyuncs.com", err.host_id)
    assert.are.equal("https://api.aliyun.com/troubleshoot?q=MissingParameter.CommandId", err.recommend)
    assert.are.equal(400, err.http_status)
    assert.are.equal(false, err.retryable)
    assert.are.equal("InvokeCommand", err.action)
    assert.are.same(headers, err.headers)
  end)

  it("marks throttling and 5xx as retryable, parameter errors not", function()
    local cases = {
      { 400, "Throttling.User", true }, { 400, "Throttling", true }, { 503, "ServiceUnavailable", true },
      { 500, "InternalError", true }, { 400, "InvalidParameter", false }, { 404, "InvalidInstanceId.NotFound", false },
      { 403, "Forbidden.RAM", false }, { 400, "SignatureDoesNotMatch", false },
    }
    for _, c in ipairs(cases) do
      local _, err = core.decode(c[1], ('{"Code":"%s","Message":"m","RequestId":"r"}'):format(c[2]))
      assert.are.equal(c[2], err.code)
      assert.are.equal(c[3], err.retryable, c[2])
      assert.are.equal(c[1], err.http_status)
    end
  end)

  it("marks HTTP 429 as retryable whatever the body says, as for non-JSON bodies", function()
    local _, err = core.decode(429, '{"Code":"TooManyRequests","Message":"slow down","RequestId":"r"}')
    assert.are.equal("TooManyRequests", err.code)
    assert.is_true(err.retryable)
    _, err = core.decode(429, "Too Many Requests")
    assert.is_true(err.retryable)
  end)

  it("reads lowercase code/message keys and keeps AccessDeniedDetail", function()
    local _, err = core.decode(403, '{"code":"Forbidden.RAM","message":"denied","requestId":"r-1",'
      .. '"AccessDeniedDetail":{"PolicyType":"AccountLevelIdentityBasedPolicy","NoPermissionType":"ImplicitDeny"}}')
    assert.are.equal("Forbidden.RAM", err.code)
    assert.are.equal("denied", err.message)
    assert.are.equal("r-1", err.request_id)
    assert.are.equal("ImplicitDeny", err.access_denied_detail.NoPermissionType)
  end)

  it("still gives an error object when a JSON error body has no Code", function()
    local _, err = core.decode(500, '{"RequestId":"r-2"}')
    assert.are.equal(core.error_mt, getmetatable(err))
    assert.are.equal("string", type(err.code))
    assert.are.equal("r-2", err.request_id)
    assert.are.equal(500, err.http_status)
  end)

  it("gives Response.NotJSON with the status and a short excerpt for a non-JSON body", function()
    local xml = '<?xml version="1.0"?><Error><Code>Throttling</Code></Error>'
    local res, err = core.decode(400, xml, { ["content-type"] = "text/xml" }, "RunCommand")
    assert.is_nil(res)
    assert.are.equal("Response.NotJSON", err.code)
    assert.are.equal(400, err.http_status)
    assert.are.equal("RunCommand", err.action)
    assert.is_truthy(err.message:find(xml, 1, true))
    assert.are.equal("text/xml", err.headers["content-type"])
  end)

  it("cuts the excerpt to 200 bytes and replaces control bytes", function()
    local body = "\0\1\27[31m" .. string.rep("x", 1000) .. "SECRETTAIL"
    local _, err = core.decode(502, body)
    assert.are.equal("Response.NotJSON", err.code)
    assert.is_true(err.retryable)
    assert.is_nil(err.message:find("SECRETTAIL", 1, true))
    assert.is_nil(err.message:find("[%z\1-\31\127]"))
    assert.is_true(#err.message < 300, "message is " .. #err.message .. " bytes")
  end)

  it("treats a 2xx body that is not a JSON object as an error", function()
    for _, body in ipairs { "not json", "<html></html>", "null", '"a string"', "{truncated" } do
      local res, err = core.decode(200, body)
      assert.is_nil(res, body)
      assert.are.equal("Response.NotJSON", err.code, body)
      assert.are.equal(200, err.http_status)
    end
  end)

  it("reports an empty body with its status", function()
    for _, status in ipairs { 200, 404, 503 } do
      local res, err = core.decode(status, "")
      assert.is_nil(res)
      assert.are.equal(core.error_mt, getmetatable(err))
      assert.matches("^Response%.", err.code)
      assert.are.equal(status, err.http_status)
      assert.matches("empty", err.message)
    end
  end)

  it("raises on wrong argument types", function()
    assert.has_error(function() core.decode("x", "{}") end)
    assert.has_error(function() core.decode(200, "{}", "headers") end)
  end)
end)
