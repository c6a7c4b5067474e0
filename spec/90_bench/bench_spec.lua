-- Smoke run of `make bench` (scripts/bench.sh with BENCH_SMOKE=1): tiny N,
-- one round. Asserts that every benchmark runs and reports its figure, that
-- the table and the result files are written, and that the fixed-response
-- nginx is stopped afterwards. Never asserts a timing.
local helper = require "helpers.emulator"
local cjson = require("cjson").new()

local THROUGHPUT = {
  "c_plain", "c_signed_v3", "c_signed_v2", "c_multi", "c_sign",
  "client_v3", "client_v2", "core_v3", "batch", "client_batch", "prepare", "client_prepare", "flatten",
}
local ONCE = { "fresh_wall", "fresh_rss", "rss_peak", "rss_growth" }
local RATIOS = { "client_v3", "client_v2", "core_v3", "batch", "client_batch" }

local function parse_tsv(text)
  local rows, header = {}, nil
  for line in text:gmatch("[^\n]+") do
    local f = {}
    for cell in (line .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = cell end
    if not header then
      header = f
    else
      local r = {}
      for i, name in ipairs(header) do r[name] = f[i] end
      rows[r.id] = r
    end
  end
  return rows, header
end

describe("make bench (smoke run)", function()
  local dir, out, code, rows, json

  setup(function()
    dir = helper.tmpdir()
    local cmd = ("cd %s && BENCH_SMOKE=1 BENCH_RUNS=1 BENCH_OUT=%s scripts/bench.sh > %s 2> %s; echo $?"):format(
      helper.shell_quote(helper.root), helper.shell_quote(dir .. "/out"),
      helper.shell_quote(dir .. "/stdout"), helper.shell_quote(dir .. "/stderr"))
    local p = assert(io.popen(cmd))
    code = tonumber(p:read("*a"):match("(%d+)%s*$"))
    p:close()
    out = helper.read_file(dir .. "/stdout") or ""
    local tsv = helper.read_file(dir .. "/out/results.tsv")
    rows = tsv and parse_tsv(tsv) or {}
    local js = helper.read_file(dir .. "/out/results.json")
    json = js and cjson.decode(js)
  end)

  teardown(function()
    helper.rmdir(dir)
  end)

  it("exits 0 and prints the table", function()
    assert.equal(0, code, helper.read_file(dir .. "/stderr"))
    assert.matches("benchmark%s+figure%s+unit%s+ratio%s+target", out)
    assert.matches("C baselines", out, 1, true)
    assert.matches("The project from Lua 5.4", out, 1, true)
    assert.matches("results.tsv", out, 1, true)
  end)

  for _, id in ipairs(THROUGHPUT) do
    it("reports a rate and the CPU per call for " .. id, function()
      local r = rows[id]
      assert.truthy(r, "no row " .. id)
      assert.truthy(tonumber(r.value) and tonumber(r.value) > 0, "value of " .. id .. ": " .. tostring(r.value))
      assert.truthy(tonumber(r.cpu_us) and tonumber(r.cpu_us) > 0, "cpu_us of " .. id)
    end)
  end

  for _, id in ipairs(RATIOS) do
    it("computes the ratio of " .. id .. " to its baseline", function()
      local r = rows[id]
      local base = rows[r.ref]
      assert.truthy(base, "no baseline row " .. tostring(r.ref))
      local want = tonumber(r.value) / tonumber(base.value)
      assert.near(want, tonumber(r.ratio), want * 1e-3)
    end)
  end

  for _, id in ipairs(ONCE) do
    it("reports " .. id, function()
      local r = rows[id]
      assert.truthy(r, "no row " .. id)
      assert.truthy(tonumber(r.value) and tonumber(r.value) >= 0, id .. ": " .. tostring(r.value))
      assert.truthy(r.status == "ok" or r.status == "MISS", id .. " status " .. tostring(r.status))
    end)
  end

  it("reports the fan-out figures, or why they were not measured", function()
    local r = rows.fanout_wall
    assert.truthy(r, "no fan-out row")
    if r.status == "n/a" then
      assert.matches("not measured", r.note, 1, true)
    else
      assert.truthy(tonumber(r.value) > 0)
      assert.truthy(tonumber(rows.fanout_cpu.value) > 0)
      local calls = rows.fanout_calls
      assert.truthy(tonumber(calls.value) > 0)
      assert.matches("InvokeCommand %d+ %(formula %d+%)", calls.note)
      assert.matches("DescribeInvocationResults", calls.note, 1, true)
    end
  end)

  it("reports the CPU ratio to the baseline", function()
    for _, id in ipairs(RATIOS) do
      local r = rows[id]
      local want = tonumber(rows[r.ref].cpu_us) / tonumber(r.cpu_us)
      assert.near(want, tonumber(r.cpu_ratio), want * 1e-3)
    end
  end)

  it("writes the same rows as JSON with the machine it ran on", function()
    assert.truthy(json, "results.json missing or not JSON")
    assert.truthy(json.machine.ncpu >= 1)
    assert.equal(true, json.machine.smoke)
    local ids = {}
    for _, r in ipairs(json.rows) do ids[r.id] = true end
    for id in pairs(rows) do assert.truthy(ids[id], id) end
  end)

  it("stops the nginx it started and removes its prefix", function()
    local log = helper.read_file(dir .. "/out/bench.log") or ""
    local prefix, url = log:match("nginx: (%S+) (%S+)")
    assert.truthy(prefix, "the log does not name the nginx prefix")
    assert.matches("^http://127%.0%.0%.1:%d+$", url)
    assert.is_nil(io.open(prefix .. "/nginx.pid", "rb"))
    local port = tonumber(url:match(":(%d+)$"))
    local status = helper.http { port = port, method = "POST", body = "a=b", timeout = 1 }
    assert.is_nil(status)
  end)
end)
