-- Fire times checked by hand (weekdays and month lengths taken from the
-- calendar; UTC offsets from the published zone rules).
local frequency = require "ecs.frequency"
local support = require "40_frequency.support"
local utc, fmt_list = support.utc, support.fmt_list

local function fires(expr, from, count, opts)
  opts = opts or {}
  opts.from, opts.count = utc(from), count
  local list, err = frequency.next(expr, opts)
  assert(list, err)
  return fmt_list(list)
end

describe("frequency.next (UTC and fixed zones)", function()
  it("steps, lists and ranges", function()
    assert.same({ "2026-01-01 00:20:00", "2026-01-01 00:40:00", "2026-01-01 01:00:00" },
      fires("0 */20 * * * ? UTC", "2026-01-01 00:00:00", 3))
    assert.same({ "2026-01-01 00:05:10", "2026-01-01 00:05:40", "2026-01-01 00:06:10", "2026-01-01 00:06:40",
      "2026-01-02 00:05:10" }, fires("10,40 5-6 0 * * ? UTC", "2026-01-01 00:00:00", 5))
    assert.same({ "2026-01-01 00:00:23", "2026-01-01 00:00:43", "2026-01-02 00:00:03" },
      fires("3/20 0 0 * * ? UTC", "2026-01-01 00:00:03", 3))
    assert.same({ "2026-01-01 14:00:00", "2026-01-01 14:05:00" },
      fires("0 0/5 14,18 * * ? UTC", "2026-01-01 13:59:59", 2))
    assert.same({ "2026-01-01 14:55:00", "2026-01-01 18:00:00", "2026-01-01 18:05:00" },
      fires("0 0/5 14,18 * * ? UTC", "2026-01-01 14:50:00", 3))
  end)

  it("fires strictly after `from`", function()
    assert.same({ "2026-01-01 00:20:00" }, fires("0 */20 * * * ? UTC", "2026-01-01 00:00:00", 1))
    assert.same({ "2026-01-01 00:00:00" }, fires("0 */20 * * * ? UTC", "2025-12-31 23:59:59", 1))
  end)

  it("evaluates a cron without zone in instance_zone, GMT+8:00 by default", function()
    assert.same({ "2026-01-01 02:15:00" }, fires("0 15 10 * * ?", "2026-01-01 00:00:00", 1))
    assert.same({ "2026-01-01 10:15:00" },
      fires("0 15 10 * * ?", "2026-01-01 00:00:00", 1, { instance_zone = "UTC" }))
    assert.same({ "2026-01-01 17:15:00" },
      fires("0 15 10 * * ?", "2026-01-01 00:00:00", 1, { instance_zone = "GMT-7:00" }))
    assert.same({ "2026-01-01 04:45:00" },
      fires("0 15 10 * * ? GMT+5:30", "2026-01-01 00:00:00", 1, { instance_zone = "UTC" }))
  end)

  it("day-of-week names, numbers (1 = Monday) and ?", function()
    -- 2026-01-01 is a Thursday
    assert.same({ "2026-01-07 12:00:00", "2026-01-14 12:00:00", "2026-01-21 12:00:00" },
      fires("0 0 12 ? * WED UTC", "2026-01-01 00:00:00", 3))
    assert.same({ "2026-01-05 00:00:00", "2026-01-12 00:00:00" }, fires("0 0 0 ? * 1 UTC", "2026-01-01 00:00:00", 2))
    assert.same({ "2026-01-04 00:00:00", "2026-01-11 00:00:00" }, fires("0 0 0 ? * 7 UTC", "2026-01-01 00:00:00", 2))
    assert.same({ "2026-01-01 00:00:00", "2026-01-02 00:00:00", "2026-01-05 00:00:00" },
      fires("0 0 0 ? * MON-FRI UTC", "2025-12-31 12:00:00", 3))
    assert.same({ "2026-03-04 14:10:00", "2026-03-04 14:44:00", "2026-03-11 14:10:00" },
      fires("0 10,44 14 ? 3 WED UTC", "2026-01-01 00:00:00", 3))
  end)

  it("L in day-of-month, through a leap year", function()
    assert.same({ "2027-12-31 10:15:00", "2028-01-31 10:15:00", "2028-02-29 10:15:00", "2028-03-31 10:15:00",
      "2028-04-30 10:15:00" }, fires("0 15 10 L * ? UTC", "2027-12-15 00:00:00", 5))
    assert.same({ "2026-02-28 00:00:00", "2027-02-28 00:00:00", "2028-02-29 00:00:00", "2029-02-28 00:00:00" },
      fires("0 0 0 L 2 ? UTC", "2026-01-01 00:00:00", 4))
  end)

  it("Feb 29 only in leap years, and not in 2100", function()
    assert.same({ "2028-02-29 00:00:00", "2032-02-29 00:00:00", "2036-02-29 00:00:00" },
      fires("0 0 0 29 2 ? UTC", "2026-01-01 00:00:00", 3))
    assert.same({ "2104-02-29 00:00:00" }, fires("0 0 0 29 2 ? UTC", "2096-03-01 00:00:00", 1))
  end)

  it("31 skips the short months", function()
    assert.same({ "2026-01-31 00:00:00", "2026-03-31 00:00:00", "2026-05-31 00:00:00", "2026-07-31 00:00:00",
      "2026-08-31 00:00:00", "2026-10-31 00:00:00", "2026-12-31 00:00:00", "2027-01-31 00:00:00" },
      fires("0 0 0 31 * ? UTC", "2026-01-01 00:00:00", 8))
  end)

  it("LW: last weekday of the month", function()
    -- Jan 31 2026 Sat, Feb 28 Sat, May 31 Sun, Aug 31 Mon
    assert.same({ "2026-01-30 12:00:00", "2026-02-27 12:00:00", "2026-03-31 12:00:00", "2026-04-30 12:00:00",
      "2026-05-29 12:00:00", "2026-06-30 12:00:00", "2026-07-31 12:00:00", "2026-08-31 12:00:00" },
      fires("0 0 12 LW * ? UTC", "2026-01-01 00:00:00", 8))
  end)

  it("W stays inside the month at its edges", function()
    -- Feb 1 2026 Sun -> Mon 2; Aug 1 2026 Sat -> Mon 3 (not Jul 31)
    assert.same({ "2026-01-01 00:00:00", "2026-02-02 00:00:00", "2026-03-02 00:00:00", "2026-04-01 00:00:00",
      "2026-05-01 00:00:00", "2026-06-01 00:00:00", "2026-07-01 00:00:00", "2026-08-03 00:00:00" },
      fires("0 0 0 1W * ? UTC", "2025-12-31 12:00:00", 8))
    -- 31st: Jan Sat -> Fri 30, Mar Tue, May Sun -> Fri 29 (not Jun 1); 30-day months and Feb never
    assert.same({ "2026-01-30 00:00:00", "2026-03-31 00:00:00", "2026-05-29 00:00:00", "2026-07-31 00:00:00",
      "2026-08-31 00:00:00", "2026-10-30 00:00:00", "2026-12-31 00:00:00" },
      fires("0 0 0 31W * ? UTC", "2026-01-01 00:00:00", 7))
    -- Feb 15 2026 Sun -> Mon 16; Aug 15 2026 Sat -> Fri 14
    assert.same({ "2026-02-16 00:00:00" }, fires("0 0 0 15W 2 ? UTC", "2026-01-01 00:00:00", 1))
    assert.same({ "2026-08-14 00:00:00" }, fires("0 0 0 15W 8 ? UTC", "2026-01-01 00:00:00", 1))
  end)

  it("#: nth weekday, and #5 skips months without a fifth one", function()
    assert.same({ "2026-01-17 10:15:00", "2026-02-21 10:15:00", "2026-03-21 10:15:00" },
      fires("0 15 10 ? * 6#3 UTC", "2026-01-01 00:00:00", 3))
    assert.same({ "2026-03-30 00:00:00", "2026-06-29 00:00:00", "2026-08-31 00:00:00", "2026-11-30 00:00:00",
      "2027-03-29 00:00:00", "2027-05-31 00:00:00" }, fires("0 0 0 ? * 1#5 UTC", "2026-01-01 00:00:00", 6))
    assert.same({ "2026-01-05 00:00:00" }, fires("0 0 0 ? * MON#1 UTC", "2026-01-01 00:00:00", 1))
  end)

  it("L in day-of-week: nL is the last such day, L alone is Sunday", function()
    assert.same({ "2026-01-31 10:15:00", "2026-02-28 10:15:00", "2026-03-28 10:15:00", "2026-04-25 10:15:00" },
      fires("0 15 10 ? * 6L UTC", "2026-01-01 00:00:00", 4))
    assert.same({ "2026-01-04 00:00:00", "2026-01-11 00:00:00" }, fires("0 0 0 ? * L UTC", "2026-01-01 00:00:00", 2))
  end)

  it("rolls over the year, and stops after the last year of the year field", function()
    assert.same({ "2027-01-01 00:00:00", "2028-01-01 00:00:00" },
      fires("0 0 0 1 1 ? UTC", "2026-12-31 23:59:59", 2))
    assert.same({ "2026-12-31 23:59:59", "2027-12-31 23:59:59" },
      fires("59 59 23 31 12 ? UTC", "2026-06-01 00:00:00", 2))
    assert.same({ "2027-01-01 00:00:00", "2028-01-01 00:00:00" },
      fires("0 0 0 1 1 ? 2027-2028 UTC", "2026-06-01 00:00:00", 5))
    assert.same({ "2022-10-01 14:00:00", "2022-10-01 14:05:00" },
      fires("0 0/5 14 * 10 ? 2022/2 UTC", "2022-01-01 00:00:00", 2))
    assert.same({ "2024-10-01 14:00:00" }, fires("0 0/5 14 * 10 ? 2022/2 UTC", "2022-10-31 15:00:00", 1))
  end)

  it("month names and steps", function()
    assert.same({ "2026-01-01 00:00:00", "2026-04-01 00:00:00", "2026-07-01 00:00:00", "2026-10-01 00:00:00" },
      fires("0 0 0 1 JAN/3 ? UTC", "2025-12-31 00:00:00", 4))
    assert.same({ "2026-02-01 00:00:00", "2026-03-01 00:00:00", "2027-02-01 00:00:00" },
      fires("0 0 0 1 feb-MAR ? UTC", "2026-01-01 00:00:00", 3))
  end)

  it("returns fewer times when the schedule ends, and {} for a past at()", function()
    assert.same({}, fires("0 0 0 1 1 ? 2026 UTC", "2026-06-01 00:00:00", 3))
    assert.same({}, fires("at(2022-06-06 13:15:30 UTC)", "2026-01-01 00:00:00", 3))
  end)
end)

