--- `make bench`: runs the C baselines and the project's figures in one go
-- against one fixed-response nginx, prints one table, writes results.tsv and
-- results.json. Run through scripts/bench.sh, which builds what it needs and
-- sets LUA_PATH/LUA_CPATH. Environment:
--   BENCH_OUT    output folder (default bench/out)
--   BENCH_RUNS   rounds of the throughput benchmarks (default 7); figures are medians
--   BENCH_TIME   seconds per throughput run (default 0.7)
--   BENCH_SMOKE  1: tiny N, one round (the test suite's smoke run)
--   BENCH_BUILD  folder of the C baselines (default build-bench)
--   ECS_BUILD    folder of the core build (default build)
--   BENCH_PIN    0: no taskset pinning
local socket = require "socket"
local cjson = require("cjson").new()
local plan = require "plan"

local getenv, floor = os.getenv, math.floor

local smoke = getenv("BENCH_SMOKE") == "1"
local OUT = getenv("BENCH_OUT") or "bench/out"
local RUNS = tonumber(getenv("BENCH_RUNS") or "") or (smoke and 1 or 7)
local TIME = tonumber(getenv("BENCH_TIME") or "") or (smoke and 0.05 or 0.7)
local BBUILD = getenv("BENCH_BUILD") or "build-bench"
local EBUILD = getenv("ECS_BUILD") or "build"
local RSS_CALLS = smoke and 300 or 100000
local FRESH_RUNS = smoke and 2 or 21
local FLEET_SIZE = tonumber(getenv("BENCH_FLEET") or "") or (smoke and 200 or 10000)

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local function read_cmd(cmd)
  local p = assert(io.popen(cmd, "r"))
  local s = p:read("*a")
  p:close()
  return s
end

local function trim(s) return (tostring(s or ""):gsub("^%s+", ""):gsub("%s+$", "")) end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- ------------------------------------------------------------------ CPUs

local NCPU = tonumber(trim(read_cmd("nproc 2>/dev/null"))) or 1
local PIN = getenv("BENCH_PIN") ~= "0" and NCPU >= 2 and sh("command -v taskset >/dev/null 2>&1")
local CLIENT_CPU, SERVER_CPU = 0, NCPU - 1

local function pinned(cmd)
  if PIN then return "taskset -c " .. CLIENT_CPU .. " " .. cmd end
  return cmd
end

-- ----------------------------------------------------------------- nginx

local nginx = {}

local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local function cpu_mask(cpu)
  local bits = { "1" }
  for _ = 1, cpu do table.insert(bits, 1, "0") end
  return table.concat(bits)
end

function nginx.start()
  local prefix = trim(read_cmd("mktemp -d /tmp/ecs-bench.XXXXXX"))
  assert(prefix:match("^/tmp/ecs%-bench%."), "mktemp -d failed")
  local template = assert(read_file("bench/nginx.conf.in"), "bench/nginx.conf.in is missing")
  for _ = 1, 5 do
    local port = free_port()
    local conf = template:gsub("@PORT@", tostring(port)):gsub("@PREFIX@", prefix)
      :gsub("@CPU@", PIN and cpu_mask(SERVER_CPU) or "auto")
    local f = assert(io.open(prefix .. "/nginx.conf", "wb"))
    f:write(conf)
    f:close()
    if sh(("nginx -p %s -c %s -e %s 2>>%s"):format(q(prefix), q(prefix .. "/nginx.conf"),
      q(prefix .. "/error.log"), q(prefix .. "/start.log"))) then
      for _ = 1, 100 do
        local c = socket.tcp()
        c:settimeout(0.1)
        local ok = c:connect("127.0.0.1", port)
        c:close()
        if ok then
          nginx.prefix, nginx.port, nginx.url = prefix, port, "http://127.0.0.1:" .. port
          return nginx.url
        end
        socket.sleep(0.02)
      end
      nginx.prefix = prefix
      nginx.stop()
    end
  end
  error("nginx did not start: " .. tostring(read_file(prefix .. "/start.log"))
    .. tostring(read_file(prefix .. "/error.log")))
end

function nginx.stop()
  local prefix = nginx.prefix
  if not prefix then return end
  local pid = trim(read_file(prefix .. "/nginx.pid"))
  if pid:match("^%d+$") then
    sh("kill -QUIT " .. pid .. " 2>/dev/null")
    for _ = 1, 100 do
      if not sh("kill -0 " .. pid .. " 2>/dev/null") then break end
      socket.sleep(0.02)
    end
  end
  if prefix:match("^/tmp/ecs%-bench%.") then sh("rm -rf " .. q(prefix)) end
  nginx.prefix = nil
end

-- ------------------------------------------------------------ run a bench

local LOG = OUT .. "/bench.log"

-- Runs cmd, returns { key = number } from its "key value" lines; raises with
-- the tail of its stderr on failure.
local function run_figures(cmd)
  local errf = OUT .. "/last.stderr"
  local out = read_cmd(cmd .. " 2>" .. q(errf) .. "; echo \"exit $?\"")
  local log = io.open(LOG, "ab")
  if log then
    log:write("$ ", cmd, "\n", out, read_file(errf) or "", "\n")
    log:close()
  end
  local status = tonumber(out:match("exit (%d+)%s*$"))
  local figures = {}
  for k, v in out:gmatch("([%w_]+) ([%d%.%-e]+)\n") do figures[k] = tonumber(v) end
  if status ~= 0 then
    error(("benchmark failed (exit %s): %s\n%s"):format(tostring(status), cmd, read_file(errf) or ""), 0)
  end
  return figures
end

local function lua_cmd(script, args)
  local parts = { "lua5.4", "bench/lua/" .. script }
  for k, v in pairs(args) do parts[#parts + 1] = q(k .. "=" .. tostring(v)) end
  table.sort(parts, function(a, b)
    local ia = (a == "lua5.4" and 1) or (a:match("^bench/") and 2) or 3
    local ib = (b == "lua5.4" and 1) or (b:match("^bench/") and 2) or 3
    if ia ~= ib then return ia < ib end
    return a < b
  end)
  return pinned(table.concat(parts, " "))
end

local function c_cmd(mode, url, n, sig)
  return pinned(("%s/bench_curl %s %s %d %s"):format(BBUILD, mode, q(url), n, sig))
end

-- ------------------------------------------------------------- the plan

local THROUGHPUT = plan.throughput

local function median(list)
  local s = {}
  for i = 1, #list do s[i] = list[i] end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  if n % 2 == 1 then return s[(n + 1) / 2] end
  return (s[n / 2] + s[n / 2 + 1]) / 2
end

-- a C baseline's N for about TIME seconds, from its calibration rate
local calibrated = {}
local function c_count(id)
  local r = calibrated[id]
  if not r then return smoke and 50 or 2000 end
  return math.max(smoke and 50 or 1000, floor(r * TIME))
end

-- Runs every throughput benchmark once per round, each project benchmark
-- right after its baseline (plan.order); ratios are medians of the per-round
-- ratios, so a burst of load elsewhere on the machine hits both sides.
local function run_throughput(url)
  local samples, cpu, by_id = {}, {}, {}
  for _, b in ipairs(THROUGHPUT) do samples[b.id], cpu[b.id], by_id[b.id] = {}, {}, b end
  if not smoke then -- a short run of each C baseline sizes its N for TIME seconds
    for _, b in ipairs(THROUGHPUT) do
      if b.c then calibrated[b.id] = run_figures(c_cmd(b.c, url, c_count(b.id), b.sig)).rate end
    end
  end
  for round = 1, RUNS do
    io.stderr:write(("round %d/%d\n"):format(round, RUNS))
    for _, id in ipairs(plan.order) do
      local b = by_id[id]
      local cmd
      if b.c then
        cmd = c_cmd(b.c, url, c_count(b.id), b.sig)
      else
        cmd = lua_cmd("throughput.lua", { mode = b.mode, url = url, sig = b.sig, time = TIME,
          n = smoke and 20 or 200 })
      end
      local f = run_figures(cmd)
      samples[b.id][round] = f.rate
      cpu[b.id][round] = f.cpu_us
    end
  end
  local out = {}
  for _, b in ipairs(THROUGHPUT) do
    local r = { value = median(samples[b.id]), cpu_us = median(cpu[b.id]), samples = samples[b.id] }
    if b.ref then
      local ratios, cpu_ratios = {}, {}
      for round = 1, RUNS do
        ratios[round] = samples[b.id][round] / samples[b.ref][round]
        cpu_ratios[round] = cpu[b.ref][round] / cpu[b.id][round]
      end
      r.ratio, r.cpu_ratio, r.ratios = median(ratios), median(cpu_ratios), ratios
    end
    out[b.id] = r
  end
  return out
end

local function lua_env()
  return ("LUA_PATH=%s LUA_CPATH=%s"):format(q(getenv("LUA_PATH") or ""), q(getenv("LUA_CPATH") or ""))
end

local function run_fresh(url)
  local cmd = pinned(("env %s %s/bench_proc %d lua5.4 bench/lua/once.lua %s"):format(
    lua_env(), BBUILD, FRESH_RUNS, q("url=" .. url)))
  return run_figures(cmd)
end

local function run_rss(url)
  return run_figures(lua_cmd("rss.lua", { url = url, n = RSS_CALLS }))
end

local function run_fanout()
  local ok, why = plan.fanout_ready()
  if not ok then return nil, why end
  local okr, res = pcall(run_figures, lua_cmd("fanout.lua", { instances = FLEET_SIZE,
    emu_cpu = PIN and SERVER_CPU or -1 }))
  if not okr then return nil, "failed: " .. tostring(res):gsub("\n.*", "") end
  return res
end

-- --------------------------------------------------------------- machine

local function machine()
  local cpu = read_cmd("grep -m1 'model name' /proc/cpuinfo 2>/dev/null"):match(":%s*(.-)%s*$") or "?"
  local function ver(cmd) return trim(read_cmd(cmd .. " 2>&1")):gsub("\n.*", "") end
  return {
    date = os.date("!%Y-%m-%dT%H:%M:%SZ"),
    cpu = cpu,
    ncpu = NCPU,
    kernel = ver("uname -r"),
    virt = trim(read_cmd("systemd-detect-virt 2>/dev/null")),
    lua = (ver("lua5.4 -v"):match("^(Lua %S+)")) or "?",
    libcurl = ver("curl-config --version"),
    openssl = (ver("openssl version"):gsub("%s*%(.*", "")),
    nginx = (ver("nginx -v"):gsub("^nginx version:%s*", "")),
    commit = ver("git rev-parse --short HEAD"),
    pinning = PIN and ("client on CPU " .. CLIENT_CPU .. ", nginx worker on CPU " .. SERVER_CPU) or "none",
    lua_tree = getenv("BENCH_LUA_ROOT") or "lua",
    core_build = EBUILD,
    runs = RUNS,
    seconds_per_run = TIME,
    smoke = smoke,
  }
end

-- ------------------------------------------------------------------ main

local function main()
  sh("mkdir -p " .. q(OUT))
  local lf = io.open(LOG, "wb")
  if lf then lf:close() end
  for _, f in ipairs { BBUILD .. "/bench_curl", BBUILD .. "/bench_proc", EBUILD .. "/ecs/core.so" } do
    if not read_file(f) then error(f .. " is missing: run scripts/bench.sh (it builds them)", 0) end
  end
  local started = socket.gettime()
  local url = nginx.start()
  local lf2 = io.open(LOG, "ab")
  if lf2 then
    lf2:write("nginx: ", nginx.prefix, " ", url, "\n")
    lf2:close()
  end
  local results = {}
  local ok, err = pcall(function()
    results.throughput = run_throughput(url)
    io.stderr:write("fresh process\n")
    results.fresh = run_fresh(url)
    io.stderr:write(("RSS over %d calls\n"):format(RSS_CALLS))
    results.rss = run_rss(url)
  end)
  nginx.stop()
  if not ok then error(err, 0) end
  io.stderr:write("fan-out\n")
  local fan, why = run_fanout()
  results.fanout, results.fanout_reason = fan, why
  local info = machine()
  info.wall_seconds = socket.gettime() - started
  local rows = plan.rows(results, { rss_calls = RSS_CALLS, fleet = FLEET_SIZE })
  io.write(plan.render(rows, info))
  local tsv = assert(io.open(OUT .. "/results.tsv", "wb"))
  tsv:write(plan.tsv(rows))
  tsv:close()
  local js = assert(io.open(OUT .. "/results.json", "wb"))
  js:write(cjson.encode { machine = info, rows = rows }, "\n")
  js:close()
  io.write(("\nwritten: %s/results.tsv, %s/results.json (log: %s)\n"):format(OUT, OUT, LOG))
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  nginx.stop()
  io.stderr:write("bench: ", tostring(err), "\n")
  os.exit(1)
end
