-- Builders, describe and check_request.
local frequency = require "ecs.frequency"
local support = require "40_frequency.support"

local NOW = support.utc("2026-11-27 12:00:00")

local function raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok)
  assert.matches(pattern, tostring(err), 1, true)
end

describe("frequency builders", function()
  it("rate(n, unit)", function()
    assert.equals("rate(5m)", frequency.rate(5, "m"))
    assert.equals("rate(120s)", frequency.rate(120, "seconds"))
    assert.equals("rate(2h)", frequency.rate(2, "Hours"))
    assert.equals("rate(7d)", frequency.rate(7, "day"))
    raises("below the minimum of 60 s", frequency.rate, 30, "s")
    raises("longer than the maximum of 7 days", frequency.rate, 8, "d")
    raises("positive whole number", frequency.rate, 1.5, "h")
    raises("positive whole number", frequency.rate, "5", "m")
    raises("unit must be", frequency.rate, 5, "w")
  end)

  it("at(epoch, zone) formats the instant in the zone", function()
    local t = support.utc("2022-06-06 05:15:30")
    assert.equals("at(2022-06-06 13:15:30 Asia/Shanghai)", frequency.at(t, "Asia/Shanghai"))
    assert.equals("at(2022-06-06 13:15:30 GMT+8:00)", frequency.at(t, "GMT+08:00"))
    assert.equals("at(2022-06-06 13:15:30 GMT+8:00)", frequency.at(t, 8))
    assert.equals("at(2022-06-05 22:15:30 GMT-7:00)", frequency.at(t, -7))
    assert.equals("at(2022-06-06 10:45:30 GMT+5:30)", frequency.at(t, 5.5))
    assert.equals("at(2022-06-06 05:15:30)", frequency.at(t))
    assert.equals("at(2022-06-06 05:15:30 UTC)", frequency.at(t, "UTC"))
    assert.equals("at(2022-06-06 05:15:30 UTC)", frequency.at(t, 0))
  end)

  it("at(table | string, zone) keeps the wall time", function()
    assert.equals("at(2022-06-06 13:15:30 Asia/Shanghai)",
      frequency.at({ year = 2022, month = 6, day = 6, hour = 13, min = 15, sec = 30 }, "Asia/Shanghai"))
    assert.equals("at(2022-06-06 13:15:00)", frequency.at({ year = 2022, month = 6, day = 6, hour = 13, minute = 15 }))
    assert.equals("at(2022-06-06 13:15:30 Europe/Berlin)", frequency.at("2022-06-06T13:15:30", "Europe/Berlin"))
    assert.equals("at(2022-06-06 13:15:30 UTC)", frequency.at("2022-06-06T13:15:30Z"))
    assert.equals("at(2022-06-06 13:15:30 GMT+8:00)", frequency.at("2022-06-06 13:15:30+08:00"))
    assert.equals("at(2022-06-06 13:15:30 GMT-3:30)", frequency.at("2022-06-06 13:15:30-03:30"))
    raises("carries zone GMT+8:00 but zone UTC", frequency.at, "2022-06-06 13:15:30+08:00", "UTC")
    raises("day 31 is out of range 1-30", frequency.at, { year = 2022, month = 6, day = 31 })
    raises("must look like", frequency.at, "June 6")
    raises("not a known IANA time zone", frequency.at, 0, "Asia/Atlantis")
    raises("only abbreviation accepted", frequency.at, "2022-06-06 13:15:30", "CST")
    raises("time must be", frequency.at, true)
  end)

  it("cron(spec, zone) from a string or a table", function()
    assert.equals("0 */20 * * * ?", frequency.cron("0 */20 * * * ?"))
    assert.equals("0 */20 * * * ? Asia/Shanghai", frequency.cron("0 */20 * * * ?", "Asia/Shanghai"))
    assert.equals("0 */20 * * * ?", frequency.cron({ second = 0, minute = "*/20" }))
    assert.equals("0 0 2 * * ?", frequency.cron({ hour = 2 }))
    assert.equals("0 30 * * * ?", frequency.cron({ minute = 30 }))
    assert.equals("0 */15 9-17 ? * MON,WED GMT+8:00",
      frequency.cron({ weekday = { "monday", "Wed" }, hour = "9-17", minute = "*/15" }, 8))
    assert.equals("0 0 12 L 2 ? 2030", frequency.cron({ hour = 12, day = "L", month = 2, year = 2030 }))
    assert.equals("0 0 0 ? * 6#3", frequency.cron({ hour = 0, day_of_week = "6#3" }))
    assert.equals("0 0 0 1,15 JAN ?", frequency.cron({ hour = 0, day_of_month = { 1, 15 }, month = "january" }))
    raises("day-of-week: '8' is out of range 1-7 (1 = Monday)", frequency.cron, { hour = 0, weekday = 8 })
    raises("not both", frequency.cron, { hour = 0, day = 1, weekday = 1 })
    raises("unknown cron field 'minutes'", frequency.cron, { minutes = 5 })
    raises("already has a zone", frequency.cron, "0 0 0 * * ? UTC", "UTC")
    raises("is not a cron expression", frequency.cron, "rate(5m)")
    raises("the seconds field is mandatory", frequency.cron, "*/5 * * * *")
    raises("spec must be", frequency.cron, 5)
  end)

  it("daily, weekly, monthly", function()
    assert.equals("0 30 2 * * ?", frequency.daily { hour = 2, minute = 30 })
    assert.equals("15 30 2 * * ? Europe/Berlin", frequency.daily { hour = 2, minute = 30, second = 15,
      zone = "Europe/Berlin" })
    assert.equals("0 0 9 ? * MON", frequency.weekly { day = "monday", hour = 9 })
    assert.equals("0 0 9 ? * 1", frequency.weekly { day = 1, hour = 9 })
    assert.equals("0 0 9 ? * SAT,SUN GMT+8:00", frequency.weekly { day = { "sat", "sun" }, hour = 9, zone = 8 })
    assert.equals("0 30 23 LW * ?", frequency.monthly { day = "LW", hour = 23, minute = 30 })
    raises("hour is required", frequency.daily, {})
    raises("day is required", frequency.weekly, { hour = 1 })
    raises("day-of-week: '8' is out of range 1-7 (1 = Monday)", frequency.weekly, { day = 8, hour = 1 })
    raises("hour: '24' is out of range 0-23", frequency.daily, { hour = 24 })
    raises("unknown option 'minutes'", frequency.daily, { hour = 1, minutes = 5 })
    raises("expected a table", frequency.daily, 5)
  end)

  it("builds strings that validate", function()
    for _, expr in ipairs({ frequency.rate(5, "m"), frequency.daily { hour = 2, zone = "Asia/Shanghai" },
      frequency.weekly { day = "fri", hour = 18 }, frequency.at("2030-01-01 00:00:00", 8) }) do
      assert.is_true((frequency.validate(expr, { now = NOW })))
    end
  end)
end)

