-- Error objects: core.new_error, core.error_mt, tostring, and ecs.errors on top.
local core = require "ecs.core"
local errors = require "ecs.errors"

describe("error objects", function()
  it("new_error gives the table back with the error metatable", function()
    local t = { code = "X" }
    local e = core.new_error(t)
    assert.are.equal(t, e)
    assert.are.equal(core.error_mt, getmetatable(e))
    assert.has_error(function() core.new_error("x") end)
  end)

  it("tostring reads like a log line: action, code, status, message, RequestId", function()
    local e = core.new_error { action = "InvokeCommand", code = "Throttling.User", http_status = 400,
                               message = "Request was denied due to user flow control.",
                               request_id = "4734-AA" }
    assert.are.equal("InvokeCommand: Throttling.User (HTTP 400): Request was denied due to user flow control."
      .. " [RequestId 4734-AA]", tostring(e))
  end)

  it("tostring adds the attempt count after retries and leaves out absent parts", function()
    assert.are.equal("Network.Timeout: timed out (after 3 attempts)",
      tostring(core.new_error { code = "Network.Timeout", message = "timed out", attempts = 3 }))
    assert.are.equal("Network.Timeout: timed out",
      tostring(core.new_error { code = "Network.Timeout", message = "timed out", attempts = 1 }))
    assert.are.equal("X", tostring(core.new_error { code = "X" }))
    assert.are.equal("Error", tostring(core.new_error {}))
  end)

  it("tostring shows no field other than action, code, status, message, RequestId", function()
    local e = core.new_error { code = "C", message = "m", headers = { authorization = "ACS3-HMAC-SHA256 SIG" },
                               host_id = "h", recommend = "https://r", curl_code = 7,
                               secret = "s3cr3t", access_key_secret = "s3cr3t" }
    local s = tostring(e)
    assert.is_nil(s:find("s3cr3t", 1, true))
    assert.is_nil(s:find("SIG", 1, true))
  end)

  it("the decoded error of a service response tostrings from its fields", function()
    local _, err = core.decode(400, '{"Code":"InvalidParameter","Message":"bad","RequestId":"R-1"}', nil,
      "RunCommand")
    assert.are.equal("RunCommand: InvalidParameter (HTTP 400): bad [RequestId R-1]", tostring(err))
  end)

  it("ecs.errors.new shares the metatable and defaults retryable to false", function()
    local e = errors.new { code = "Local.Thing", message = "m" }
    assert.are.equal(core.error_mt, getmetatable(e))
    assert.are.equal(false, e.retryable)
    assert.is_true(errors.is_error(e))
    assert.is_true(errors.is_error(select(2, core.decode(500, "x"))))
    assert.is_false(errors.is_error({ code = "X" }))
    assert.is_false(errors.is_error("X"))
    assert.is_false(errors.is_error(nil))
  end)

  it("ecs.errors.invalid marks local validation failures", function()
    local e = errors.invalid("InvalidParameter.Timeout", "Timeout: 5 seconds", "InvokeCommand")
    assert.are.same({ code = "InvalidParameter.Timeout", message = "Timeout: 5 seconds", action = "InvokeCommand",
                      retryable = false, ["local"] = true }, setmetatable(e, nil))
  end)
end)
