-- Every public function meets bad input: wrong types, nil, empty and 10 MB
-- strings, NUL bytes, invalid UTF-8, NaN and infinities, 10,000-deep and
-- cyclic tables, unknown option keys. Each must raise a clear error or
-- return nil, err (an error with a code and a message) or a result; never
-- crash, hang, or fail inside its own code ("attempt to index ...").
-- The functions come from the modules themselves (core.actions, the client
-- class, the C client's metatable, the module tables) checked against the
-- catalogue in cases.lua, so a public function without a case fails here.
-- Network: only 127.0.0.1 (port 1 refuses at once; the emulator elsewhere).
local core = require "ecs.core"
local ecs = require "ecs"
local frequency = require "ecs.frequency"
local zoneinfo = require "ecs.zoneinfo"
local emulator = require "ecs.emulator"
local S = require "95_hardening.support"
local C = require "95_hardening.cases"
local known = require "95_hardening.known"

local LIMIT = 5 -- seconds any one call may run

local DEAD = "http://127.0.0.1:1"

-- a client on a port that refuses at once, with a clock that sleeping advances
local function dead_client(extra)
  local t = 1700000000
  local cfg = { region = "cn-hangzhou", endpoint = DEAD, access_key_id = "id", access_key_secret = "secret",
                retry = { attempts = 2 }, timeout = { connect = 1, read = 1 },
                clock = function() return t end, sleep = function(s) t = t + s end, logger = function() end }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return ecs.new(cfg)
end

-- names of functions in t (skipping non-functions), sorted
local function functions_of(t)
  local out = {}
  for k, v in pairs(t) do
    if type(v) == "function" then out[#out + 1] = k end
  end
  table.sort(out)
  return out
end

--- Uncovered public names: functions in `mod` without a case or an internal entry.
local function uncovered(mod, cases, internal)
  local out = {}
  for _, name in ipairs(functions_of(mod)) do
    if not cases[name] and not (internal and internal[name]) then out[#out + 1] = name end
  end
  return out
end

--- Feeds each bad value to each argument (and each option key, and an
-- unknown key) of one case; returns a list of problems.
-- invoke(args, n) calls the function; prefix names it in reports.
local function walk(prefix, case, invoke)
  local problems = {}
  if case.skip_walk or case.internal then return problems end
  local n = #case.args
  local function check(where, vname, args, nargs, o_expect, in_option)
    local bug = known.skip(prefix, where, vname)
    if bug then return end
    local o = S.call(LIMIT, invoke, args, nargs)
    local p = S.problem(o)
    if not p and case.never_raises and in_option and o.kind == "raise" then p = "raises: " .. o.message:sub(1, 200) end
    if not p and o_expect == "raise_naming" and not (o.kind == "raise" and o.message:find(vname, 1, true)) then
      p = "accepts an unknown option (" .. o.kind .. ")"
    end
    if p then problems[#problems + 1] = ("%s %s = %s: %s"):format(prefix, where, vname, p) end
  end
  for i = 1, math.max(n, 1) do
    for _, bv in ipairs(S.bad_values()) do
      local args = C.copy(case.args)
      args[i] = bv[2]
      check("arg #" .. i, bv[1], args, math.max(n, i))
    end
  end
  if case.opts then
    for _, key in ipairs(case.keys or {}) do
      for _, bv in ipairs(S.bad_values()) do
        local args = C.copy(case.args)
        local o = C.copy(args[case.opts] or {})
        o[key] = bv[2]
        args[case.opts] = o
        check("option " .. key, bv[1], args, n, nil, true)
      end
    end
    if case.strict then
      local args = C.copy(case.args)
      local o = C.copy(args[case.opts] or {})
      o.no_such_option_xyz = true
      args[case.opts] = o
      check("option", "no_such_option_xyz", args, n, "raise_naming")
    end
  end
  return problems
end

local function walk_all(prefix, cases, invoke_for)
  local problems = {}
  local names = {}
  for name in pairs(cases) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    for _, p in ipairs(walk(prefix .. name, cases[name], invoke_for(name))) do problems[#problems + 1] = p end
  end
  return problems
end

local function report(problems)
  return #problems .. " problem(s):\n" .. table.concat(problems, "\n")
end

describe("bad input", function()
  describe("coverage of the catalogue", function()
    it("has a case for every function of ecs.core, the C client, ecs, the client class", function()
      local cl = core.new { endpoint = DEAD, access_key_id = "id", access_key_secret = "s" }
      local mt = getmetatable(cl)
      local methods = type(mt.__index) == "table" and mt.__index or mt
      local missing = {}
      local function add(what, list)
        for _, n in ipairs(list) do missing[#missing + 1] = what .. n end
      end
      add("ecs.core.", uncovered(core, C.core_cases()))
      add("C client:", uncovered(methods, C.core_client_cases()))
      add("ecs.", uncovered(ecs, C.module_cases()))
      add("client:", uncovered(ecs.Client, C.client_cases(), C.CLIENT_INTERNAL))
      add("ecs.frequency.", uncovered(frequency, C.frequency_cases()))
      add("ecs.zoneinfo.", uncovered(zoneinfo, C.zoneinfo_cases(), C.ZONEINFO_INTERNAL))
      add("zone:", uncovered(zoneinfo.Zone, C.zone_method_cases()))
      add("ecs.emulator.", uncovered(emulator, C.emulator_cases()))
      add("emulator service:", uncovered(getmetatable(emulator.new {}).__index, C.service_cases()))
      cl:close()
      assert.are.same({}, missing)
    end)

    it("has a per-action method on the C client, the client and the module for each of core.actions", function()
      assert.is_true(#core.actions >= 13)
      local cl = core.new { endpoint = DEAD, access_key_id = "id", access_key_secret = "s" }
      for _, a in ipairs(core.actions) do
        assert.are.equal("function", type(cl[a.method]), a.method)
        assert.are.equal("function", type(ecs.Client[a.method]), a.method)
        assert.are.equal("function", type(ecs[a.method]), a.method)
      end
      cl:close()
    end)
  end)

  it("ecs.core module functions", function()
    local cases = C.core_cases()
    local problems = walk_all("core.", cases, function(name)
      return function(args, n)
        local r = { core[name]((table.unpack or unpack)(args, 1, n)) }
        if name == "new" and type(r[1]) == "userdata" then r[1]:close() end
        return (table.unpack or unpack)(r)
      end
    end)
    assert(#problems == 0, report(problems))
  end)

  it("C client methods (a fresh client for each call)", function()
    local problems = walk_all("cl:", C.core_client_cases(), function(name)
      return function(args, n)
        local cl = core.new { endpoint = DEAD, region = "cn-hangzhou", access_key_id = "id", access_key_secret = "s",
                              timeout = 1, connect_timeout = 1 }
        local ok, a, b = pcall(cl[name], cl, (table.unpack or unpack)(args, 1, n))
        cl:close()
        if not ok then error(a, 0) end
        return a, b
      end
    end)
    assert(#problems == 0, report(problems))
  end)

  it("ecs module functions (default client on a refusing port), and the default client is unchanged", function()
    local c = dead_client()
    ecs.set_default_client(c)
    local before = S.snapshot(c.config)
    local problems = walk_all("ecs.", C.module_cases(), function(name)
      return function(args, n)
        local r = { ecs[name]((table.unpack or unpack)(args, 1, n)) }
        if name == "new" and type(r[1]) == "table" and r[1].close then r[1]:close() end
        return (table.unpack or unpack)(r)
      end
    end)
    assert.are.equal(c, ecs.default_client())
    assert.are.same(before, S.snapshot(c.config))
    ecs.set_default_client(nil)
    assert(#problems == 0, report(problems))
  end)

  it("client methods (client on a refusing port), and the client's config is unchanged", function()
    local c = dead_client()
    local before = S.snapshot(c.config)
    local problems = walk_all("client:", C.client_cases(), function(name)
      return function(args, n)
        local target = c
        if name == "close" or name == "__close" then target = dead_client() end
        return ecs.Client[name](target, (table.unpack or unpack)(args, 1, n))
      end
    end)
    assert.are.same(before, S.snapshot(c.config))
    c:close()
    assert(#problems == 0, report(problems))
  end)

  it("ecs.frequency", function()
    local problems = walk_all("frequency.", C.frequency_cases(), function(name)
      return function(args, n) return frequency[name]((table.unpack or unpack)(args, 1, n)) end
    end)
    assert(#problems == 0, report(problems))
  end)

  it("ecs.zoneinfo and zone objects", function()
    local problems = walk_all("zoneinfo.", C.zoneinfo_cases(), function(name)
      return function(args, n) return zoneinfo[name]((table.unpack or unpack)(args, 1, n)) end
    end)
    local z = assert(zoneinfo.get("America/New_York"))
    for _, p in ipairs(walk_all("zone:", C.zone_method_cases(), function(name)
      return function(args, n) return zoneinfo.Zone[name](z, (table.unpack or unpack)(args, 1, n)) end
    end)) do problems[#problems + 1] = p end
    assert(#problems == 0, report(problems))
  end)

  it("the emulator: new, generate_fleet and the service's methods (handle never raises for a bad request)", function()
    local problems = walk_all("emulator.", C.emulator_cases(), function(name)
      return function(args, n) return emulator[name]((table.unpack or unpack)(args, 1, n)) end
    end)
    local methods = getmetatable(emulator.new {}).__index
    for _, p in ipairs(walk_all("svc:", C.service_cases(), function(name)
      return function(args, n)
        local svc = emulator.new {} -- fresh: one call's damage must not show up as the next call's problem
        return methods[name](svc, (table.unpack or unpack)(args, 1, n))
      end
    end)) do problems[#problems + 1] = p end
    assert(#problems == 0, report(problems))
  end)

  it("rejected calls, repeated, do not grow the Lua heap or the process's resident memory", function()
    local function rss_kb()
      local f = assert(io.open("/proc/self/statm", "r"), "no /proc/self/statm")
      local pages = tonumber(f:read("*l"):match("^%d+%s+(%d+)"))
      f:close()
      return pages * 4
    end
    local cl = core.new { endpoint = DEAD, access_key_id = "id", access_key_secret = "s" }
    local c = dead_client()
    local svc = emulator.new {}
    local cyclic = {}
    cyclic.a = cyclic
    local rounds = {
      function() return core.new { endpoint = DEAD, access_key_id = "id", access_key_secret = "s", timeout = "x" } end,
      function() return core.flatten { Parameters = cyclic } end,
      function() return cl:prepare("InvokeCommand", { Parameters = { x = S.deep_map(40) } }) end,
      function() return cl:call_batch({ { "DescribeRegions", { Parameters = cyclic } } }) end,
      function() return c:invoke_command { CommandId = "c-1", InstanceId = { "i-1" }, Parameters = cyclic } end,
      function() return c:call("DescribeInstances", {}, { bogus = 1 }) end,
      function() return frequency.validate("0 0 25 * * ?") end,
      function() return svc:handle { path = 42 } end,
    }
    local function run(n)
      for _ = 1, n do
        for _, f in ipairs(rounds) do pcall(f) end
      end
      collectgarbage()
      collectgarbage()
    end
    run(200) -- warm up: caches, interned strings, allocator pools
    -- two equal stretches: a leak grows both, the allocator's one-off moves only one
    local growth = {}
    for i = 1, 2 do
      local heap, rss = collectgarbage("count"), rss_kb()
      run(1500)
      growth[i] = { heap = collectgarbage("count") - heap, rss = rss_kb() - rss }
    end
    cl:close()
    c:close()
    local heap_growth = math.min(growth[1].heap, growth[2].heap)
    local rss_growth = math.min(growth[1].rss, growth[2].rss)
    assert(heap_growth < 128, ("the Lua heap grew by %.0f KB per 12,000 rejected calls"):format(heap_growth))
    assert(rss_growth < 2048, ("resident memory grew by %.0f KB per 12,000 rejected calls"):format(rss_growth))
  end)

  it("ecs.set_default_client takes a client or nil", function()
    local c = dead_client()
    ecs.set_default_client(c)
    assert.are.equal(c, ecs.default_client())
    ecs.set_default_client(nil)
    local ok = pcall(ecs.set_default_client, c)
    assert.is_true(ok)
    ecs.set_default_client(nil)
  end)
end)
