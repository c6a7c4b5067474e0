-- Every valid and invalid example of reference section 6, and each rule.
local frequency = require "ecs.frequency"
local support = require "40_frequency.support"

local NOW_2022 = support.utc("2022-01-01 00:00:00")
local NOW_2026 = support.utc("2026-11-27 12:00:00")

local function ok(expr, opts)
  opts = opts or {}
  opts.now = opts.now or NOW_2022
  local res, info = frequency.validate(expr, opts)
  assert(res == true, "expected '" .. expr .. "' to be valid, got: " .. tostring(info))
  return info
end

local function bad(expr, opts)
  opts = opts or {}
  opts.now = opts.now or NOW_2022
  local res, err = frequency.validate(expr, opts)
  assert(res == nil, "expected '" .. expr .. "' to be invalid")
  assert.is_string(err)
  return err
end

describe("frequency.validate: reference examples", function()
  local VALID = {
    "0 */20 * * * ?", "0 */20 * * * *", "0 15 10 ? * *", "0 15 10 * * ?", "0 0 10,14,16 * * ?",
    "0 0/30 9-17 * * ?", "0 0-5 14 * * ?", "0 0/5 14,18 * * ?", "0 0 12 ? * WED", "0 15 10 L * ?",
    "0 15 10 ? * 6L", "0 15 10 ? * 6#3", "0 10,44 14 ? 3 WED",
    "0 15 10 ? * * 2022 Asia/Shanghai", "0 0/30 10-11 * * ? 2022 GMT+8:00", "0 0/5 14 * 10 ? 2022/2 UTC",
    "0 15 8 ? * * 2022", "0 15 08 ? * * 2022",
    "rate(5m)", "at(2022-06-06 13:15:30 Asia/Shanghai)", "at(2022-06-06 13:15:30 GMT-7:00)",
    "at(2022-06-06 13:15:30 America/Los_Angeles)", "at(2022-06-06 13:15:30)",
  }
  for _, expr in ipairs(VALID) do
    it("accepts " .. expr, function() ok(expr) end)
  end

  local INVALID = {
    { "0 15 008 ? * * 2022", "hour: '008' has more than one leading zero" },
    { "*/5 * * * *", "the seconds field is mandatory" },
    { "0 0 10 * * ? GMT+08:00", "zone: 'GMT+08:00' has a leading zero in the hour; write GMT+8:00" },
    { "at(2022-06-06 13:15:30 GMT+08:00)", "zone: 'GMT+08:00' has a leading zero in the hour" },
    { "*/5 * * * * ?", "cron: fires 5 s apart at the closest; the minimum interval is 10 s" },
    { "rate(30s)", "below the minimum of 60 s" },
    { "rate(8d)", "longer than the maximum of 7 days" },
  }
  for _, case in ipairs(INVALID) do
    it("rejects " .. case[1], function()
      assert.matches(case[2], bad(case[1]), 1, true)
    end)
  end

  it("rejects a cron firing more often than Timeout", function()
    assert.equals("cron: fires 60 s apart at the closest, shorter than Timeout (120 s); "
      .. "the interval must not be shorter than Timeout", bad("0 * * * * ?", { timeout = 120 }))
    ok("0 */2 * * * ?", { timeout = 120 })
  end)
end)

describe("frequency.validate: rate", function()
  it("accepts 60 s to 7 days in every unit", function()
    for _, e in ipairs({ "rate(60s)", "rate(1m)", "rate(2h)", "rate(7d)", "rate(10080m)", "rate(604800s)" }) do
      assert.same({ "rate" }, ok(e).features)
    end
  end)

  it("must be longer than Timeout", function()
    assert.equals("rate: interval 5m (300 s) must be longer than Timeout (300 s)", bad("rate(5m)", { timeout = 300 }))
    assert.equals(300, ok("rate(5m)", { timeout = 299 }).interval)
  end)

  it("names the rule for malformed rates", function()
    assert.matches("below the minimum of 60 s", bad("rate(59s)"), 1, true)
    assert.matches("longer than the maximum of 7 days", bad("rate(604801s)"), 1, true)
    assert.matches("has a space between the value and the unit", bad("rate(5 m)"), 1, true)
    assert.matches("unit s, m, h or d", bad("rate(5w)"), 1, true)
    assert.matches("unit s, m, h or d", bad("rate(m)"), 1, true)
    assert.matches("leading zeros", bad("rate(05m)"), 1, true)
    assert.matches("lower case", bad("Rate(5m)"), 1, true)
    assert.matches("must be rate%(<value><unit>%)", bad("rate(5m"))
    assert.matches("must be at%(yyyy%-MM%-dd HH:mm:ss", bad("at(2022-06-06 13:15:30"))
  end)
end)

