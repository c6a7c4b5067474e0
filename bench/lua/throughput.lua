--- Throughput of the project from Lua against the fixed-response endpoint.
--   lua5.4 bench/lua/throughput.lua mode=MODE url=URL [n=N] [time=S] [sig=v3|v2] [inflight=16] [batch=1000]
-- Runs at least n calls and at least `time` seconds (in chunks), after a warm-up.
-- MODE:
--   client        sequential client:invoke_command (checks, ClientToken, retry wrapper, C core)
--   core          sequential cl:invoke_command of the C core alone (flatten, sign, send, decode in C)
--   batch         cl:call_batch of the C core, `inflight` transfers in flight, `batch` calls per call_batch
--   client_batch  client:call_batch, the same through the Lua client
--   prepare       cl:prepare of the C core: flatten + sign, nothing sent
--   client_prepare client:prepare: checks + ClientToken + flatten + sign, nothing sent
--   flatten       core.flatten alone
-- Prints "rate <per second>", "cpu_us <CPU microseconds per call>", "n", "seconds".
local socket = require "socket"
local core = require "ecs.core"
local ecs = require "ecs"
local req = require "request"

local clock, gettime = os.clock, socket.gettime
local opt = req.args(arg, { n = 20000, time = 0, sig = "v3", inflight = 16, batch = 1000 })
local WARMUP = 200
local n = math.floor(opt.n)
local params = req.params()
local check = req.check_result

local function batch_list(size, action)
  local calls = {}
  for i = 1, size do calls[i] = { action, params } end
  return calls
end

local function check_batch(out, size)
  if #out ~= size then error("batch returned " .. #out .. " results for " .. size .. " calls", 0) end
  for i = 1, size do check(out[i][1], out[i][2]) end
end

local runners = {}

function runners.client(count)
  local c = runners.client_obj
  for _ = 1, count do check(c:invoke_command(params)) end
end

function runners.core(count)
  local cl = runners.core_obj
  for _ = 1, count do check(cl:invoke_command(params)) end
end

local function batched(count, send)
  local size = math.min(math.floor(opt.batch), count)
  local calls = batch_list(size, req.ACTION)
  local left = count
  while left > 0 do
    if left < size then
      size = left
      calls = batch_list(size, req.ACTION)
    end
    check_batch(send(calls), size)
    left = left - size
  end
end

function runners.batch(count)
  local cl, o = runners.core_obj, { concurrency = math.floor(opt.inflight) }
  batched(count, function(calls) return cl:call_batch(calls, o) end)
end

function runners.client_batch(count)
  local c, o = runners.client_obj, { concurrency = math.floor(opt.inflight) }
  batched(count, function(calls) return c:call_batch(calls, o) end)
end

function runners.prepare(count)
  local cl, action = runners.core_obj, req.ACTION
  for _ = 1, count do
    local r = cl:prepare(action, params)
    if type(r.body) ~= "string" then error("prepare gave no body", 0) end
  end
end

function runners.client_prepare(count)
  local c, action = runners.client_obj, req.ACTION
  for _ = 1, count do
    local r = assert(c:prepare(action, params))
    if type(r.body) ~= "string" then error("prepare gave no body", 0) end
  end
end

function runners.flatten(count)
  local flatten = core.flatten
  for _ = 1, count do
    if flatten(params)["InstanceId.2"] == nil then error("flatten lost InstanceId.2", 0) end
  end
end

local run = runners[opt.mode]
if not run then error("unknown mode '" .. tostring(opt.mode) .. "'", 0) end
local url = opt.url or "http://127.0.0.1:1"
runners.client_obj = ecs.new(req.client_config(url, opt.sig))
runners.core_obj = core.new(req.core_config(url, opt.sig))

run(math.min(WARMUP, n))
collectgarbage()
local chunk = opt.mode:find("batch") and math.floor(opt.batch) or 500
local t0, c0 = gettime(), clock()
run(n)
while gettime() - t0 < opt.time do
  run(chunk)
  n = n + chunk
end
local wall, cpu = gettime() - t0, clock() - c0
req.report {
  "rate", ("%.1f"):format(n / wall),
  "cpu_us", ("%.2f"):format(cpu * 1e6 / n),
  "n", n,
  "seconds", ("%.4f"):format(wall),
}