describe("frequency.describe", function()
  local CASES = {
    { "0 */20 * * * ?", "at second 0, every 20 minutes, every day (instance time zone)" },
    { "0 15 10 ? * *", "at 10:15:00, every day (instance time zone)" },
    { "0 0 10,14,16 * * ? UTC", "at 10:00:00, 14:00:00 and 16:00:00, every day (UTC)" },
    { "0 0/30 9-17 * * ?", "at second 0, every 30 minutes, during hours 9 through 17, every day (instance time zone)" },
    { "0 0 12 ? * WED", "at 12:00:00, on Wednesday (instance time zone)" },
    { "0 15 10 L * ?", "at 10:15:00, on the last day of the month (instance time zone)" },
    { "0 15 10 ? * 6L", "at 10:15:00, on the last Saturday of the month (instance time zone)" },
    { "0 15 10 ? * 6#3", "at 10:15:00, on the 3rd Saturday of the month (instance time zone)" },
    { "0 0 2 LW * ?", "at 02:00:00, on the last weekday (Monday to Friday) of the month (instance time zone)" },
    { "0 0 2 15W * ?", "at 02:00:00, on the weekday (Monday to Friday) nearest day 15 of the month "
      .. "(instance time zone)" },
    { "0 0 2 ? * MON-FRI", "at 02:00:00, on Monday through Friday (instance time zone)" },
    { "0 10,44 14 ? 3 WED", "at second 0, at minutes 10 and 44, during hour 14, on Wednesday, in March "
      .. "(instance time zone)" },
    { "0 15 10 ? * * 2022 Asia/Shanghai", "at 10:15:00, every day, in 2022 (Asia/Shanghai)" },
    { "*/10 * * * * ?", "every 10 seconds, every day (instance time zone)" },
    { "rate(5m)", "every 5 minutes" },
    { "rate(1h)", "every hour" },
    { "at(2022-06-06 13:15:30 Asia/Shanghai)", "once at 2022-06-06 13:15:30 Asia/Shanghai" },
    { "at(2022-06-06 13:15:30)", "once at 2022-06-06 13:15:30 UTC" },
  }
  for _, case in ipairs(CASES) do
    it(case[1], function() assert.equals(case[2], frequency.describe(case[1])) end)
  end

  it("returns nil, err for a bad expression", function()
    local text, err = frequency.describe("0 0 0 ? * 8")
    assert.is_nil(text)
    assert.equals("day-of-week: '8' is out of range 1-7 (1 = Monday)", err)
  end)
end)

