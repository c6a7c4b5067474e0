--- Fan-out of a generated fleet on the emulator: client:invoke_fleet with
-- batches of 100 and 8 calls in flight, on a fast emulator clock.
--   lua5.4 bench/lua/fanout.lua instances=10000 [scale=100] [emu_cpu=1]
-- Prints wall_s, cpu_s (this process: the client), cpu_us_per_instance,
-- emu_cpu_s (the emulator process), calls (API calls the emulator counted),
-- expected_calls (the formula below), client_calls (the report's count), one
-- calls_<Action> line per action, instances, eligible, invocations, polls.
--
-- The formula (docs/fleet.md): DescribeCommands 1 + DescribeInstances
-- ceil(fleet/100) + DescribeCloudAssistantStatus ceil(running linux/50) +
-- InvokeCommand ceil(eligible/100) + DescribeInvocationResults
-- sum over invocations of polls x ceil(instances/50).
package.path = "spec/?.lua;" .. package.path
local socket = require "socket"
local ecs = require "ecs"
local core = require "ecs.core"
local helper = require "helpers.emulator"
local req = require "request"

local opt = req.args(arg, { instances = 10000, scale = 100, emu_cpu = -1 })
local count, scale = math.floor(opt.instances), opt.scale

local function ceil_div(a, b) return math.floor((a + b - 1) / b) end

local function proc_cpu(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  local rest = s:match("%) (.*)$")
  local fields = {}
  for w in rest:gmatch("%S+") do fields[#fields + 1] = w end
  -- after "pid (comm)": state is field 1, utime field 12, stime field 13
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end

local emu = helper.start { args = { "--time-scale", tostring(scale), "--quota", "1000000" } }
local ok, err = pcall(function()
  if opt.emu_cpu >= 0 and emu.pid then
    os.execute(("taskset -pc %d %d >/dev/null 2>&1"):format(math.floor(opt.emu_cpu), emu.pid))
  end
  local res, status = emu:admin("POST", "/_emulator/fleet",
    { generate = { count = count, regions = { req.REGION }, seed = 7 } })
  if status ~= 200 then error("fleet: " .. tostring(res and res.error), 0) end
  -- what the fleet holds, independently of the client
  local state = emu:admin("GET", "/_emulator/state")
  local matched, candidates = 0, 0
  for _, inst in ipairs(state.fleet) do
    if inst.RegionId == req.REGION then
      matched = matched + 1
      if inst.Status == "Running" and inst.OSType == "linux" then candidates = candidates + 1 end
    end
  end

  local t0 = socket.gettime()
  local client = ecs.new {
    region = req.REGION, endpoint = emu.url,
    access_key_id = req.ACCESS_KEY_ID, access_key_secret = req.ACCESS_KEY_SECRET,
    clock = function() return t0 + (socket.gettime() - t0) * scale end,
    sleep = function(s) if s > 0 then socket.sleep(s / scale) end end,
  }
  local cmd = assert(client:create_command { Name = "bench", Type = "RunShellScript",
                                             CommandContent = core.base64_encode("echo ok\nexit 0") })
  local before = emu:admin("GET", "/_emulator/counters")
  local emu0 = emu.pid and proc_cpu(emu.pid)
  local w0, c0 = socket.gettime(), os.clock()
  local rep = assert(client:invoke_fleet { CommandId = cmd.CommandId, targets = { all = true },
                                           batch_size = 100, concurrency = 8 })
  local wall, cpu = socket.gettime() - w0, os.clock() - c0
  local emu1 = emu.pid and proc_cpu(emu.pid)
  local after = emu:admin("GET", "/_emulator/counters")

  local polls = 0
  for _, inv in ipairs(rep.invocations) do polls = polls + inv.polls * ceil_div(#inv.InstanceId, 50) end
  local expect = {
    DescribeCommands = 1,
    DescribeInstances = ceil_div(matched, 100),
    DescribeCloudAssistantStatus = ceil_div(candidates, 50),
    InvokeCommand = ceil_div(#rep.eligible, 100),
    DescribeInvocationResults = polls,
  }
  local expected, lines = 0, {}
  for action, n in pairs(expect) do
    expected = expected + n
    local got = (after.calls[action] or 0) - (before.calls[action] or 0)
    lines[#lines + 1] = { action, math.floor(got), n }
  end
  table.sort(lines, function(a, b) return a[1] < b[1] end)
  local out = {
    "wall_s", ("%.3f"):format(wall),
    "cpu_s", ("%.3f"):format(cpu),
    "cpu_us_per_instance", ("%.2f"):format(cpu * 1e6 / count),
    "emu_cpu_s", emu0 and ("%.2f"):format(emu1 - emu0) or "-1",
    "calls", math.floor(after.requests - before.requests),
    "expected_calls", expected,
    "client_calls", rep.calls.total,
    "instances", count,
    "eligible", #rep.eligible,
    "succeeded", rep.counts.success,
    "invocations", #rep.invocations,
    "polls", polls,
  }
  for _, l in ipairs(lines) do
    out[#out + 1] = "calls_" .. l[1]
    out[#out + 1] = l[2]
    out[#out + 1] = "expect_" .. l[1]
    out[#out + 1] = l[3]
  end
  req.report(out)
  client:close()
end)
emu:stop()
if not ok then error(err, 0) end