describe("frequency.next for at() and rate()", function()
  it("at(): zone forms, UTC by default", function()
    assert.same({ "2022-06-06 05:15:30" }, fires("at(2022-06-06 13:15:30 Asia/Shanghai)", "2022-01-01 00:00:00", 1))
    assert.same({ "2022-06-06 20:15:30" }, fires("at(2022-06-06 13:15:30 GMT-7:00)", "2022-01-01 00:00:00", 1))
    assert.same({ "2022-06-06 13:15:30" }, fires("at(2022-06-06 13:15:30)", "2022-01-01 00:00:00", 1))
    assert.same({ "2022-06-06 13:15:30" }, fires("at(2022-06-06 13:15:30 UTC)", "2022-01-01 00:00:00", 1,
      { instance_zone = "Asia/Shanghai" }))
  end)

  it("rate(): first run one interval after the start, then fixed steps", function()
    assert.same({ "2026-01-01 00:05:00", "2026-01-01 00:10:00", "2026-01-01 00:15:00" },
      fires("rate(5m)", "2026-01-01 00:00:00", 3))
    assert.same({ "2026-01-01 00:10:00", "2026-01-01 00:15:00" },
      fires("rate(5m)", "2026-01-01 00:07:00", 2, { start = utc("2026-01-01 00:00:00") }))
    assert.same({ "2026-01-01 00:05:00" },
      fires("rate(5m)", "2026-01-01 00:00:00", 1, { start = utc("2026-01-01 00:00:00") }))
    assert.same({ "2026-01-08 00:00:00" }, fires("rate(7d)", "2026-01-01 00:00:00", 1))
  end)
end)

