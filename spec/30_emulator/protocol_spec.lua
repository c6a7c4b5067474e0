-- Common protocol errors: missing common parameters, Version, Action,
-- methods, paths, the error body and the response headers.
local H = require "30_emulator.emu_helper"
local core = H.core

local function v2_flat(action, drop)
  local flat = { Action = action, Version = "2014-05-26", Format = "JSON", AccessKeyId = "testid",
    SignatureMethod = "HMAC-SHA1", SignatureVersion = "1.0", SignatureNonce = core.random_hex(8),
    Timestamp = core.timestamp(H.T0), RegionId = "cn-hangzhou" }
  if drop then flat[drop] = nil end
  flat.Signature = core.v2_signature("testsecret", core.v2_string_to_sign("GET", flat))
  return flat
end

local function send(svc, flat)
  return svc:handle { method = "GET", path = "/", query = core.canonical_query(flat), headers = {} }
end

describe("emulator protocol errors", function()
  for _, name in ipairs { "Action", "Version", "AccessKeyId", "SignatureMethod", "SignatureVersion",
    "SignatureNonce", "Signature" } do
    it("reports a missing " .. name, function()
      local svc = H.new()
      local flat = v2_flat("DescribeInstances")
      flat[name] = nil
      local resp = send(svc, flat)
      local body = H.decode(resp)
      assert.are.equal(400, resp.status)
      assert.are.equal("Missing" .. name, body.Code)
      assert.truthy(body.Message:find(name, 1, true))
    end)
  end

  it("reports a missing or malformed Timestamp", function()
    local svc = H.new()
    local flat = v2_flat("DescribeInstances")
    flat.Timestamp = nil
    assert.are.equal("IllegalTimestamp", H.decode(send(svc, flat)).Code)
    flat = v2_flat("DescribeInstances")
    flat.Timestamp = "2026/11/27 20:40"
    assert.are.equal("InvalidTimeStamp.Format", H.decode(send(svc, flat)).Code)
  end)

  it("reports missing V3 headers", function()
    local svc = H.new()
    local req = H.v3_request("DescribeInstances", { RegionId = "cn-hangzhou" })
    req.headers["x-acs-signature-nonce"] = nil
    local body = H.decode(svc:handle(req))
    assert.are.equal("MissingParameter", body.Code)
    assert.truthy(body.Message:find("x-acs-signature-nonce", 1, true))
    req = H.v3_request("DescribeInstances", { RegionId = "cn-hangzhou" })
    req.headers["x-acs-date"] = nil
    assert.are.equal("IllegalTimestamp", H.decode(svc:handle(req)).Code)
  end)

  it("rejects a wrong Version in V2 and V3", function()
    local svc, clock = H.new()
    local code, status = H.err(svc, clock, "DescribeInstances", { RegionId = "cn-hangzhou", Version = "2016-03-14" })
    assert.are.equal("InvalidVersion", code)
    assert.are.equal(400, status)
    assert.are.equal("InvalidVersion", (H.err(svc, clock, "DescribeInstances", { RegionId = "cn-hangzhou" },
      { v3 = true, version = "2015-01-01" })))
  end)

  it("rejects an unknown Action with 404", function()
    local svc, clock = H.new()
    local code, status = H.err(svc, clock, "InvokeCommands", { RegionId = "cn-hangzhou" })
    assert.are.equal("InvalidAction.NotFound", code)
    assert.are.equal(404, status)
    assert.are.equal("InvalidAction.NotFound", (H.err(svc, clock, "invokecommand", {}, { v3 = true })))
  end)

  it("rejects an unsupported SignatureMethod", function()
    local svc = H.new()
    local flat = v2_flat("DescribeInstances")
    flat.SignatureMethod = "HMAC-SHA256"
    assert.are.equal("InvalidSignatureMethod", H.decode(send(svc, flat)).Code)
  end)

  it("rejects other HTTP methods and other paths", function()
    local svc = H.new()
    local resp = svc:handle { method = "PUT", path = "/", query = "", headers = {} }
    assert.are.equal(403, resp.status)
    assert.are.equal("UnsupportedHTTPMethod", H.decode(resp).Code)
    resp = svc:handle { method = "GET", path = "/v2/x", query = "", headers = {} }
    assert.are.equal(404, resp.status)
  end)

  it("returns the documented error body and headers", function()
    local svc, clock = H.new()
    local status, body, resp = H.call(svc, clock, "DescribeInvocations", {}, { host = "ecs.cn-hangzhou.aliyuncs.com" })
    assert.are.equal(400, status)
    assert.are.equal("MissingParameter.RegionId", body.Code)
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", body.RequestId)
    assert.are.equal("ecs.cn-hangzhou.aliyuncs.com", body.HostId)
    assert.truthy(body.Message:find("RegionId", 1, true))
    assert.are.equal("https://api.aliyun.com/troubleshoot?q=MissingParameter.RegionId&product=Ecs&requestId="
      .. body.RequestId, body.Recommend)
    assert.are.equal("application/json;charset=utf-8", resp.headers["content-type"])
    assert.are.equal(body.RequestId, resp.headers["x-acs-request-id"])
  end)

  it("sends a Date header from the emulator clock", function()
    local svc, clock = H.new()
    local _, _, resp = H.call(svc, clock, "DescribeInstances", { RegionId = "cn-hangzhou" })
    assert.are.equal("Fri, 27 Nov 2026 20:40:00 GMT", resp.headers.date)
    clock.t = clock.t + 3661
    _, _, resp = H.call(svc, clock, "DescribeInstances", { RegionId = "cn-hangzhou" })
    assert.are.equal("Fri, 27 Nov 2026 21:41:01 GMT", resp.headers.date)
  end)

  it("runs its wall clock clock_offset seconds away: Date header and timestamp window", function()
    local svc, clock = H.new { clock_offset = 3600 }
    local p = { RegionId = "cn-hangzhou" }
    local code, _, body = H.err(svc, clock, "DescribeInstances", p)
    assert.are.equal("InvalidTimeStamp.Expired", code)
    assert.truthy(body.Message:find("15 minutes", 1, true))
    local status, _, resp = H.call(svc, clock, "DescribeInstances", p, { time = clock.t + 3600 })
    assert.are.equal(200, status)
    assert.are.equal("Fri, 27 Nov 2026 21:40:00 GMT", resp.headers.date)
    -- the error answer carries the skewed Date too, so a client can correct from it
    local _, _, eresp = H.call(svc, clock, "DescribeInstances", p)
    assert.are.equal("Fri, 27 Nov 2026 21:40:00 GMT", eresp.headers.date)
    -- the lifecycle clock starts at the skewed wall clock; changing the offset later leaves it alone
    assert.are.equal(H.T0 + 3600, svc:now())
    assert.are.equal(3600, svc:clock_offset())
    svc:set_clock_offset(-600)
    assert.are.equal(-600, svc:clock_offset())
    assert.are.equal(H.T0 + 3600, svc:now())
    status, _, resp = H.call(svc, clock, "DescribeInstances", p)
    assert.are.equal(200, status)
    assert.are.equal("Fri, 27 Nov 2026 20:30:00 GMT", resp.headers.date)
    assert.are.equal("InvalidTimeStamp.Expired", (H.err(svc, clock, "DescribeInstances", p,
      { time = clock.t + 3600, v3 = true })))
    assert.has_error(function() svc:set_clock_offset("1h") end,
      "ecs.emulator: set_clock_offset expects a finite number of seconds")
    assert.has_error(function() svc:set_clock_offset(math.huge) end)
    assert.has_error(function() H.new { clock_offset = "3600" } end,
      "ecs.emulator.new: option 'clock_offset' must be a number, got string")
    assert.has_error(function() H.new { clock_offset = 0 / 0 } end,
      "ecs.emulator.new: option 'clock_offset' must be a finite number of seconds")
  end)

  it("rejects an unknown region", function()
    local svc, clock = H.new()
    local code, status = H.err(svc, clock, "DescribeInstances", { RegionId = "mars-north-1" })
    assert.are.equal("InvalidRegionId.NotFound", code)
    assert.are.equal(404, status)
  end)

  it("does not put secrets into the request log", function()
    local svc, clock = H.new { credentials = { sts = { secret = "s", security_token = "TOKEN123" } } }
    H.ok(svc, clock, "DescribeInstances", { RegionId = "cn-hangzhou", SecurityToken = "TOKEN123" },
      { id = "sts", secret = "s" })
    local log = svc:requests()
    assert.are.equal(1, #log)
    assert.are.equal("DescribeInstances", log[1].action)
    assert.are.equal("cn-hangzhou", log[1].params.RegionId)
    assert.is_nil(log[1].params.Signature)
    assert.is_nil(log[1].params.SecurityToken)
    assert.are.equal(200, log[1].status)
  end)

  it("validates its options", function()
    local emulator = require "ecs.emulator"
    assert.has_error(function() emulator.new { colour = "red" } end,
      "ecs.emulator.new: unknown option 'colour'")
    assert.has_error(function() emulator.new { time_scale = "fast" } end,
      "ecs.emulator.new: option 'time_scale' must be a number, got string")
    assert.has_error(function() emulator.new { faults = { { kind = "boom" } } } end)
    assert.has_error(function() emulator.new { fleet = "/nonexistent/fleet.json" } end)
    assert.has_error(function() emulator.new():handle("GET /") end)
  end)

  it("turns a Lua error inside an action into 500 InternalError", function()
    local emulator = require "ecs.emulator"
    local saved = emulator.ACTIONS.DescribeRegions
    emulator.ACTIONS.DescribeRegions = function() error("boom") end
    local svc, clock = H.new()
    local ok, status, body = pcall(H.call, svc, clock, "DescribeRegions", {})
    emulator.ACTIONS.DescribeRegions = saved
    assert.is_true(ok)
    assert.are.equal(500, status)
    assert.are.equal("InternalError", body.Code)
    assert.truthy(body.Message:find("boom", 1, true))
    assert.are.equal(200, (H.call(svc, clock, "DescribeRegions", {})))
  end)

  it("never prints a secret in tostring", function()
    local svc = H.new { credentials = { id1 = "verysecret" } }
    assert.falsy(tostring(svc):find("verysecret", 1, true))
  end)
end)
