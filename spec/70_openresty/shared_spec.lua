-- ecs.ngx.shared: the credential cache and the daily invocation count, with
-- a per-worker dict and an injected clock, then across two real nginx workers.
local shared = require "ecs.ngx.shared"
local helper = require "helpers.emulator"
local nginx = require "helpers.nginx"
local support = require "70_openresty.support"

local function fake_clock(t)
  local c = { t = t }
  c.now = function() return c.t end
  c.sleep = function(s) c.t = c.t + s end
  return c
end

local function counting_provider(clock, lifetime)
  local p = { calls = 0, source = "test" }
  function p.get()
    p.calls = p.calls + 1
    if p.fail then return nil, { code = "Credentials.Failed", message = "refresh failed" } end
    return { access_key_id = "STS.id" .. p.calls, access_key_secret = "sec" .. p.calls, security_token = "tok",
             expiration = lifetime and (clock.now() + lifetime) or nil }
  end
  return p
end

-- A fake clock at t, a local dict on it, and a counting provider whose
-- credentials live `lifetime` seconds.
local function fixture(t, lifetime)
  local clock = fake_clock(t)
  return clock, shared.local_dict(clock.now), counting_provider(clock, lifetime)
end

-- shared.credentials over inner, caching in d, on clock's time and sleep (or the sleep given).
local function cached(inner, d, clock, sleep)
  return shared.credentials(inner, { dict = d, clock = clock.now, sleep = sleep or clock.sleep })
end

describe("ecs.ngx.shared", function()
  it("local dict: get, set with expiry, add, incr, delete", function()
    local clock = fake_clock(1000)
    local d = shared.local_dict(clock.now)
    assert.is_true(d:set("a", "x", 10))
    assert.are.equal("x", d:get("a"))
    assert.are.same({ false, "exists" }, { d:add("a", "y") })
    clock.t = 1010
    assert.is_nil(d:get("a"))
    assert.is_true(d:add("a", "y"))
    assert.are.equal(5, d:incr("n", 5, 0))
    assert.are.equal(7, d:incr("n", 2, 0))
    assert.are.same({ nil, "not found" }, { d:incr("m", 1) })
    d:delete("n")
    assert.is_nil(d:get("n"))
  end)

  it("dict(name) outside nginx names the lua_shared_dict directive", function()
    assert.has_error(function() shared.dict("ecs_cache") end,
      "ecs.ngx.shared: no lua_shared_dict 'ecs_cache' (declare it in the http block of nginx.conf: "
      .. "lua_shared_dict ecs_cache 1m;)")
    assert.has_error(function() shared.credentials({}) end,
      "ecs.ngx.shared.credentials: expected a provider with get()")
  end)

  it("one refresh serves every reader of the dict until shortly before expiry", function()
    local clock, d, inner = fixture(5000, 3600)
    local w1 = cached(inner, d, clock)
    local w2 = cached(inner, d, clock)
    local a = assert(w1.get())
    assert.are.equal("STS.id1", a.access_key_id)
    local b = assert(w2.get())
    assert.are.equal("STS.id1", b.access_key_id)
    assert.are.equal("tok", b.security_token)
    assert.are.equal(1, inner.calls)
    assert.are.equal(b, w2.get()) -- same table while the cache is unchanged
    clock.t = 5000 + 3600 - 299    -- inside the refresh margin
    assert.are.equal("STS.id2", w2.get().access_key_id)
    assert.are.equal("STS.id2", w1.get().access_key_id)
    assert.are.equal(2, inner.calls)
  end)

  it("while another worker holds the refresh lock, valid cached credentials are used", function()
    local clock, d, inner = fixture(100, 1000)
    local p = cached(inner, d, clock)
    assert(p.get())
    clock.t = 100 + 800               -- due for refresh, still valid
    d:add("ecs:credentials:lock", true, 10)
    assert.are.equal("STS.id1", p.get().access_key_id)
    assert.are.equal(1, inner.calls)
  end)

  it("with nothing cached and the lock taken, waits for the other worker's result", function()
    local clock, d, inner = fixture(100, 1000)
    local other = cached(inner, d, clock)
    d:add("ecs:credentials:lock", true, 10)
    local waits = 0
    local p = cached(inner, d, clock, function(s)
      waits = waits + 1
      clock.sleep(s)
      if waits == 3 then -- the other worker finishes its refresh
        d:delete("ecs:credentials:lock")
        assert(other.get())
      end
    end)
    assert.are.equal("STS.id1", p.get().access_key_id)
    assert.are.equal(3, waits)
    assert.are.equal(1, inner.calls)
  end)

  it("keeps using still-valid credentials when a refresh fails; fails once they expired", function()
    local clock, d, inner = fixture(100, 1000)
    local p = cached(inner, d, clock)
    assert(p.get())
    inner.fail = true
    clock.t = 100 + 900
    assert.are.equal("STS.id1", p.get().access_key_id)
    clock.t = 100 + 1001
    local c, err = p.get()
    assert.is_nil(c)
    assert.are.equal("Credentials.Failed", err.code)
    assert.is_nil(d:get("ecs:credentials:lock"))
  end)

  it("does not cache credentials without an expiration", function()
    local clock = fake_clock(100)
    local inner = counting_provider(clock, nil)
    local p = shared.credentials(inner, { clock = clock.now, sleep = clock.sleep })
    assert(p.get()); assert(p.get())
    assert.are.equal(2, inner.calls)
  end)

  it("counts invocations per region and UTC day", function()
    local clock = fake_clock(os.time { year = 2026, month = 3, day = 1, hour = 12 } )
    local d = shared.local_dict(clock.now)
    local c1 = shared.counter { dict = d, clock = clock.now }
    local c2 = shared.counter { dict = d, clock = clock.now }
    assert.are.equal(1, c1.add("cn-hangzhou"))
    assert.are.equal(4, c2.add("cn-hangzhou", 3))
    assert.are.equal(1, c2.add("cn-beijing"))
    assert.are.equal(4, c1.get("cn-hangzhou"))
    clock.t = clock.t + 86400
    assert.are.equal(0, c1.get("cn-hangzhou"))
    assert.are.equal(1, c1.add("cn-hangzhou"))
  end)
end)

