-- Fleet spec support: an emulator on a fast clock and a client whose clock
-- and sleep run at the same speed, plus small admin helpers.
local busted = require "busted"
local socket = require "socket"
local helper = require "helpers.emulator"
local ecs = require "ecs"

local M = {}

M.SCALE = 50   -- emulated seconds per real second

--- start(opts) -> emu; opts.args are extra emulator arguments.
function M.start(opts)
  opts = opts or {}
  local args = { "--time-scale", tostring(opts.scale or M.SCALE) }
  for _, a in ipairs(opts.args or {}) do args[#args + 1] = a end
  return helper.start { args = args }
end

--- client(emu, cfg) -> a client on the emulator with a clock scaled like the emulator's.
function M.client(emu, cfg)
  local scale = (cfg and cfg.scale) or M.SCALE
  local t0 = socket.gettime()
  local c = {
    region = "cn-hangzhou", endpoint = emu.url, access_key_id = "testid", access_key_secret = "testsecret",
    clock = function() return t0 + (socket.gettime() - t0) * scale end,
    sleep = function(s) if s > 0 then socket.sleep(s / scale) end end,
    retry = { attempts = 3, base_delay = 0.01, max_delay = 0.05 },
  }
  for k, v in pairs(cfg or {}) do if k ~= "scale" then c[k] = v end end
  return ecs.new(c)
end

--- serve(set): in the calling describe block, an emulator and a client on it
-- start before its tests and stop after them; set(emu, client) receives both.
function M.serve(set)
  local emu, client
  busted.setup(function()
    emu = M.start()
    client = M.client(emu)
    set(emu, client)
  end)
  busted.teardown(function()
    client:close()
    emu:stop()
  end)
end

function M.fleet(emu, generate)
  local res, status = emu:admin("POST", "/_emulator/fleet", { generate = generate })
  assert(status == 200, "fleet: " .. tostring(res and res.error))
  return res
end

function M.default_fleet(emu)
  local _, status = emu:admin("POST", "/_emulator/fleet", { default = true })
  assert(status == 200)
end

function M.state(emu)
  return (emu:admin("GET", "/_emulator/state"))
end

function M.counters(emu)
  return (emu:admin("GET", "/_emulator/counters"))
end

function M.clear_requests(emu)
  emu:admin("DELETE", "/_emulator/requests")
end

function M.requests(emu, action)
  return emu:requests(action)
end

function M.set_instance(emu, id, changes)
  local res, status = emu:admin("POST", "/_emulator/instances/" .. id, changes)
  assert(status == 200, "set_instance " .. id .. ": " .. tostring(res and res.error))
end

--- instance IDs listed in a request's flat parameters (InstanceId.N)
function M.instance_ids(entry)
  local ids, n = {}, 1
  while entry.params["InstanceId." .. n] do
    ids[n] = entry.params["InstanceId." .. n]
    n = n + 1
  end
  return ids
end

--- the fleet as the emulator holds it, as a list of instances of a region
function M.instances(emu, region)
  local out = {}
  for _, inst in ipairs(M.state(emu).fleet) do
    if inst.RegionId == (region or "cn-hangzhou") then out[#out + 1] = inst end
  end
  return out
end

function M.delta(before, after, action)
  return (after.calls[action] or 0) - (before.calls[action] or 0)
end

function M.ceil_div(a, b)
  return math.floor((a + b - 1) / b)
end

return M