describe("frequency.next across daylight-saving changes", function()
  -- America/Los_Angeles 2026: 03-08 02:00 PST -> 03:00 PDT (10:00 UTC);
  -- 11-01 02:00 PDT -> 01:00 PST (09:00 UTC).
  it("Los Angeles, spring: a skipped wall time fires at the jump", function()
    assert.same({ "2026-03-07 10:30:00", "2026-03-08 10:00:00", "2026-03-09 09:30:00" },
      fires("0 30 2 * * ? America/Los_Angeles", "2026-03-07 00:00:00", 3))
    -- several skipped times collapse into one fire at the jump
    assert.same({ "2026-03-08 09:45:00", "2026-03-08 10:00:00", "2026-03-08 10:15:00" },
      fires("0 */15 * * * ? America/Los_Angeles", "2026-03-08 09:40:00", 3))
    -- a wall time just after the gap is unaffected
    assert.same({ "2026-03-07 11:00:00", "2026-03-08 10:00:00", "2026-03-09 10:00:00" },
      fires("0 0 3 * * ? America/Los_Angeles", "2026-03-07 00:00:00", 3))
  end)

  it("Los Angeles, autumn: a repeated wall time fires once, at its first occurrence", function()
    assert.same({ "2026-10-31 08:30:00", "2026-11-01 08:30:00", "2026-11-02 09:30:00" },
      fires("0 30 1 * * ? America/Los_Angeles", "2026-10-31 00:00:00", 3))
    assert.same({ "2026-11-01 07:30:00", "2026-11-01 08:00:00", "2026-11-01 08:30:00", "2026-11-01 10:00:00",
      "2026-11-01 10:30:00" }, fires("0 */30 * * * ? America/Los_Angeles", "2026-11-01 07:00:00", 5))
  end)

  -- Europe/Berlin 2026: 03-29 02:00 CET -> 03:00 CEST (01:00 UTC);
  -- 10-25 03:00 CEST -> 02:00 CET (01:00 UTC).
  it("Berlin, spring", function()
    assert.same({ "2026-03-28 01:30:00", "2026-03-29 01:00:00", "2026-03-30 00:30:00" },
      fires("0 30 2 * * ? Europe/Berlin", "2026-03-28 00:00:00", 3))
  end)

  it("Berlin, autumn", function()
    assert.same({ "2026-10-24 00:30:00", "2026-10-25 00:30:00", "2026-10-26 01:30:00" },
      fires("0 30 2 * * ? Europe/Berlin", "2026-10-24 00:00:00", 3))
    assert.same({ "2026-10-25 00:00:00", "2026-10-25 02:00:00", "2026-10-25 03:00:00" },
      fires("0 0 * * * ? Europe/Berlin", "2026-10-24 23:30:00", 3))
  end)

  it("a cron without zone follows instance_zone's rules", function()
    assert.same({ "2026-03-08 10:00:00" },
      fires("0 30 2 8 3 ?", "2026-03-01 00:00:00", 1, { instance_zone = "America/Los_Angeles" }))
  end)

  it("far-future dates use the zone file's TZ rule (second Sunday of March 2100)", function()
    assert.same({ "2100-03-13 10:30:00", "2100-03-14 10:00:00", "2100-03-15 09:30:00" },
      fires("0 30 2 * * ? America/Los_Angeles", "2100-03-13 00:00:00", 3))
  end)

  it("at() in a gap runs at the jump, in an overlap at the first occurrence", function()
    assert.same({ "2026-03-08 10:00:00" },
      fires("at(2026-03-08 02:30:00 America/Los_Angeles)", "2026-01-01 00:00:00", 1))
    assert.same({ "2026-11-01 08:30:00" },
      fires("at(2026-11-01 01:30:00 America/Los_Angeles)", "2026-01-01 00:00:00", 1))
    assert.same({ "2026-10-25 00:30:00" }, fires("at(2026-10-25 02:30:00 Europe/Berlin)", "2026-01-01 00:00:00", 1))
  end)
end)

