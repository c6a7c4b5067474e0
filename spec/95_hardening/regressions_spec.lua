-- Regression specs for the bad-input bugs fixed in checks, frequency,
-- zoneinfo and the emulator (each found by bad_input_spec.lua).
local frequency = require "ecs.frequency"
local zoneinfo = require "ecs.zoneinfo"
local checks = require "ecs.checks"
local emulator = require "ecs.emulator"
local S = require "95_hardening.support"

local function raises(pattern, fn, ...)
  local o = S.call(5, fn, ...)
  assert.are.equal("raise", o.kind, "expected a raise, got " .. o.kind)
  assert.is_nil(S.internal_error(o.message), o.message)
  assert.is_truthy(o.message:find(pattern), ("%q does not match %q"):format(o.message, pattern))
  assert.is_true(#o.message < 1000)
  return o.message
end

describe("regressions", function()
  describe("frequency", function()
    it("next() rejects a NaN or infinite 'from' (it looped forever)", function()
      for _, v in ipairs { 0 / 0, math.huge, -math.huge, 1e300 } do
        raises("option 'from' must be a finite number", frequency.next, "0 0 2 * * ?", { from = v })
      end
      raises("option 'start' must be a finite number", frequency.next, "rate(5m)", { start = 0 / 0 })
      assert.are.same({ 1700000000 + 300 }, frequency.next("rate(5m)", { from = 1700000000 }))
    end)

    it("validate() rejects an infinite timeout with a message, not a format() failure", function()
      raises("option 'timeout' must be a finite number", frequency.validate, "0 0 2 * * ?", { timeout = math.huge })
      raises("option 'now' must be a finite number", frequency.validate, "0 0 2 * * ?", { now = 0 / 0 })
    end)

    it("at() names a date-table field that is missing (it failed comparing nil)", function()
      raises("field 'year' must be a whole number, got nil", frequency.at, { month = 1, day = 1 })
      raises("field 'day' must be a whole number, got nil", frequency.at, { year = 2030, month = 1 })
      assert.are.equal("at(2030-01-02 03:04:05)",
        frequency.at { year = 2030, month = 1, day = 2, hour = 3, minute = 4, second = 5 })
    end)

    it("builders reject numbers beyond 2^53 with a message (format('%d') failed on 1e300)", function()
      raises("must be a positive whole number", frequency.rate, 1e300, "m")
      raises("hour must be a whole number", frequency.daily, { hour = 1e300 })
    end)

    it("zone() rejects options that are not a table", function()
      raises("opts must be a table, got number", frequency.zone, "Asia/Shanghai", 5)
    end)

    it("a 10 MB expression or field fails at once with a short message", function()
      local huge = S.huge()
      local o = S.call(1, frequency.validate, huge)
      assert.are.equal("nil_err", o.kind)
      assert.is_truthy(o.err:find("longer than any schedule", 1, true))
      raises("longer than any cron field", frequency.daily, { hour = huge })
      raises("longer than any schedule", frequency.cron, huge)
      local msg = raises("frequency.rate", frequency.rate, 5, huge)
      assert.is_truthy(msg:find("bytes)", 1, true))
    end)
  end)

  describe("zoneinfo", function()
    it("get() checks its options", function()
      raises("opts must be a table, got number", zoneinfo.get, "Asia/Shanghai", 5)
      raises("option 'dir' must be a string, got table", zoneinfo.get, "Asia/Shanghai", { dir = {} })
    end)

    it("zone methods reject a time that is not a number, NaN or past year 9999 (1e300 looped)", function()
      local z = assert(zoneinfo.get("America/New_York"))
      raises("time must be a number of epoch seconds", z.offset, z, "x")
      raises("time must be a number of epoch seconds", z.to_wall, z, 0 / 0)
      raises("time must be a number of epoch seconds", z.offset, z, 1e300)
      raises("wall time must be a finite number", z.from_wall, z, {})
      assert.are.equal(-18000, (z:offset(1700000000)))
    end)

    it("a 10 MB zone name is refused by its size; parsers take wrong types as nil, err", function()
      local _, err = zoneinfo.get(S.huge())
      assert.is_truthy(err:find("byte name is not a time zone name", 1, true))
      assert.is_true(#err < 200)
      local z, perr = zoneinfo.parse_tzif(nil, {})
      assert.is_nil(z)
      assert.is_truthy(perr:find("TZif data must be a string", 1, true))
      z, perr = zoneinfo.parse_gmt(42)
      assert.is_nil(z)
      assert.is_truthy(perr:find("non-empty string", 1, true))
    end)
  end)

  describe("checks", function()
    local base = { CommandId = "c-1", InstanceId = { "i-1" } }
    local function with(extra)
      local p = {}
      for k, v in pairs(base) do p[k] = v end
      for k, v in pairs(extra) do p[k] = v end
      return p
    end

    it("Timeout NaN, infinity or a fraction fails locally (NaN passed 't < 10')", function()
      for _, v in ipairs { 0 / 0, math.huge, 10.5 } do
        local out, err = checks.check("InvokeCommand", with { Timeout = v })
        assert.is_nil(out)
        assert.are.equal("InvalidParameter.Timeout", err.code)
        assert.is_truthy(err.message:find("whole number of at least 10", 1, true))
      end
      assert.is_table((checks.check("InvokeCommand", with { Timeout = 10 })))
    end)

    it("a ContentEncoding that is not a string is an error, not a crash", function()
      local out, err = checks.check("RunCommand", { Type = "RunShellScript", InstanceId = { "i-1" },
                                                    CommandContent = "ls", ContentEncoding = 42 })
      assert.is_nil(out)
      assert.are.equal("InvalidParameter.ContentEncoding", err.code)
      assert.is_truthy(err.message:find("ContentEncoding", 1, true))
    end)

    it("KeepCommand = 'false' (the wire form of false) gets the 24 KB limit", function()
      local content = string.rep("a", 17 * 1024) -- 23,212 bytes once Base64-encoded
      local p = { Type = "RunShellScript", InstanceId = { "i-1" }, CommandContent = content, KeepCommand = "false" }
      assert.is_table((checks.check("RunCommand", p)))
      p.KeepCommand = "true"
      local out, err = checks.check("RunCommand", p)
      assert.is_nil(out)
      assert.are.equal("CmdContent.ExceedLimit", err.code)
    end)
  end)

  describe("emulator", function()
    it("new() rejects NaN and infinite numbers and a bad request_log_limit", function()
      raises("option 'time_scale' must be a finite number", emulator.new, { time_scale = 0 / 0 })
      raises("option 'seed' must be a finite number", emulator.new, { seed = math.huge })
      raises("request_log_limit' must be a whole number", emulator.new, { request_log_limit = -1 })
      raises("quota.daily_invocations must be a non%-negative number", emulator.new,
        { quota = { daily_invocations = math.huge } })
      raises("timing.run must be a non%-negative number", emulator.new, { timing = { run = 0 / 0 } })
      raises("clock_offset' must be a finite number of seconds", emulator.new, { clock_offset = 1e300 })
    end)

    it("a fleet table without 'instances' and with named keys is refused (it loaded an empty fleet)", function()
      raises("unknown key 'hosts'", emulator.new, { fleet = { hosts = {} } })
      local svc = emulator.new { fleet = { instances = emulator.generate_fleet { count = 2 }.instances } }
      assert.is_truthy(tostring(svc):find("instances=2", 1, true))
    end)

    it("generate_fleet bounds count (infinity looped until memory ran out) and checks every option", function()
      raises("'count' must be a whole number from 0 to", emulator.generate_fleet, { count = math.huge })
      raises("'running' must be a fraction from 0 to 1", emulator.generate_fleet, { count = 1, running = "x" })
      raises("'regions' must list region IDs", emulator.generate_fleet, { count = 1, regions = { {} } })
      raises("'prefix' must be a string", emulator.generate_fleet, { count = 1, prefix = {} })
      raises("'seed' must be a finite number", emulator.generate_fleet, { count = 1, seed = 0 / 0 })
      assert.are.equal(3, #emulator.generate_fleet({ count = 3 }).instances)
    end)

    it("handle() answers a request with a field of the wrong type with 400 naming it (it raised)", function()
      local svc = emulator.new {}
      for field, v in pairs { path = 42, method = {}, query = true, body = 1, headers = "x" } do
        local resp = svc:handle { [field] = v }
        assert.are.equal(400, resp.status)
        assert.is_truthy(resp.body:find("'" .. field .. "' must be", 1, true), resp.body)
      end
      local resp = svc:handle { method = "POST", path = "/", headers = { [1] = "x" } }
      assert.are.equal(400, resp.status)
    end)

    it("advance, set_clock_offset and requests check their arguments (1e300 broke every later call)", function()
      local svc = emulator.new {}
      raises("advance expects a non%-negative number", svc.advance, svc, 1e300)
      raises("advance expects a non%-negative number", svc.advance, svc, 0 / 0)
      raises("set_clock_offset expects a finite number", svc.set_clock_offset, svc, 1e300)
      raises("requests expects 'since' to be a sequence number", svc.requests, svc, true)
      raises("requests expects 'action' to be an action name", svc.requests, svc, 0, 5)
      assert.is_table(svc:state())
    end)

    it("a missing fleet file named by a 10 MB path gives a short message", function()
      local msg = raises("cannot open", emulator.new, { fleet = S.huge() })
      assert.is_true(#msg < 1000)
    end)
  end)
end)
