-- The C client's life cycle without the network: configuration errors,
-- close (idempotent, also __gc and 5.4's __close), use after close.
local core = require "ecs.core"

local function new(extra)
  local cfg = { endpoint = "http://127.0.0.1:9", region = "cn-hangzhou", access_key_id = "LTAItestid",
                access_key_secret = "testsecret" }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return core.new(cfg)
end

describe("core.new", function()
  it("raises naming a bad option", function()
    local cases = {
      { { endpoint = 1 }, "endpoint" }, { { endpoint = "ftp://h" }, "endpoint" },
      { { endpoint = "http://" }, "endpoint" }, { { timeout = 0 }, "timeout" },
      { { connect_timeout = "5" }, "connect_timeout" }, { { verify = "yes" }, "verify" },
      { { signature_version = "v1" }, "signature_version" }, { { ca_file = 1 }, "ca_file" }, { { bogus = 1 }, "bogus" },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(new, c[1])
      assert.is_false(ok, c[2])
      assert.is_truthy(tostring(err):find("'" .. c[2] .. "'", 1, true), tostring(err))
    end
    local ok, err = pcall(core.new, { region = "cn-hangzhou" })
    assert.is_false(ok)
    assert.matches("endpoint", err)
  end)

  it("adds a trailing slash to an endpoint without a path and keeps a path", function()
    assert.are.equal("http://127.0.0.1:9/", new():prepare("X", {}).url)
    local req = new { endpoint = "https://ecs.example.test/base" }:prepare("X", {})
    assert.are.equal("/base", req.path)
    assert.are.equal("ecs.example.test", req.host)
  end)

  it("has one method per action besides the generic ones", function()
    local cl = new()
    for _, a in ipairs(core.actions) do assert.are.equal("function", type(cl[a.method]), a.method) end
    for _, m in ipairs { "call", "prepare", "send", "send_batch", "call_batch", "set_credentials",
                         "set_time_offset", "time", "stats", "close" } do
      assert.are.equal("function", type(cl[m]), m)
    end
  end)

  it("starts with zero stats", function()
    assert.are.same({ requests = 0, connections = 0 }, new():stats())
  end)
end)

describe("closing the C client", function()
  it("is idempotent, and every later use raises", function()
    local cl = new()
    cl:close()
    cl:close()
    assert.are.equal("ecs.core.client(closed)", tostring(cl))
    for _, f in ipairs { function() cl:prepare("X", {}) end, function() cl:call("X", {}) end,
                         function() cl:stats() end, function() cl:set_credentials("a", "b") end,
                         function() cl:invoke_command {} end } do
      local ok, err = pcall(f)
      assert.is_false(ok)
      assert.matches("closed", err)
    end
  end)

  it("is what the garbage collector does to many clients", function()
    for _ = 1, 300 do
      local cl = new()
      cl:prepare("DescribeInstances", { InstanceIds = { "i-1" } })
    end
    collectgarbage()
    collectgarbage()
    local cl = new()
    assert.are.equal("table", type(cl:prepare("X", {})))
  end)

  if _VERSION == "Lua 5.4" then
    it("happens at the end of a <close> block (5.4)", function()
      local chunk = assert(load([[
        local core, cfg = ...
        local kept
        do
          local cl <close> = core.new(cfg)
          kept = cl
          assert(cl:prepare("X", {}))
        end
        return tostring(kept)
      ]]))
      assert.are.equal("ecs.core.client(closed)", chunk(core, { endpoint = "http://127.0.0.1:9",
        access_key_id = "a", access_key_secret = "b" }))
    end)
  end
end)