describe("frequency.next arguments", function()
  it("returns nil, err for a bad expression or zone", function()
    local list, err = frequency.next("0 0 0 ? * 8", { from = 0 })
    assert.is_nil(list)
    assert.equals("day-of-week: '8' is out of range 1-7 (1 = Monday)", err)
    list, err = frequency.next("0 0 0 * * ? Mars/Olympus", { from = 0 })
    assert.is_nil(list)
    assert.matches("Mars/Olympus", err, 1, true)
    list, err = frequency.next("0 0 0 * * ?", { from = 0, instance_zone = "Mars/Olympus" })
    assert.is_nil(list)
    assert.matches("^instance_zone: ", err)
  end)

  it("raises on misuse of options", function()
    assert.has_error(function() frequency.next("rate(5m)", { count = 0 }) end)
    assert.has_error(function() frequency.next("rate(5m)", { count = 100001 }) end)
    assert.equals(100000, #frequency.next("* * * * * ? UTC", { from = 0, count = 100000 }))
    assert.has_error(function() frequency.next("rate(5m)", { from = "now" }) end)
    assert.has_error(function() frequency.next("rate(5m)", { form = 1 }) end)
    assert.has_error(function() frequency.next("rate(5m)", 5) end)
  end)

  it("reads zones from a configurable zoneinfo directory", function()
    local list, err = frequency.next("0 0 0 * * ? Europe/Berlin", { from = 0, zoneinfo = "/nonexistent-zoneinfo" })
    assert.is_nil(list)
    assert.matches("tzdata", err, 1, true)
  end)
end)
