-- Bugs the bad-input walk (bad_input_spec.lua) found in the C core, the
-- client, the config and the fleet layer, all fixed: one spec each keeps the
-- right behaviour pinned. Repros that crashed or hung run in a child process.
local core = require "ecs.core"
local ecs = require "ecs"
local S = require "95_hardening.support"

local DEAD = "http://127.0.0.1:1"

local function clear_raise(pattern, fn, ...)
  local o = S.call(3, fn, ...)
  assert.are.equal("raise", o.kind, "expected a clear raise, got " .. o.kind .. " " .. tostring(o.message or o.err))
  assert.is_nil(S.internal_error(o.message), o.message)
  assert.is_true(#o.message < 1000, "message of " .. #o.message .. " bytes")
  if pattern then assert.is_truthy(o.message:find(pattern), ("%q does not match %q"):format(o.message, pattern)) end
end

local function dead_client()
  local t = 1700000000
  return ecs.new { region = "cn-hangzhou", endpoint = DEAD, access_key_id = "id", access_key_secret = "secret",
                   clock = function() return t end, sleep = function(s) t = t + s end }
end

local function child(source)
  local rc, out, err = S.run_child("local core = require 'ecs.core'\nlocal ecs = require 'ecs'\n" .. source,
    "timeout 3")
  return rc, out, err
end

describe("bugs found by the bad-input walk", function()
  it("core.new with a non-string user_agent or version raises without a double free at collection", function()
    for _, key in ipairs { "user_agent", "version" } do
      local rc, out, err = child(([[
        local ok, msg = pcall(core.new, { endpoint = "http://127.0.0.1:1", %s = 42 })
        assert(not ok and msg:find("%s", 1, true), msg)
        collectgarbage() collectgarbage()
        io.write("survived")
      ]]):format(key, key))
      assert.are.equal(0, rc, key .. ": " .. err)
      assert.are.equal("survived", out)
    end
  end)

  it("cl:set_time_offset rejects NaN, infinities and offsets past any date (UB in ecs_format_timestamp)", function()
    local cl = core.new { endpoint = DEAD, access_key_id = "id", access_key_secret = "s" }
    for _, v in ipairs { 0 / 0, math.huge, -math.huge, 1e300 } do
      clear_raise("set_time_offset", cl.set_time_offset, cl, v)
    end
    cl:close()
  end)

  it("cl:call and cl:prepare reject a non-finite or far-off 'timestamp' option (same UB; in a child)", function()
    local rc, out, err = child([[
      local cl = core.new { endpoint = "http://127.0.0.1:1", access_key_id = "id", access_key_secret = "s" }
      for _, v in ipairs { 0 / 0, math.huge, -math.huge, 1e300 } do
        local ok, msg = pcall(cl.prepare, cl, "DescribeRegions", {}, { timestamp = v })
        if ok or not tostring(msg):find("timestamp", 1, true) then io.write("accepted ", tostring(v), "\n") end
      end
    ]])
    assert.are.equal(0, rc, err)
    assert.are.equal("", out)
  end)

  it("cl:call_batch rejects concurrency = NaN (passes 'n < 1 || n > MAX', then (size_t)NaN; in a child)", function()
    local rc, out, err = child([[
      local cl = core.new { endpoint = "http://127.0.0.1:1", access_key_id = "id", access_key_secret = "s" }
      local ok, msg = pcall(cl.call_batch, cl, { { "DescribeRegions", {} } }, { concurrency = 0 / 0 })
      if ok or not tostring(msg):find("concurrency", 1, true) then io.write("accepted") end
    ]])
    assert.are.equal(0, rc, err)
    assert.are.equal("", out)
  end)

  it("cl:send names the headers when a header name is not a string (lua_tostring on the key broke lua_next)", function()
    local cl = core.new { endpoint = DEAD, access_key_id = "id", access_key_secret = "s" }
    clear_raise("headers must map names to strings", cl.send, cl,
      { method = "POST", url = DEAD .. "/", headers = { "x", "y" }, body = "" })
    cl:close()
  end)

  it("cl:call and cl:prepare reject an action name with CR/LF or NUL (it went into the x-acs-action header)", function()
    local cl = core.new { endpoint = DEAD, access_key_id = "id", access_key_secret = "s" }
    clear_raise("action", cl.prepare, cl, "Describe\r\nX-Injected: 1", {})
    clear_raise("action", cl.prepare, cl, "Describe\0Regions", {})
    clear_raise("action", cl.call, cl, "Describe\r\nX-Injected: 1", {})
    cl:close()
  end)

  it("core.decode gives an error with a message for a non-2xx JSON body without Code/Message", function()
    local res, err = core.decode(500, '{"RequestId":"r-1"}')
    assert.is_nil(res)
    assert.are.equal("string", type(err.message))
    assert.is_truthy(err.message:find("500", 1, true))
  end)

  it("errors quote at most a short prefix of a bad value (a 10 MB value made a 10 MB message)", function()
    local huge = S.huge()
    clear_raise("endpoint", core.new, { endpoint = huge })
    clear_raise("signature_version", core.new, { endpoint = DEAD, signature_version = huge })
    for _, k in ipairs { "region", "network", "signature_version", "transport" } do
      clear_raise(k, ecs.new, { endpoint = DEAD, [k] = huge })
    end
    local c = dead_client()
    clear_raise("timeout", c.wait_invocation, c, "t-1", { timeout = huge })
  end)

  it("client:call_batch checks its options: type, unknown keys, concurrency", function()
    local c = dead_client()
    clear_raise("options", c.call_batch, c, { { "DescribeInstances", {} } }, 42)
    clear_raise("no_such_option", c.call_batch, c, { { "DescribeInstances", {} } }, { no_such_option = 1 })
    clear_raise("concurrency", c.call_batch, c, { { "DescribeInstances", {} } }, { concurrency = 0 / 0 })
  end)

  it("client:prepare checks its options", function()
    local c = dead_client()
    clear_raise("options", c.prepare, c, "DescribeInstances", {}, 42)
  end)

  it("client:invocation_quota returns at once for a 10 MB region (quadratic '(%S+)$' match)", function()
    local rc, _, err = child([[
      local c = ecs.new { region = "cn-hangzhou", endpoint = "http://127.0.0.1:1", access_key_id = "i",
                          access_key_secret = "s" }
      pcall(c.invocation_quota, c, string.rep("A", 10 * 1024 * 1024))
    ]])
    assert.are.equal(0, rc, "exit status " .. tostring(rc) .. " (124: still running after 3 s) " .. err)
  end)

  it("client:invocation_quota(42) says the region must be a string (it says none was given)", function()
    local c = dead_client()
    clear_raise("string", c.invocation_quota, c, 42)
  end)

  it("client:wait_invocation rejects grace = 1e300 (it polls for ever)", function()
    local c = dead_client()
    clear_raise("grace", c.wait_invocation, c, "t-1", { grace = 1e300 })
  end)

  it("client:wait_invocation reports the network error when no poll got through (it says 'not found')", function()
    local c = dead_client()
    local res, err = c:wait_invocation("t-123", { timeout = 60 })
    assert.is_nil(res)
    assert.are.equal("Network.ConnectFailed", err.code, err.code .. ": " .. tostring(err.message))
  end)

  it("ecs.set_default_client takes a client or nil, nothing else", function()
    clear_raise("client", ecs.set_default_client, 42)
    ecs.set_default_client(nil)
  end)

  it("ecs.new refuses unknown keys inside 'quota' and 'ngx'", function()
    clear_raise("no_such_key", ecs.new, { endpoint = DEAD, quota = { no_such_key = 1 } })
    clear_raise("no_such_key", ecs.new, { endpoint = DEAD, ngx = { no_such_key = 1 } })
  end)

  it("ecs.new refuses an endpoint that is not an http(s) URL at once (it failed at the first call)", function()
    clear_raise("endpoint", ecs.new, { endpoint = "x" })
    clear_raise("endpoint", ecs.new, { endpoint = "\255\254" })
  end)
end)
