-- Temporary credentials: refreshed a few minutes before they expire, one
-- refresh at a time, the current set served while still valid if a refresh
-- fails. Fake clock; concurrency through coroutines (as in nginx).
local refresh = require "ecs.credentials.refresh"
local common = require "ecs.credentials.common"
local errors = require "ecs.errors"
local ecs = require "ecs"
local metadata_server = require "helpers.metadata_server"

local function world()
  local w = { now = 10000, events = {}, fetches = 0, results = {} }
  w.clock = function() return w.now end
  w.log = function(ev) w.events[#w.events + 1] = ev end
  return w
end

-- fetch returns sets that expire `life` seconds after they are fetched
local function fetcher(w, life)
  return function()
    w.fetches = w.fetches + 1
    local r = w.results[w.fetches]
    if r == "fail" then return nil, errors.new { code = "Credentials.MetadataFailed", message = "down" } end
    if r == "raise" then error("boom") end
    return common.make("id" .. w.fetches, "secret" .. w.fetches, "token" .. w.fetches, w.now + life, "test")
  end
end

describe("credentials refresh", function()
  it("keeps a set until `margin` seconds before expiry, then fetches a new one", function()
    local w = world()
    local p = refresh.new { fetch = fetcher(w, 3600), clock = w.clock, log = w.log }
    assert.equals("id1", p.get().access_key_id)
    w.now = w.now + 3600 - 181
    assert.equals("id1", p.get().access_key_id)
    assert.equals(1, w.fetches)
    w.now = w.now + 2 -- 179 s before expiry: inside the default 180 s margin
    assert.equals("id2", p.get().access_key_id)
    assert.equals(2, w.fetches)
    assert.equals("refreshed", w.events[#w.events].action)
  end)

  it("uses the configured margin", function()
    local w = world()
    local p = refresh.new { fetch = fetcher(w, 3600), clock = w.clock, margin = 600 }
    p.get()
    w.now = w.now + 2999 -- 601 s left
    assert.equals("id1", p.get().access_key_id)
    w.now = w.now + 2
    assert.equals("id2", p.get().access_key_id)
  end)

  it("serves the current set while still valid if a refresh fails, and retries later", function()
    local w = world()
    w.results = { "ok", "fail", "raise", "ok" }
    local p = refresh.new { fetch = fetcher(w, 3600), clock = w.clock, log = w.log }
    p.get()
    w.now = w.now + 3500 -- 100 s left
    assert.equals("id1", p.get().access_key_id)
    assert.equals(2, w.fetches)
    local warn = w.events[#w.events]
    assert.equals("warning", warn.event)
    assert.matches("refresh failed %(Credentials.MetadataFailed%)", warn.message)
    -- no new attempt for a short while (not on every call)
    w.now = w.now + 5
    assert.equals("id1", p.get().access_key_id)
    assert.equals(2, w.fetches)
    -- the next try raises inside fetch: still served
    w.now = w.now + 10
    assert.equals("id1", p.get().access_key_id)
    assert.equals(3, w.fetches)
    w.now = w.now + 20
    assert.equals("id4", p.get().access_key_id)
  end)

  it("fails once the current set has expired and the refresh fails", function()
    local w = world()
    w.results = { "ok", "fail" }
    local p = refresh.new { fetch = fetcher(w, 3600), clock = w.clock }
    p.get()
    w.now = w.now + 3601
    local c, e = p.get()
    assert.is_nil(c)
    assert.equals("Credentials.MetadataFailed", e.code)
  end)

  it("runs one refresh at a time; other callers get the current set meanwhile", function()
    local w = world()
    local inner = fetcher(w, 3600)
    local gate = false
    local p = refresh.new { clock = w.clock, sleep = function() coroutine.yield() end,
      fetch = function()
        if w.fetches >= 1 then
          gate = true
          coroutine.yield() -- the fetch waits on the network
        end
        return inner()
      end }
    p.get()
    w.now = w.now + 3500
    local a = coroutine.create(function() return p.get() end)
    local b = coroutine.create(function() return p.get() end)
    assert.is_true(coroutine.resume(a)) -- a starts the refresh and waits
    assert.is_true(gate)
    local ok, got = coroutine.resume(b) -- b does not start another one
    assert.is_true(ok)
    assert.equals("id1", got.access_key_id)
    local _, got_a = coroutine.resume(a)
    assert.equals("id2", got_a.access_key_id)
    assert.equals(2, w.fetches)
  end)

  it("a caller without valid credentials waits for the refresh in progress", function()
    local w = world()
    local inner = fetcher(w, 3600)
    local p = refresh.new { clock = w.clock, sleep = function() coroutine.yield("sleeping") end,
      fetch = function()
        coroutine.yield("fetching")
        return inner()
      end }
    local a = coroutine.create(function() return p.get() end)
    local b = coroutine.create(function() return p.get() end)
    assert.same({ true, "fetching" }, { coroutine.resume(a) })
    assert.same({ true, "sleeping" }, { coroutine.resume(b) })
    local _, ca = coroutine.resume(a)
    local _, cb = coroutine.resume(b)
    assert.equals("id1", ca.access_key_id)
    assert.equals(ca, cb)
    assert.equals(1, w.fetches)
  end)

  it("walks the chain once when two coroutines ask at the same time", function()
    local credentials = require "ecs.credentials"
    local requests = 0
    local function http(req)
      requests = requests + 1
      coroutine.yield("waiting on the network")
      if req.method == "PUT" then return { status = 200, headers = {}, body = "tok" } end
      if req.url:match("/security%-credentials/$") then return { status = 200, headers = {}, body = "R" } end
      return { status = 200, headers = {}, body = '{"Code":"Success","AccessKeyId":"STS.x","AccessKeySecret":"s",'
        .. '"SecurityToken":"t","Expiration":"2099-01-01T00:00:00Z"}' }
    end
    local p = credentials.provider({ credentials = { getenv = function() return nil end, home = "/nonexistent",
                                                     http = http, metadata = { url = "http://127.0.0.1:9" } } },
                                   { clock = os.time, sleep = function() coroutine.yield("sleeping") end })
    local a = coroutine.create(function() return p.get() end)
    local b = coroutine.create(function() return p.get() end)
    local results = {}
    for _ = 1, 20 do
      for name, co in pairs { a = a, b = b } do
        if coroutine.status(co) == "suspended" then
          local ok, v = coroutine.resume(co)
          assert.is_true(ok, tostring(v))
          if coroutine.status(co) == "dead" then results[name] = v end
        end
      end
    end
    assert.equals("STS.x", results.a.access_key_id)
    assert.equals(results.a, results.b)
    assert.equals(3, requests)
  end)

  it("refreshes ECS role credentials from the metadata service before they expire", function()
    local fake = metadata_server.start()
    finally(function() fake:stop() end)
    fake:configure { expires_in = 3600 }
    local now = os.time()
    local client = ecs.new { region = "cn-hangzhou", endpoint = fake.url, signature_version = "v2",
      clock = function() return now end,
      credentials = { getenv = function() return nil end, home = "/nonexistent", metadata = { url = fake.url } } }
    assert.truthy(client:describe_instances {})
    local first = client.last_creds
    now = now + 3300 -- still > 180 s left: same set
    assert.truthy(client:describe_instances {})
    assert.equals(first, client.last_creds)
    now = now + 200 -- within the margin: a new set, used for the call
    assert.truthy(client:describe_instances {})
    assert.not_equals(first.access_key_id, client.last_creds.access_key_id)
    local token_puts = 0
    for _, e in ipairs(fake:log()) do if e.path == "/latest/api/token" then token_puts = token_puts + 1 end end
    assert.equals(2, token_puts)
  end)
end)