describe("frequency.validate: at", function()
  it("checks the date-time format and the calendar", function()
    assert.matches("must be at%(yyyy%-MM%-dd HH:mm:ss", bad("at(2022-6-6 13:15:30)"))
    assert.matches("must be at%(yyyy%-MM%-dd HH:mm:ss", bad("at(2022-06-06T13:15:30)"))
    assert.equals("at: day 30 is out of range 01-28 for 2022-02", bad("at(2022-02-30 00:00:00)"))
    ok("at(2024-02-29 00:00:00)", { now = NOW_2022 })
    assert.equals("at: hour 24 is out of range 00-23", bad("at(2022-06-06 24:00:00)"))
    assert.equals("at: month 13 is out of range 01-12", bad("at(2022-13-06 00:00:00)"))
    assert.matches("one space and a time zone", bad("at(2022-06-06 13:15:30  UTC)"))
  end)

  it("accepts the three zone forms only", function()
    assert.same({ "at", "zone" }, ok("at(2022-06-06 13:15:30 UTC)").features)
    assert.same({ "at" }, ok("at(2022-06-06 13:15:30)").features)
    assert.matches("only abbreviation accepted", bad("at(2022-06-06 13:15:30 CST)"), 1, true)
    assert.matches("not a known IANA time zone", bad("at(2022-06-06 13:15:30 Asia/Shanghia)"), 1, true)
    assert.matches("GMT+H:MM", bad("at(2022-06-06 13:15:30 GMT+8)"), 1, true)
    assert.matches("hour 15 is out of range 0-14", bad("at(2022-06-06 13:15:30 GMT+15:00)"), 1, true)
  end)

  it("rejects a time that is not in the future", function()
    local err = bad("at(2022-06-06 13:15:30 Asia/Shanghai)", { now = NOW_2026 })
    assert.matches("is not in the future", err, 1, true)
  end)

  it("warns about a time skipped or repeated by a DST change", function()
    local info = ok("at(2026-03-08 02:30:00 America/Los_Angeles)", { now = NOW_2022 })
    assert.matches("does not exist", info.warnings[1], 1, true)
    assert.equals(support.utc("2026-03-08 10:00:00"), info.time)
    info = ok("at(2026-11-01 01:30:00 America/Los_Angeles)", { now = NOW_2022 })
    assert.matches("occurs twice", info.warnings[1], 1, true)
  end)
end)

