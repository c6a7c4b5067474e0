-- The emulator's parts alone: script model, frequency check, lifecycle,
-- JSON encoder, clock formatting, ids, paging tokens, request log.
local script = require "ecs.emulator.script"
local schedule = require "ecs.emulator.schedule"
local lifecycle = require "ecs.emulator.lifecycle"
local json = require "ecs.emulator.json"
local clock = require "ecs.emulator.clock"
local ids = require "ecs.emulator.ids"
local faults = require "ecs.emulator.faults"
local requestlog = require "ecs.emulator.requestlog"

describe("emulator parts", function()
  describe("script", function()
    it("interprets echo, sleep and exit", function()
      local r = script.run('echo "hello world"\n# comment\nsleep 2.5\nWrite-Output x\nunknown cmd\nexit 4\necho no')
      assert.are.equal(4, r.exit_code)
      assert.are.equal(2.5, r.duration)
      assert.are.same({ { at = 0, text = "hello world\n" }, { at = 2.5, text = "x\n" } }, r.events)
      assert.are.equal("hello world\n", script.output(r, 1))
      assert.are.equal("hello world\nx\n", script.output(r))
    end)
    it("defaults to exit code 0 and handles Windows forms", function()
      local r = script.run("@echo off\r\necho hi\r\ntimeout /t 3\r\nStart-Sleep -Seconds 2\r\nexit /b 1")
      assert.are.equal(1, r.exit_code)
      assert.are.equal(5, r.duration)
      assert.are.equal("hi\n", script.output(r))
      assert.are.equal(0, script.run("echo").exit_code)
      assert.are.equal("\n", script.output(script.run("echo")))
    end)
    it("finds and substitutes parameters", function()
      assert.are.same({ "a", "B" }, script.parameter_names("{{a}} {{ B }} {{ACS::InstanceId}} {{A}}"))
      assert.are.equal("CmdParam.EmptyKey", select(2, script.parameter_names("{{ }}")))
      assert.are.equal("CmdParam.InvalidParamName", select(2, script.parameter_names("{{a.b}}")))
      assert.are.equal("x 1 i-1 {{c}}", script.substitute("x {{ a }} {{ACS::InstanceId}} {{c}}", { a = "1" },
        { InstanceId = "i-1" }))
    end)
  end)

  describe("schedule", function()
    local valid = { "0 */20 * * * ?", "0 15 10 ? * *", "0 0 10,14,16 * * ?", "0 0/30 9-17 * * ?", "0 0 12 ? * WED",
      "0 15 10 L * ?", "0 15 10 ? * 6L", "0 15 10 ? * 6#3", "0 10,44 14 ? 3 WED", "0 15 10 ? * * 2022 Asia/Shanghai",
      "0 0/30 10-11 * * ? 2022 GMT+8:00", "0 0/5 14 * 10 ? 2022/2 UTC", "0 15 08 ? * * 2022", "rate(5m)",
      "rate(7d)", "at(2022-06-06 13:15:30 Asia/Shanghai)", "at(2022-06-06 13:15:30 GMT-7:00)",
      "at(2022-06-06 13:15:30)" }
    local invalid = { "0 15 008 ? * * 2022", "*/5 * * * *", "0 15 10 ? * * 2022 GMT+08:00", "rate(30s)", "rate(8d)",
      "*/5 * * * * ?", "0 0 25 * * ?", "0 0 12 5 * WED", "rate(5 m)", "at(2022-06-06)", "", "0 0 12 ? * 8" }
    for _, e in ipairs(valid) do
      it("accepts " .. e, function() assert.is_true((schedule.syntax(e, 60))) end)
    end
    for _, e in ipairs(invalid) do
      it("refuses '" .. e .. "'", function()
        local ok, msg = schedule.syntax(e, 60)
        assert.is_false(ok)
        assert.are.equal("string", type(msg))
      end)
    end
    it("requires a rate longer than the Timeout", function()
      assert.is_false((schedule.syntax("rate(2m)", 120)))
      assert.are.equal(120, select(3, schedule.syntax("rate(2m)", 60)))
    end)
    it("checks at the emulator's time when ecs.frequency is present", function()
      assert.is_true((schedule.check("0 0 12 ? * * 2030", 60, 1795812000)))
      local has_frequency = pcall(require, "ecs.frequency")
      assert.are.equal(not has_frequency, (schedule.check("at(2022-06-06 13:15:30)", 60, 1795812000)))
      assert.is_true((schedule.check("at(2022-06-06 13:15:30)", 60, 1654000000)))
    end)
  end)

  describe("lifecycle", function()
    local timing = { run = 1 }
    local function rec(text, timeout)
      return { created = 0, start = 1, run = script.run(text), timeout = timeout or 60 }
    end
    it("moves through the states by time", function()
      local r = rec("echo a\nsleep 5\necho b")
      assert.are.equal("Pending", lifecycle.view(r, 0.5, timing).status)
      local v = lifecycle.view(r, 3, timing)
      assert.are.equal("Running", v.status)
      assert.are.equal("a\n", v.output)
      v = lifecycle.view(r, 7, timing)
      assert.are.equal("Success", v.status)
      assert.are.equal(7, v.finish_time)
      assert.are.equal("a\nb\n", v.output)
    end)
    it("times out, cancels and terminates", function()
      assert.are.equal("Timeout", lifecycle.view(rec("sleep 20", 10), 100, timing).status)
      local r = rec("echo a\nsleep 20")
      r.stop_at = 0.5
      assert.are.equal("Cancelled", lifecycle.view(r, 100, timing).status)
      r = rec("echo a\nsleep 20")
      r.stop_at = 5
      local v = lifecycle.view(r, 100, timing)
      assert.are.equal("Terminated", v.status)
      assert.are.equal("a\n", v.output)
      assert.are.equal("Running", lifecycle.view(r, 4, timing).status)
    end)
    it("aggregates task status", function()
      assert.are.equal("Running", (lifecycle.aggregate { "Success", "Running" }))
      assert.are.equal("Pending", (lifecycle.aggregate { "Pending", "Running" }))
      assert.are.equal("Success", (lifecycle.aggregate { "Success", "Cancelled" }))
      assert.are.equal("PartialFailed", (lifecycle.aggregate { "Success", "Timeout" }))
      assert.are.equal("Failed", (lifecycle.aggregate { "Aborted", "Failed" }))
      assert.are.equal("Stopped", (lifecycle.aggregate { "Cancelled", "Terminated" }))
      assert.are.equal("Finished", select(2, lifecycle.aggregate { "Success" }))
    end)
  end)

  describe("json", function()
    it("encodes deterministically with explicit arrays", function()
      assert.are.equal('{"a":[],"b":{},"c":[1,2.5,"x\\n"],"d":true,"e":3}',
        json.encode_sorted { e = 3, d = true, c = { 1, 2.5, "x\n" }, b = {}, a = json.array() })
      assert.are.equal('"\\u0001\\"\\\\"', json.encode_sorted('\1"\\'))
      assert.has_error(function() json.encode_sorted { [1.5] = 1 } end)
      assert.has_error(function() json.encode_sorted(0 / 0) end)
    end)
    it("encodes answers fast with empty arrays kept as []", function()
      local v = { a = json.array(), b = { c = json.array(), d = json.array({ "x" }) }, e = "\0emu", n = 3 }
      assert.are.same({ a = {}, b = { c = {}, d = { "x" } }, e = "\0emu", n = 3 }, json.decode(json.encode(v)))
      local text = json.encode { a = json.array(), b = { c = json.array() } }
      assert.truthy(text:find('"a":[]', 1, true))
      assert.truthy(text:find('"c":[]', 1, true))
      assert.are.equal("[]", json.encode(json.array()))
      local urls = json.encode { u = "https://x/y", b = "a\\/c" }
      assert.truthy(urls:find('"u":"https://x/y"', 1, true))
      assert.truthy(urls:find('"b":"a\\\\/c"', 1, true))
      assert.are.same({ b = "a\\/c" }, json.decode(json.encode { b = "a\\/c" }))
      assert.has_error(function() json.encode { f = print } end)
    end)
    it("decodes or returns nil, message", function()
      assert.are.same({ a = { 1, 2 } }, json.decode('{"a":[1,2]}'))
      local v, err = json.decode("{oops")
      assert.is_nil(v)
      assert.are.equal("string", type(err))
    end)
  end)

  describe("clock", function()
    it("formats and parses times", function()
      assert.are.equal("Thu, 01 Jan 1970 00:00:00 GMT", clock.http_date(0))
      assert.are.equal("2026-11-27T20:40:00Z", clock.iso(1795812000.7))
      assert.are.equal(1795812000, clock.parse_iso("2026-11-27T20:40:00Z"))
      assert.are.equal(951782400, clock.parse_iso("2000-02-29T00:00:00.123Z"))
      assert.is_nil(clock.parse_iso("2026-11-27 20:40:00"))
      assert.is_nil(clock.parse_iso("2026-13-27T20:40:00Z"))
    end)
    it("runs the simulated clock faster and forward", function()
      local t = 100
      local c = clock.new(function() return t end, 10)
      t = 101
      assert.are.equal(101, c:wall())
      assert.are.equal(110, c:sim())
      c:advance(5)
      assert.are.equal(115, c:sim())
    end)
  end)

  describe("ids and faults", function()
    it("generates the same ids for the same seed", function()
      local a, b = ids.new(5), ids.new(5)
      assert.are.equal(a:request_id(), b:request_id())
      assert.matches("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x+$", a:request_id())
      assert.are.equal(32, #a:hex(32))
    end)
    it("picks deterministic rules per action", function()
      local f = faults.new({ { kind = "throttle", action = "A", first = 1 } }, 1)
      assert.is_nil(f:pick("B"))
      assert.are.equal("throttle", f:pick("A").kind)
      assert.is_nil(f:pick("A"))
    end)
  end)

  describe("request log", function()
    it("keeps the newest entries within its limit, without secrets", function()
      local log = requestlog.new(2)
      log:add("A", "v2", { Signature = "s", SecurityToken = "t", X = "1" }, 0)
      log:add("B", "v3", {}, 1)
      log:add("C", "v3", {}, 2)
      local l = log:list()
      assert.are.equal(2, #l)
      assert.are.equal("B", l[1].action)
      assert.are.equal(3, l[2].seq)
      assert.are.equal(1, #log:list(2))
    end)
  end)
end)
