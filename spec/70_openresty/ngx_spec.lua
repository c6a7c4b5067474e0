-- The ngx transport in a real nginx: phases that cannot yield, ngx.thread
-- batches under the concurrency cap, keep-alive through the connection pool,
-- chunked answers, timeouts, and no network at require time.
local helper = require "helpers.emulator"
local nginx = require "helpers.nginx"
local support = require "70_openresty.support"

local decode = support.decode

describe("ngx transport", function()
  local emu, ng, fake_port

  setup(function()
    emu = helper.start()
    fake_port = helper.free_port()
    ng = nginx.start {
      env = { ECS_ENDPOINT = emu.url },
      http = ([[
        lua_shared_dict ecs_test 1m;
        init_by_lua_block {
          -- loading the module and building a client touches no network
          local ecs = require "ecs"
          local c = ecs.new { region = "cn-beijing", endpoint = os.getenv("ECS_ENDPOINT"),
                              access_key_id = "testid", access_key_secret = "testsecret" }
          assert(tostring(c):find("cn-beijing", 1, true))
        }
        init_worker_by_lua_block {
          local app = require "70_openresty.ngx_app"
          app.from_phase("init_worker")
          app.from_timer("timer")
          app.raw("raw_init_worker")
        }
        server {
          listen 127.0.0.1:%d;
          location / { content_by_lua_block { require("70_openresty.ngx_app").chunked_service() } }
        }
      ]]):format(fake_port),
      server = [[
        location = /raw { content_by_lua_block { require("70_openresty.ngx_app").raw() } }
        location = /results { content_by_lua_block { require("70_openresty.ngx_app").results() } }
        location = /call { content_by_lua_block { require("70_openresty.ngx_app").calls() } }
        location = /batch { content_by_lua_block { require("70_openresty.ngx_app").batch() } }
        location = /endpoint { content_by_lua_block { require("70_openresty.ngx_app").endpoint() } }
        location = /log {
          content_by_lua_block { ngx.say("logged") }
          log_by_lua_block { require("70_openresty.ngx_app").from_phase("log") }
        }
        location = /header {
          content_by_lua_block { ngx.say("header") }
          header_filter_by_lua_block { require("70_openresty.ngx_app").from_phase("header_filter") }
        }
        location = /set {
          set_by_lua_block $code {
            local out = require("70_openresty.ngx_app").from_phase("set")
            return out.code or "none"
          }
          return 200 "$code\n";
        }
      ]],
    }
  end)

  teardown(function() support.stop(ng, emu) end)

  before_each(function() support.clear_faults(emu) end)

  local function results()
    local status, _, body = ng:request("GET", "/results")
    assert.are.equal(200, status, body)
    return decode(body)
  end

  it("touches no network at require time or when a client is built", function()
    -- init_by_lua required ecs and built a cn-beijing client: nothing reached the emulator
    local seen = support.requests(emu)
    for _, r in ipairs(seen) do assert.are_not.equal("cn-beijing", r.params.RegionId) end
    assert.matches("start worker process", ng:error_log())
    assert.is_nil(ng:error_log():find("[error]", 1, true))
  end)

  it("refuses a call in init_worker with an error naming the phase and the timer way out", function()
    local r = results().init_worker
    assert.is_table(r)
    assert.is_false(r.ok)
    assert.is_nil(r.raised)
    assert.are.equal("Ngx.PhaseNotYieldable", r.code)
    assert.are.equal("init_worker", r.phase)
    assert.matches("'init_worker' phase", r.message, 1, true)
    assert.matches("ngx.timer.at", r.message, 1, true)
    assert.is_false(r.retryable)
    assert.matches("^DescribeRegions: Ngx.PhaseNotYieldable", r.text)
  end)

  it("runs the same call from a timer started in init_worker", function()
    local r
    for _ = 1, 100 do
      r = results().timer
      if r then break end
      require("socket").sleep(0.02)
    end
    assert.is_table(r)
    assert.is_true(r.ok, r.text)
    assert.is_string(r.request_id)
  end)

  for _, p in ipairs { { "log", "/log" }, { "header_filter", "/header" }, { "set", "/set" } } do
    it("refuses a call in the " .. p[1] .. " phase, and the request still succeeds", function()
      local status, _, body = ng:request("GET", p[2])
      assert.are.equal(200, status, body)
      if p[1] == "set" then assert.are.equal("Ngx.PhaseNotYieldable\n", body) end
      local r
      for _ = 1, 50 do -- the log phase runs after the answer is sent
        r = results()[p[1]]
        if r then break end
        require("socket").sleep(0.02)
      end
      assert.is_table(r)
      assert.is_false(r.ok)
      assert.is_nil(r.raised)
      assert.are.equal("Ngx.PhaseNotYieldable", r.code)
      assert.matches("'" .. p[1] .. "' phase", r.message, 1, true)
      assert.is_nil(ng:error_log():find("attempt to yield", 1, true))
    end)
  end

  it("keeps one connection alive across calls through the nginx pool", function()
    local status, _, body = ng:request("GET", "/call?n=5")
    assert.are.equal(200, status, body)
    local doc = decode(body)
    for i = 1, 5 do assert.is_true(doc.results[i].ok, doc.results[i].text) end
    -- the pool belongs to the worker: an earlier call may have left the connection there
    assert.are.equal(5, doc.stats.requests)
    assert.is_true(doc.stats.connections <= 1)
    assert.are.equal(5, doc.stats.connections + doc.stats.reused)
    local opened = doc.stats.connections
    -- the next request to nginx reuses the pooled connection
    status, _, body = ng:request("GET", "/call?n=1")
    assert.are.equal(200, status, body)
    doc = decode(body)
    assert.is_true(doc.results[1].ok)
    assert.are.equal(6, doc.stats.requests)
    assert.are.equal(opened, doc.stats.connections)
  end)

  it("fans a batch out over ngx.thread, never more than the cap in flight", function()
    local D = 0.3
    emu:admin("POST", "/_emulator/faults", { { kind = "delay", action = "DescribeRegions", delay = D } })
    local status, _, body = ng:request("GET", "/batch?n=12&c=4")
    assert.are.equal(200, status, body)
    local doc = decode(body)
    assert.are.equal(12, doc.ok)
    assert.are.equal(12, doc.n)
    assert.are.equal(4, doc.stats.max_in_flight)
    assert.are.equal(12, doc.stats.requests)
    print(("\n  batch of 12, cap 4, D = %.1f s: %.2f s (3 rounds = %.1f s; one by one = %.1f s)")
      :format(D, doc.elapsed, 3 * D, 12 * D))
    assert.is_true(doc.elapsed >= 3 * D - 0.05)
    assert.is_true(doc.elapsed < 6 * D)
  end)

  it("gives Network.Timeout when the answer is later than the read timeout", function()
    emu:admin("POST", "/_emulator/faults", { { kind = "delay", action = "DescribeRegions", delay = 1.5 } })
    local status, _, body = ng:request("GET", "/call?fresh=1&read=0.3")
    assert.are.equal(200, status, body)
    local r = decode(body).results[1]
    assert.is_false(r.ok)
    assert.are.equal("Network.Timeout", r.code)
    assert.is_true(r.retryable)
  end)

  it("ecs.ngx.request.http (for credential sources) works in content and refuses init_worker", function()
    local status, _, body = ng:request("GET", "/raw")
    assert.are.equal(200, status, body)
    local r = decode(body)
    assert.is_true(r.ok, body)
    assert.are.equal(200, r.status)
    assert.matches("^application/json", r.json)
    assert.is_true(r.has_fleet)
    r = results().raw_init_worker
    assert.is_false(r.ok)
    assert.are.equal("Ngx.PhaseNotYieldable", r.code)
    assert.matches("'init_worker' phase", r.message, 1, true)
  end)

  it("reads a chunked answer", function()
    local status, _, body = ng:request("GET", "/endpoint?url=http://127.0.0.1:" .. fake_port)
    assert.are.equal(200, status, body)
    local r = decode(body)
    assert.is_true(r.ok, r.text)
    assert.are.equal("chunked-1", r.request_id)
    assert.are.equal("cn-shanghai", r.regions.Region[2].RegionId)
  end)

  it("reports a refused connection as Network.ConnectFailed, not sent", function()
    local port = helper.free_port()
    local status, _, body = ng:request("GET", "/endpoint?url=http://127.0.0.1:" .. port)
    assert.are.equal(200, status, body)
    local r = decode(body)
    assert.is_false(r.ok)
    assert.are.equal("Network.ConnectFailed", r.code)
  end)
end)