describe("frequency.validate: cron fields", function()
  it("names the field and the range", function()
    assert.equals("day-of-week: '8' is out of range 1-7 (1 = Monday)", bad("0 0 0 ? * 8"))
    assert.equals("day-of-week: '0' is out of range 1-7 (1 = Monday)", bad("0 0 0 ? * 0"))
    assert.equals("second: '60' is out of range 0-59", bad("60 0 0 * * ?"))
    assert.equals("minute: '60' is out of range 0-59", bad("0 60 0 * * ?"))
    assert.equals("hour: '24' is out of range 0-23", bad("0 0 24 * * ?"))
    assert.equals("day-of-month: '32' is out of range 1-31", bad("0 0 0 32 * ?"))
    assert.equals("day-of-month: '0' is out of range 1-31", bad("0 0 0 0 * ?"))
    assert.equals("month: '13' is out of range 1-12 or JAN-DEC", bad("0 0 0 1 13 ?"))
    assert.equals("month: 'JANUARY' is not a valid value (1-12 or JAN-DEC)", bad("0 0 0 1 JANUARY ?"))
    assert.equals("day-of-week: 'MONDAY' is not a valid value (1-7 (1 = Monday))", bad("0 0 0 ? * MONDAY"))
    assert.matches("^year: '2100' is out of range 1970%-2099", bad("0 0 0 * * ? 2100"))
    assert.matches("^year: '22' must be a four%-digit year", bad("0 0 0 * * ? 22"))
  end)

  it("applies the leading-zero rule", function()
    ok("08 08 08 08 08 ?")
    ok("00 00 00 ? * 01")
    assert.matches("^second: '008' has more than one leading zero", bad("008 0 0 * * ?"))
    assert.matches("^minute: '000' has more than one leading zero", bad("0 000 0 * * ?"))
    assert.matches("^minute: '059' is not valid: a leading zero is allowed only before a single digit",
      bad("0 059 0 * * ?"))
    assert.matches("^second: step '005' has more than one leading zero", bad("*/005 0 0 * * ?"))
  end)

  it("checks lists, ranges and steps", function()
    ok("0 0 1-5,10,20-22 * * ?")
    ok("0 0/15,7 * * * ?")
    assert.equals("second: '1,,2' has an empty list item", bad("1,,2 0 0 * * ?"))
    assert.equals("second: ',1' has an empty list item", bad(",1 0 0 * * ?"))
    assert.matches("^hour: range '22%-2' runs backwards; write it as a list such as '22%-23,0%-2'",
      bad("0 0 22-2 * * ?"))
    assert.equals("minute: step '0' in '*/0' is out of range 1-59", bad("0 */0 * * * ?"))
    assert.equals("minute: step '60' in '*/60' is out of range 1-59", bad("0 */60 * * * ?"))
    assert.equals("hour: step '24' in '*/24' is out of range 1-23", bad("0 0 */24 * * ?"))
    assert.matches("^second: step in '%*/x' must be a whole number", bad("*/x 0 0 * * ?"))
    assert.matches("^minute: '1%-2%-3' is not a valid range", bad("0 1-2-3 * * * ?"))
    assert.matches("^minute: '/5' is missing a value", bad("0 /5 * * * ?"))
  end)

  it("allows ? only in day-of-month or day-of-week, one of them", function()
    assert.equals("hour: '?' is allowed only in day-of-month and day-of-week", bad("0 0 ? * * ?"))
    assert.equals("day-of-month and day-of-week: only one of them may be '?'", bad("0 0 0 ? * ?"))
    assert.equals("day-of-week: must be '?' when day-of-month is set (day-of-month is '15', day-of-week is '*')",
      bad("0 0 0 15 * *"))
    assert.equals("day-of-month: must be '?' when day-of-week is set (day-of-week is 'MON', day-of-month is '*')",
      bad("0 0 0 * * MON"))
    assert.matches("must be '?'", bad("0 0 0 15 * MON"), 1, true)
    assert.matches("'?' must stand alone", bad("0 0 0 * * ?,1"), 1, true)
  end)

  it("checks L, W, LW and #", function()
    ok("0 0 0 L * ?"); ok("0 0 0 LW * ?"); ok("0 0 0 15W * ?"); ok("0 0 0 1W * ?")
    ok("0 0 0 ? * L"); ok("0 0 0 ? * 6L"); ok("0 0 0 ? * FRIL"); ok("0 0 0 ? * 4#2"); ok("0 0 0 ? * THU#5")
    assert.matches("cannot be combined with other values in a list", bad("0 0 0 L,15 * ?"), 1, true)
    assert.matches("cannot be combined with other values in a list", bad("0 0 0 ? * 6L,1"), 1, true)
    assert.matches("cannot be combined with other values in a list", bad("0 0 0 ? * 1,L"), 1, true)
    assert.matches("cannot be combined with other values in a list", bad("0 0 0 ? * 1#1,2#2"), 1, true)
    assert.matches("cannot be combined with other values in a list", bad("0 0 0 1W,15W * ?"), 1, true)
    assert.equals("day-of-week: '4#6': the week number after '#' must be 1-5", bad("0 0 0 ? * 4#6"))
    assert.equals("day-of-week: '8' is out of range 1-7 (1 = Monday)", bad("0 0 0 ? * 8#1"))
    assert.equals("day-of-month: '32' is out of range 1-31", bad("0 0 0 32W * ?"))
    assert.matches("^day%-of%-month: 'L%-3' is not valid", bad("0 0 0 L-3 * ?"))
    assert.matches("^hour: 'L' uses a character allowed only in day%-of%-month or day%-of%-week", bad("0 0 L * * ?"))
    assert.matches("^year: '2022W' uses a character", bad("0 0 0 * * ? 2022W"))
  end)

  it("checks the number of fields and the zone", function()
    assert.matches("^cron: 5 fields and a zone given; 6 or 7 fields are needed", bad("*/5 * * * * Asia/Shanghai"))
    assert.matches("^cron: 4 fields given; 6 or 7 are needed", bad("0 0 0 *"))
    assert.matches("^cron: 8 fields given", bad("0 0 0 * * ? 2022 2023"))
    assert.matches("^cron: 8 fields given", bad("0 0 0 * * ? 2022 2023 UTC"))
    assert.matches("not a known IANA time zone", bad("0 0 0 * * ? Asia/Nowhere"), 1, true)
    assert.matches("only abbreviation accepted", bad("0 0 0 * * ? EST"), 1, true)
    assert.matches("only abbreviation accepted", bad("0 0 0 * * ? 2022 GMT"), 1, true)
    assert.matches("leading or trailing spaces", bad(" 0 0 0 * * ?"), 1, true)
    assert.equals("frequency: the expression is empty", bad(""))
    assert.equals("frequency: expected a string, got number", bad(5))
  end)

  it("reports the year and zone features and the agent versions they need", function()
    local info = ok("0 15 10 ? * * 2022 Asia/Shanghai")
    assert.equals("cron", info.kind)
    assert.equals("Asia/Shanghai", info.zone)
    assert.same({ "year", "zone" }, info.features)
    assert.same({ linux = "2.2.3.282", windows = "2.1.3.282" }, info.min_agent)
    info = ok("0 15 10 ? * *")
    assert.same({}, info.features)
    assert.is_nil(info.min_agent)
    assert.is_nil(info.zone)
    assert.same({ "year" }, ok("0 15 10 ? * * *").features)
    assert.same({ "zone" }, ok("0 15 10 ? * * GMT+8:00").features)
  end)
end)

