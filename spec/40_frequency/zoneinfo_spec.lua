-- ecs.zoneinfo: TZif v1/v2/v3, POSIX TZ rules, names the service accepts.
-- Needs the tzdata package (/usr/share/zoneinfo).
local zoneinfo = require "ecs.zoneinfo"
local support = require "40_frequency.support"
local utc = support.utc

local function read(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

-- Big-endian encoders for synthetic TZif files.
local function be32(v)
  if v < 0 then v = v + 4294967296 end
  return string.char(math.floor(v / 16777216) % 256, math.floor(v / 65536) % 256, math.floor(v / 256) % 256, v % 256)
end
local function be64(v)
  local hi = math.floor(v / 4294967296)
  return be32(hi) .. be32(v - hi * 4294967296)
end

-- A TZif file with the given transitions ({ t, type }) and types ({ off, isdst, abbr }).
local function tzif(version, transitions, types, footer, leapcnt)
  local chars, idx = {}, {}
  local pos = 0
  for i, ty in ipairs(types) do
    idx[i] = pos
    chars[#chars + 1] = ty[3] .. "\0"
    pos = pos + #ty[3] + 1
  end
  local charstr = table.concat(chars)
  local function block(enc)
    local parts = { "TZif", version, string.rep("\0", 15),
      be32(0), be32(0), be32(leapcnt or 0), be32(#transitions), be32(#types), be32(#charstr) }
    for _, tr in ipairs(transitions) do parts[#parts + 1] = enc(tr[1]) end
    for _, tr in ipairs(transitions) do parts[#parts + 1] = string.char(tr[2] - 1) end
    for i, ty in ipairs(types) do parts[#parts + 1] = be32(ty[1]) .. string.char(ty[2] and 1 or 0, idx[i]) end
    parts[#parts + 1] = charstr
    for _ = 1, leapcnt or 0 do parts[#parts + 1] = enc(0) .. be32(1) end
    return table.concat(parts)
  end
  if version == "\0" then return block(be32) end
  return block(be32) .. block(be64) .. "\n" .. (footer or "") .. "\n"
end

describe("zoneinfo calendar", function()
  it("converts days and civil dates both ways", function()
    assert.equals(0, zoneinfo.days_from_civil(1970, 1, 1))
    assert.equals(utc("2000-02-29 00:00:00") / 86400, zoneinfo.days_from_civil(2000, 2, 29))
    assert.equals(utc("1900-03-01 00:00:00") / 86400, zoneinfo.days_from_civil(1900, 3, 1))
    assert.same({ 2100, 3, 1 }, { zoneinfo.civil_from_days(utc("2100-03-01 00:00:00") / 86400) })
    assert.same({ 1969, 12, 31 }, { zoneinfo.civil_from_days(-1) })
    assert.equals(4, zoneinfo.weekday(0)) -- Thursday
    assert.equals(7, zoneinfo.weekday(utc("2026-03-08 00:00:00") / 86400)) -- Sunday
    assert.equals(29, zoneinfo.days_in_month(2028, 2))
    assert.equals(28, zoneinfo.days_in_month(2100, 2))
    assert.equals("2026-03-08 02:30:00", zoneinfo.format_wall(zoneinfo.wall_seconds(2026, 3, 8, 2, 30, 0)))
  end)
end)

describe("zoneinfo POSIX TZ strings", function()
  it("parses names, offsets and the three date forms", function()
    local r = assert(zoneinfo.parse_posix("PST8PDT,M3.2.0,M11.1.0"))
    assert.equals(-8 * 3600, r.std_off)
    assert.equals(-7 * 3600, r.dst_off)
    assert.same({ kind = "M", month = 3, week = 2, wday = 0, time = 7200 }, r.start)
    r = assert(zoneinfo.parse_posix("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0"))
    assert.equals(37800, r.std_off)
    assert.equals(39600, r.dst_off)
    assert.equals("+1030", r.std_abbr)
    r = assert(zoneinfo.parse_posix("IST-2IDT,M3.4.4/26,M10.5.0"))
    assert.equals(26 * 3600, r.start.time)
    r = assert(zoneinfo.parse_posix("EST5EDT,0/0,J365/25"))
    assert.same({ kind = "N", day = 0, time = 0 }, r.start)
    assert.same({ kind = "J", day = 365, time = 25 * 3600 }, r["end"])
    r = assert(zoneinfo.parse_posix("<-03>3"))
    assert.equals(-3 * 3600, r.std_off)
    assert.is_nil(r.start)
  end)

  it("rejects malformed strings with a message", function()
    assert.matches("bad standard%-time name", select(2, zoneinfo.parse_posix("8PDT")))
    assert.matches("bad start rule", select(2, zoneinfo.parse_posix("PST8PDT,M13.2.0,M11.1.0")))
    assert.matches("bad end rule", select(2, zoneinfo.parse_posix("PST8PDT,M3.2.0,M11.6.0")))
    assert.matches("bad offset", select(2, zoneinfo.parse_posix("PST")))
  end)

  it("computes transitions of a year, northern and southern", function()
    local la = assert(zoneinfo.parse_posix("PST8PDT,M3.2.0,M11.1.0"))
    local list = zoneinfo.rule_transitions(la, 2030)
    -- 2030: second Sunday of March is the 10th, first Sunday of November the 3rd
    assert.equals(utc("2030-03-10 10:00:00"), list[1].t)
    assert.equals(utc("2030-11-03 09:00:00"), list[2].t)
    local syd = assert(zoneinfo.parse_posix("AEST-10AEDT,M10.1.0,M4.1.0/3"))
    list = zoneinfo.rule_transitions(syd, 2030)
    -- ends first Sunday of April (7th) 03:00 AEDT, starts first Sunday of October (6th) 02:00 AEST
    assert.equals(utc("2030-04-06 16:00:00"), list[1].t)
    assert.is_false(list[1].isdst)
    assert.equals(utc("2030-10-05 16:00:00"), list[2].t)
    -- M.5 is the last such weekday: last Sunday of March 2030 is the 31st
    local cet = assert(zoneinfo.parse_posix("CET-1CEST,M3.5.0,M10.5.0/3"))
    assert.equals(utc("2030-03-31 01:00:00"), zoneinfo.rule_transitions(cet, 2030)[1].t)
    -- Jn never counts Feb 29; n does
    local j = assert(zoneinfo.parse_posix("AAA0BBB,J60/0,300/0"))
    assert.equals(utc("2028-03-01 00:00:00"), zoneinfo.rule_transitions(j, 2028)[1].t)
    -- day 300 counted from 0 in a leap year is Oct 27; 00:00 at UTC+1 is 23:00 UTC the day before
    assert.equals(utc("2028-10-26 23:00:00"), zoneinfo.rule_transitions(j, 2028)[2].t)
  end)
end)

describe("zoneinfo TZif files", function()
  it("reads a v1 file (32-bit times, no footer)", function()
    local data = tzif("\0", { { -100000, 2 }, { 1000000, 1 } },
      { { 3600, false, "AAA" }, { 7200, true, "BBB" } })
    local z = assert(zoneinfo.parse_tzif(data, "Test/V1"))
    assert.same({ 3600, false, "AAA" }, { z:offset(-200000) })
    assert.same({ 7200, true, "BBB" }, { z:offset(0) })
    assert.same({ 3600, false, "AAA" }, { z:offset(2000000000) })
  end)

  it("reads a v2 file with 64-bit times and applies its footer after the last transition", function()
    local data = tzif("2", { { -5000000000, 1 }, { utc("2020-01-01 00:00:00"), 2 } },
      { { 0, false, "LMT" }, { -8 * 3600, false, "PST" } }, "PST8PDT,M3.2.0,M11.1.0")
    local z = assert(zoneinfo.parse_tzif(data, "Test/V2"))
    assert.equals(-8 * 3600, z:offset(utc("2020-02-01 00:00:00")))
    assert.equals(-7 * 3600, z:offset(utc("2020-07-01 00:00:00")))
    assert.equals(-7 * 3600, z:offset(utc("2300-07-01 00:00:00")))
    assert.equals(-8 * 3600, z:offset(utc("2300-12-01 00:00:00")))
    assert.equals(0, z:offset(-6000000000))
  end)

  it("reads a v3 footer with extended hours (DST all year)", function()
    local data = tzif("3", { { 0, 1 } }, { { -5 * 3600, false, "EST" } }, "EST5EDT,0/0,J365/25")
    local z = assert(zoneinfo.parse_tzif(data, "Test/V3"))
    assert.same({ -4 * 3600, true, "EDT" }, { z:offset(utc("2030-06-01 00:00:00")) })
    assert.same({ -4 * 3600, true, "EDT" }, { z:offset(utc("2030-12-31 12:00:00")) })
  end)

  it("gives the same answers from the v1 and the v2 data of a real file", function()
    local data = read("/usr/share/zoneinfo/Europe/Berlin")
    local v2 = assert(zoneinfo.parse_tzif(data, "Europe/Berlin"))
    local v1 = assert(zoneinfo.parse_tzif(data:sub(1, 4) .. "\0" .. data:sub(6), "Europe/Berlin"))
    assert.is_nil(v1.rule)
    assert.is_table(v2.rule)
    for _, s in ipairs({ "1945-06-01 00:00:00", "1980-06-01 00:00:00", "2026-03-29 00:59:59",
      "2026-03-29 01:00:00", "2026-10-25 00:59:59", "2026-10-25 01:00:00", "2037-07-01 00:00:00" }) do
      assert.equals(v2:offset(utc(s)), v1:offset(utc(s)), s)
    end
  end)

  it("rejects broken and leap-second files", function()
    assert.matches("not a TZif file", select(2, zoneinfo.parse_tzif("hello", "X/Y")))
    local data = tzif("2", { { 0, 1 } }, { { 0, false, "UTC" } }, "UTC0")
    assert.matches("truncated", select(2, zoneinfo.parse_tzif(data:sub(1, 60), "X/Y")))
    local leap = tzif("2", { { 0, 1 } }, { { 0, false, "UTC" } }, "UTC0", 1)
    assert.matches("leap seconds", select(2, zoneinfo.parse_tzif(leap, "X/Y")))
  end)

  it("agrees with the C library on 2400 random instants in 12 zones, 1907-2109", function()
    local zones = { "America/Los_Angeles", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Shanghai",
      "America/Sao_Paulo", "Pacific/Apia", "Europe/Dublin", "Africa/Casablanca", "America/Nuuk",
      "Asia/Tehran", "Pacific/Chatham", "America/Santiago" }
    local rng = support.rng(4242)
    local path = os.tmpname()
    for _, name in ipairs(zones) do
      local z = assert(zoneinfo.get(name))
      local ts = {}
      local f = assert(io.open(path, "w"))
      for i = 1, 200 do
        ts[i] = -1969000000 + rng(2147483646) * 2
        f:write("@", ts[i], "\n")
      end
      f:close()
      local p = assert(io.popen("TZ=" .. name .. " date -f " .. path .. " +%z 2>&1"))
      local n = 0
      for line in p:lines() do
        n = n + 1
        local sign, h, m = line:match("^([+-])(%d%d)(%d%d)$")
        assert(sign, "date said: " .. line)
        local off = (tonumber(h) * 3600 + tonumber(m) * 60) * (sign == "-" and -1 or 1)
        local mine = z:offset(ts[n])
        -- %z drops the seconds of old local-mean-time offsets
        assert(math.abs(mine - off) < 60, name .. " at " .. ts[n] .. ": " .. mine .. " vs " .. off)
      end
      p:close()
      assert.equals(200, n)
    end
    os.remove(path)
  end)
end)

describe("zoneinfo names", function()
  it("accepts UTC, GMT+H:MM and IANA names", function()
    assert.equals(0, assert(zoneinfo.get("UTC")):offset(0))
    assert.equals(8 * 3600, assert(zoneinfo.get("GMT+8:00")):offset(0))
    assert.equals(-(7 * 3600), assert(zoneinfo.get("GMT-7:00")):offset(0))
    assert.equals(5 * 3600 + 1800, assert(zoneinfo.get("GMT+5:30")):offset(0))
    assert.equals(14 * 3600, assert(zoneinfo.get("GMT+14:00")):offset(0))
    assert.equals(8 * 3600, assert(zoneinfo.get("Asia/Shanghai")):offset(utc("2026-01-01 00:00:00")))
    assert.equals(-8 * 3600, assert(zoneinfo.get("Etc/GMT+8")):offset(0))
    assert.is_true(assert(zoneinfo.get("GMT+8:00")):is_fixed())
    assert.is_false(assert(zoneinfo.get("Europe/Berlin")):is_fixed())
  end)

  it("rejects what the service rejects, naming the fix", function()
    assert.equals("zone: 'GMT+08:00' has a leading zero in the hour; write GMT+8:00 (the service rejects GMT+08:00)",
      select(2, zoneinfo.get("GMT+08:00")))
    assert.matches("GMT%+H:MM", select(2, zoneinfo.get("GMT+8")))
    assert.matches("out of range 0%-14", select(2, zoneinfo.get("GMT+15:00")))
    assert.matches("out of range 00%-59", select(2, zoneinfo.get("GMT+5:60")))
    assert.matches("only abbreviation accepted", select(2, zoneinfo.get("EST")), 1, true)
    assert.matches("only abbreviation accepted", select(2, zoneinfo.get("GMT")), 1, true)
    assert.matches("only abbreviation accepted", select(2, zoneinfo.get("Japan")), 1, true)
    assert.matches("write an offset as GMT%+H:MM", select(2, zoneinfo.get("UTC+8")))
    assert.matches("not a valid IANA", select(2, zoneinfo.get("../etc/passwd")))
    assert.matches("not a valid IANA", select(2, zoneinfo.get("Asia/../../etc")))
    assert.matches("not a known IANA time zone", select(2, zoneinfo.get("Asia/Atlantis")))
    assert.matches("non%-empty string", select(2, zoneinfo.get(8)))
  end)

  it("reads from a configurable directory", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir .. "/Test && cp /usr/share/zoneinfo/Europe/Berlin " .. dir
      .. "/Test/Zone && cp /usr/share/zoneinfo/UTC " .. dir .. "/UTC"))
    local z = assert(zoneinfo.get("Test/Zone", { dir = dir }))
    assert.equals(7200, z:offset(utc("2026-07-01 00:00:00")))
    assert.is_nil(zoneinfo.get("Test/Zone"))
    assert.matches("not a known IANA time zone %(no such file in " .. dir:gsub("%p", "%%%0"),
      select(2, zoneinfo.get("Europe/Berlin", { dir = dir })))
    os.execute("rm -rf " .. dir)
    assert.matches("install the tzdata package", select(2, zoneinfo.get("Europe/Paris", { dir = dir })), 1, true)
  end)

  it("maps wall times to UTC with the gap and overlap rule", function()
    local la = assert(zoneinfo.get("America/Los_Angeles"))
    assert.same({ utc("2026-03-08 10:00:00"), "gap" }, { la:from_wall(zoneinfo.wall_seconds(2026, 3, 8, 2, 30, 0)) })
    assert.same({ utc("2026-11-01 08:30:00"), "overlap" },
      { la:from_wall(zoneinfo.wall_seconds(2026, 11, 1, 1, 30, 0)) })
    assert.same({ utc("2026-07-01 19:00:00"), "ok" }, { la:from_wall(zoneinfo.wall_seconds(2026, 7, 1, 12, 0, 0)) })
    local lh = assert(zoneinfo.get("Australia/Lord_Howe"))
    -- 2026-10-04 02:00 +1030 -> 02:30 +11 (15:30 UTC the day before)
    assert.same({ utc("2026-10-03 15:30:00"), "gap" }, { lh:from_wall(zoneinfo.wall_seconds(2026, 10, 4, 2, 15, 0)) })
  end)
end)