describe("ecs.ngx.shared across two nginx workers", function()
  local emu, ng

  setup(function()
    emu = helper.start()
    ng = nginx.start {
      workers = 2,
      env = { ECS_ENDPOINT = emu.url },
      http = [[
        lua_shared_dict ecs_shared 1m;
        lua_shared_dict ecs_test 1m;
      ]],
      server = [[
        location = /creds { content_by_lua_block {
          local shared = require "ecs.ngx.shared"
          local inner = { source = "slow-sts", get = function()
            ngx.shared.ecs_test:incr("refreshes", 1, 0)
            ngx.sleep(0.2)
            return { access_key_id = "testid", access_key_secret = "testsecret", security_token = nil,
                     expiration = ngx.time() + 3600 }
          end }
          local c = require("ecs").new { region = "cn-hangzhou", endpoint = os.getenv("ECS_ENDPOINT"),
            retry = false, credentials = shared.credentials(inner, { shared_dict = "ecs_shared" }) }
          local res, err = c:call("DescribeRegions", {})
          local counter = shared.counter { shared_dict = "ecs_shared" }
          if res then counter.add("cn-hangzhou") end
          ngx.say(res and "ok " .. ngx.worker.pid() or tostring(err))
        } }
        location = /counts { content_by_lua_block {
          local shared = require "ecs.ngx.shared"
          ngx.say(ngx.shared.ecs_test:get("refreshes") or 0, " ",
                  shared.counter({ shared_dict = "ecs_shared" }).get("cn-hangzhou"))
        } }
      ]],
    }
  end)

  teardown(function() support.stop(ng, emu) end)

  it("refreshes credentials once for 20 concurrent requests and counts in one place", function()
    local results = ng:concurrent(20, "GET", "/creds")
    local pids = {}
    for i, r in ipairs(results) do
      assert.are.equal(200, r.status, r.body)
      local pid = r.body:match("^ok (%d+)")
      assert(pid, "request " .. i .. ": " .. tostring(r.body))
      pids[pid] = true
    end
    local workers = 0
    for _ in pairs(pids) do workers = workers + 1 end
    print(("\n  20 concurrent requests served by %d of 2 workers"):format(workers))
    local status, _, body = ng:request("GET", "/counts")
    assert.are.equal(200, status)
    assert.are.equal("1 20\n", body)
    local seen = support.requests(emu, "DescribeRegions")
    assert.are.equal(20, #seen)
  end)
end)