describe("frequency.validate: schedule rules", function()
  it("rejects year values before the current year", function()
    assert.equals("year: '2022' is before the current year 2026 (the year field accepts the current year to 2099)",
      bad("0 15 10 ? * * 2022", { now = NOW_2026 }))
    ok("0 15 10 ? * * 2026-2030", { now = NOW_2026 })
  end)

  it("rejects a cron that never fires, or never again", function()
    assert.equals("cron: never fires: no date matches day-of-month '31', month '2', day-of-week '?'",
      bad("0 0 0 31 2 ?"))
    assert.matches("^cron: never fires", bad("0 0 0 31 4,6,9,11 ?"))
    assert.matches("^cron: never fires", bad("0 0 0 30W 2 ?"))
    assert.matches("^cron: never fires", bad("0 0 0 29 2 ? 2023"))
    assert.matches("^cron: never fires after 2026%-11%-27 12:00:00 UTC", bad("0 0 0 1 1 ? 2026", { now = NOW_2026 }))
    ok("0 0 0 29 2 ?")
    ok("0 0 0 ? 2 1#5") -- a fifth Monday in February: leap years starting on Monday only
  end)

  it("computes the minimum interval from the actual fire times", function()
    assert.equals(1200, ok("0 */20 * * * ?").min_interval)
    -- 23:59:59 then 00:00:00 the next day: 1 s apart
    assert.matches("fires 1 s apart", bad("0,59 0,59 0,23 * * ?"), 1, true)
    -- 20:00 and 03:00 the next day: 7 h apart, but 03:00 -> 20:00 is 17 h
    assert.equals(7 * 3600, ok("0 0 3,20 * * ?").min_interval)
    -- Jan 31 23:00 and Feb 1 00:00 are an hour apart; Jan 30 and the next Jan 1 are not close
    assert.equals(3600, ok("0 0 0,23 1,31 * ?").min_interval)
    assert.equals(23 * 3600, ok("0 0 0,23 1,30 1 ?").min_interval)
    assert.equals(3600, ok("0 0 0,1 31 1 ?").min_interval)
    -- Sunday and the following Monday
    assert.equals(86400, ok("0 0 0 ? * SUN,MON").min_interval)
    assert.equals(2 * 86400, ok("0 0 0 ? * SAT,MON").min_interval)
    -- Dec 31 -> Jan 1 across the year boundary
    assert.equals(60, ok("0 59,0 23,0 31,1 12,1 ?").min_interval)
    -- 10 s is allowed, 9 s is not
    assert.equals(10, ok("*/10 * * * * ?").min_interval)
    assert.matches("fires 9 s apart", bad("0,9 * * * * ?"), 1, true)
    -- the last run of one hour and the first of the next
    assert.matches("fires 5 s apart", bad("0,55 0,59 * * * ?"), 1, true)
    -- fires once: no interval
    assert.is_nil(ok("0 0 0 1 1 ? 2030").min_interval)
  end)

  it("warns when a DST change brings two runs closer than the limit", function()
    local info = ok("0 0 1,3 * * ? America/Los_Angeles", { timeout = 5400 })
    assert.equals(7200, info.min_interval)
    assert.matches("when clocks jump forward in America/Los_Angeles", info.warnings[1], 1, true)
    info = ok("0 0 1,3 * * ? America/Los_Angeles", { timeout = 3600 })
    assert.same({}, info.warnings)
    info = ok("0 0 1,3 * * ?", { timeout = 5400, instance_zone = "Europe/Berlin" })
    assert.matches("Europe/Berlin", info.warnings[1], 1, true)
  end)

  it("raises on misuse of options", function()
    assert.has_error(function() frequency.validate("rate(5m)", { timeout = "60" }) end)
    assert.has_error(function() frequency.validate("rate(5m)", { timeout = 1.5 }) end)
    assert.has_error(function() frequency.validate("rate(5m)", { timout = 60 }) end)
  end)
end)
