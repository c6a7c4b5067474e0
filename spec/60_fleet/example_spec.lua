-- examples/rolling_restart.lua runs against the emulator as a child process.
local support = require "60_fleet.support"
local helper = require "helpers.emulator"

local q = helper.shell_quote

local function run_example(env)
  local parts = { "cd " .. q(helper.root) .. " &&", "env",
                  "LUA_PATH=" .. q("./lua/?.lua;./lua/?/init.lua;;"), "LUA_CPATH=" .. q("./build/?.so;;") }
  for k, v in pairs(env) do parts[#parts + 1] = k .. "=" .. q(v) end
  parts[#parts + 1] = "lua5.4 examples/rolling_restart.lua 2>&1; echo \"exit=$?\""
  local p = assert(io.popen(table.concat(parts, " ")))
  local out = p:read("*a")
  p:close()
  return out, tonumber(out:match("exit=(%d+)%s*$"))
end

describe("examples/rolling_restart.lua", function()
  local emu
  setup(function() emu = support.start { scale = 100 } end)
  teardown(function() emu:stop() end)

  it("restarts the tagged fleet one instance at a time and exits 0", function()
    local out, code = run_example { ECS_ENDPOINT = emu.url }
    assert.equal(0, code, out)
    for _, id in ipairs { "i-bp1emuweb01", "i-bp1emuweb02", "i-bp1emuweb03" } do
      assert.matches(id .. "%s+success%s+exit 0%s+draining web%-0%d | restarting the server process | healthy", out)
    end
    assert.matches("all 3 instances restarted", out, 1, true)
    local runs = {}
    for _, inv in ipairs(support.state(emu).invocations) do
      assert.equal(1, #inv.Instances)
      runs[#runs + 1] = inv.Instances[1].InstanceId
    end
    assert.equal(3, #runs)
  end)

  it("stops when the first batch cannot be sent and exits 1", function()
    emu:admin("POST", "/_emulator/reset")
    emu:admin("POST", "/_emulator/faults", { { kind = "error503", action = "RunCommand" } })
    local out, code = run_example { ECS_ENDPOINT = emu.url }
    emu:admin("DELETE", "/_emulator/faults")
    assert.equal(1, code, out)
    assert.matches("stopped early", out, 1, true)
    assert.matches("batch 1: RunCommand failed", out, 1, true)
    assert.equal(0, #support.state(emu).invocations)
  end)

  it("refuses to run without ECS_ENDPOINT", function()
    local out, code = run_example {}
    assert.equal(2, code, out)
    assert.matches("set ECS_ENDPOINT", out, 1, true)
  end)
end)