describe("frequency.check_request", function()
  it("translates the legacy Timed = true and removes Timed", function()
    local params = { CommandId = "c-1", InstanceId = { "i-1" }, Timed = true, Frequency = "0 0-5 14 * * ?" }
    local out, warnings = frequency.check_request(params, { now = NOW })
    assert.equals("Period", out.RepeatMode)
    assert.is_nil(out.Timed)
    assert.equals(params.InstanceId, out.InstanceId)
    assert.is_true(params.Timed) -- the caller's table is left alone
    assert.matches("has no time zone", warnings[1], 1, true)
    out = frequency.check_request({ CommandId = "c-1", Timed = false }, { now = NOW })
    assert.is_nil(out.Timed)
    assert.is_nil(out.RepeatMode)
  end)

  it("names the zone a cron without zone runs in when it is known", function()
    local _, warnings = frequency.check_request({ Frequency = "0 0 2 * * ?" },
      { now = NOW, instance_zone = "Asia/Shanghai" })
    assert.same({ "Frequency '0 0 2 * * ?' has no time zone: it runs in the instance's system time zone "
      .. "(Asia/Shanghai)" }, warnings)
    _, warnings = frequency.check_request({ Frequency = "0 0 2 * * ? Asia/Shanghai" }, { now = NOW })
    assert.same({}, warnings)
    _, warnings = frequency.check_request({ Frequency = "0 0 2 * * ?" }, { now = NOW, instance_zone = "GMT+08:00" })
    assert.matches("^instance_zone: zone: 'GMT%+08:00' has a leading zero", warnings[1])
  end)

  it("validates Frequency with Timeout, or the default timeout", function()
    local out, err = frequency.check_request({ Frequency = "0 * * * * ?", Timeout = 120 }, { now = NOW })
    assert.is_nil(out)
    assert.equals("Frequency: cron: fires 60 s apart at the closest, shorter than Timeout (120 s); "
      .. "the interval must not be shorter than Timeout", err)
    out, err = frequency.check_request({ Frequency = "rate(1m)" }, { now = NOW, default_timeout = 60 })
    assert.is_nil(out)
    assert.equals("Frequency: rate: interval 1m (60 s) must be longer than Timeout (60 s)", err)
    out = frequency.check_request({ Frequency = "rate(1m)", Timeout = 30 }, { now = NOW, default_timeout = 60 })
    assert.equals("rate(1m)", out.Frequency)
    local code
    out, err, code = frequency.check_request({ Frequency = "rate(5m)", Timeout = 5 }, { now = NOW })
    assert.is_nil(out)
    assert.matches("^Timeout: must be a whole number of seconds >= 10", err)
    assert.equals("InvalidParam.Timeout", code)
  end)

  it("fails locally on a bad expression with the clear message", function()
    local out, err, code = frequency.check_request({ Frequency = "0 0 10 * * ? GMT+08:00" }, { now = NOW })
    assert.is_nil(out)
    assert.equals("InvalidParam.Frequency", code)
    assert.equals("Frequency: zone: 'GMT+08:00' has a leading zero in the hour; write GMT+8:00 "
      .. "(the service rejects GMT+08:00)", err)
    out, err = frequency.check_request({ Frequency = 5 })
    assert.is_nil(out)
    assert.equals("Frequency: must be a string, got number", err)
  end)

  it("requires Frequency for RepeatMode Period, and warns when RepeatMode is overridden", function()
    local out, err, code = frequency.check_request({ RepeatMode = "Period" })
    assert.is_nil(out)
    assert.equals("Frequency: required when RepeatMode is 'Period'", err)
    assert.equals("MissingParam.Frequency", code)
    out, err = frequency.check_request({ Timed = true })
    assert.is_nil(out)
    assert.matches("required when RepeatMode is 'Period'", err, 1, true)
    local warnings
    out, warnings = frequency.check_request({ RepeatMode = "Once", Frequency = "rate(5m)" }, { now = NOW })
    assert.equals("Once", out.RepeatMode)
    assert.matches("is overridden", warnings[1], 1, true)
    out = frequency.check_request({ RepeatMode = "Once" })
    assert.equals("Once", out.RepeatMode)
  end)

  it("returns the validation info for agent-version checks", function()
    local _, _, info = frequency.check_request({ Frequency = "rate(5m)" }, { now = NOW })
    assert.same({ "rate" }, info.features)
    assert.same({ linux = "2.2.3.282", windows = "2.1.3.282" }, info.min_agent)
  end)

  it("raises on misuse", function()
    raises("params must be a table", frequency.check_request, "Frequency=rate(5m)")
    raises("unknown option 'timeout'", frequency.check_request, {}, { timeout = 60 })
    local out, err = frequency.check_request({ Timed = "yes" })
    assert.is_nil(out)
    assert.matches("^Timed: must be a boolean", err)
  end)
end)
