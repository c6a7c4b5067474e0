--- What `make bench` measures, the targets (ratios to the baselines of the
-- same run), and the table it prints and writes.
local M = {}

local format, floor = string.format, math.floor

--- Throughput benchmarks, run in rounds (medians reported). `c` = mode of
-- the C baseline bench_curl; `mode` = mode of bench/lua/throughput.lua.
M.throughput = {
  { id = "c_plain", c = "plain", sig = "v3", group = "C baselines (libcurl, OpenSSL, src/encode.c sign.c buf.c)",
    label = "transport limit: 1 keep-alive handle, pre-signed body", unit = "req/s" },
  { id = "c_signed_v3", c = "signed", sig = "v3", label = "signed limit: signed per request, V3", unit = "req/s" },
  { id = "c_signed_v2", c = "signed", sig = "v2", label = "signed limit: signed per request, V2", unit = "req/s" },
  { id = "c_multi", c = "multi", sig = "v3", label = "multi limit: 16 in flight, signed per request", unit = "req/s" },
  { id = "c_sign", c = "sign", sig = "v3", label = "signing alone in C, V3 (no send)", unit = "/s" },
  { id = "client_v3", mode = "client", sig = "v3", group = "The project from Lua 5.4",
    label = "client:invoke_command sequential, V3", unit = "req/s", ref = "c_signed_v3", target = 0.9 },
  { id = "client_v2", mode = "client", sig = "v2",
    label = "client:invoke_command sequential, V2", unit = "req/s", ref = "c_signed_v2", target = 0.9 },
  { id = "core_v3", mode = "core", sig = "v3",
    label = "  (C core alone: cl:invoke_command, V3)", unit = "req/s", ref = "c_signed_v3" },
  { id = "batch", mode = "batch", sig = "v3",
    label = "core cl:call_batch, 16 in flight", unit = "req/s", ref = "c_multi", target = 0.9 },
  { id = "client_batch", mode = "client_batch", sig = "v3",
    label = "  (client:call_batch, 16 in flight)", unit = "req/s", ref = "c_multi" },
  { id = "prepare", mode = "prepare", sig = "v3",
    label = "flatten + sign, no send (cl:prepare, V3)", unit = "/s", min = 100000, ref = "c_sign" },
  { id = "client_prepare", mode = "client_prepare", sig = "v3",
    label = "  (client:prepare: + checks, ClientToken)", unit = "/s" },
  { id = "flatten", mode = "flatten", sig = "v3", label = "  (core.flatten alone)", unit = "/s" },
}

--- Order within a round: each project benchmark right after its baseline.
M.order = { "c_plain", "c_signed_v3", "client_v3", "core_v3", "c_signed_v2", "client_v2",
            "c_multi", "batch", "client_batch", "c_sign", "prepare", "client_prepare", "flatten" }

--- Whether the fan-out benchmark can run: the fleet layer and the emulator.
function M.fanout_ready()
  local ok_fleet = pcall(require, "ecs.fleet")
  if not ok_fleet then
    return false, "not measured: the fleet layer (lua/ecs/fleet.lua, invoke_fleet) is not there yet"
  end
  local f = io.open("bin/ecs-emulator", "rb")
  if not f then return false, "not measured: bin/ecs-emulator is not there" end
  f:close()
  local ok_emu, emu = pcall(require, "ecs.emulator")
  if not ok_emu or type(emu) ~= "table" or type(emu.generate_fleet) ~= "function" then
    return false, "not measured: ecs.emulator has no generate_fleet yet"
  end
  return true
end

local function status_min(v, min)
  if v == nil then return "n/a" end
  return v >= min and "ok" or "MISS"
end

local function status_max(v, max, strict)
  if v == nil then return "n/a" end
  if strict then return v < max and "ok" or "MISS" end
  return v <= max and "ok" or "MISS"
end

--- Rows { id, group, label, value, unit, ref, ratio, target, status, cpu_us, note }.
function M.rows(results, opts)
  local rows, tp = {}, results.throughput or {}
  for _, b in ipairs(M.throughput) do
    local r = tp[b.id] or {}
    local row = { id = b.id, group = b.group, label = b.label, value = r.value, unit = b.unit,
                  cpu_us = r.cpu_us, samples = r.samples, ref = b.ref, ratio = r.ratio,
                  cpu_ratio = r.cpu_ratio, ratios = r.ratios }
    if b.target then
      row.target = format(">= %.2f x %s", b.target, b.ref)
      row.status = row.ratio and (row.ratio >= b.target and "ok" or "MISS") or "n/a"
    elseif b.min then
      row.target = format(">= %d %s", b.min, b.unit)
      row.status = status_min(r.value, b.min)
    end
    rows[#rows + 1] = row
  end
  local fr = results.fresh or {}
  rows[#rows + 1] = { id = "fresh_wall", group = "Process cost",
    label = "one call from a fresh lua5.4 process (median)",
    value = fr.wall_ms, unit = "ms", target = "<= 50 ms", status = status_max(fr.wall_ms, 50),
    note = fr.wall_ms_min and format("min %.1f ms over %d runs", fr.wall_ms_min, fr.runs or 0) }
  local fresh_mb = fr.maxrss_kb and fr.maxrss_kb / 1024
  rows[#rows + 1] = { id = "fresh_rss", label = "  peak RSS of that process", value = fresh_mb, unit = "MB",
    target = "<= 16 MB", status = status_max(fresh_mb, 16) }
  local rs = results.rss or {}
  local peak = rs.peak_kb and rs.peak_kb / 1024
  rows[#rows + 1] = { id = "rss_peak", label = format("peak RSS over %d client calls", opts.rss_calls),
    value = peak, unit = "MB", target = "<= 16 MB", status = status_max(peak, 16),
    note = rs.lua_kb and format("Lua heap %.0f KB at the end", rs.lua_kb) }
  rows[#rows + 1] = { id = "rss_growth", label = format("RSS growth over %d client calls", opts.rss_calls),
    value = rs.growth_kb, unit = "KB", target = "< 1024 KB", status = status_max(rs.growth_kb, 1024, true),
    note = rs.start_kb and format("%.0f KB after warm-up -> %.0f KB", rs.start_kb, rs.end_kb) }
  local fan = results.fanout
  local flabel = format("fan-out, %d-instance emulated fleet", opts.fleet)
  if not fan then
    rows[#rows + 1] = { id = "fanout_wall", group = "Fleet", label = flabel, unit = "s", status = "n/a",
      note = results.fanout_reason }
  else
    local parts = {}
    for k, v in pairs(fan) do
      local action = k:match("^calls_(.+)$")
      if action then
        parts[#parts + 1] = format("%s %d (formula %d)", action, v, fan["expect_" .. action] or -1)
      end
    end
    table.sort(parts)
    fan.calls_note = table.concat(parts, ", ")
    fan.note = format("client CPU %.2f s, emulator CPU %.2f s; %d eligible, %d invocations, %d result pages",
      fan.cpu_s or -1, fan.emu_cpu_s or -1, fan.eligible or -1, fan.invocations or -1, fan.polls or -1)
    rows[#rows + 1] = { id = "fanout_wall", group = "Fleet", label = flabel .. ": wall time", value = fan.wall_s,
      unit = "s", note = fan.note }
    rows[#rows + 1] = { id = "fanout_cpu", label = "  client CPU per instance", value = fan.cpu_us_per_instance,
      unit = "us", target = "<= 50 us", status = status_max(fan.cpu_us_per_instance, 50) }
    rows[#rows + 1] = { id = "fanout_calls", label = "  API calls (all actions)", value = fan.calls, unit = "calls",
      target = format("= %d (formula)", fan.expected_calls or -1),
      status = fan.expected_calls and (fan.calls == fan.expected_calls and "ok" or "MISS") or "n/a",
      note = fan.calls_note }
  end
  return rows
end

local function num(v, unit)
  if v == nil then return "-" end
  if unit == "req/s" or unit == "/s" or unit == "calls" then return format("%d", floor(v + 0.5)) end
  if v >= 100 then return format("%.0f", v) end
  if v >= 10 then return format("%.1f", v) end
  return format("%.2f", v)
end

local function pad(s, n)
  s = tostring(s)
  if #s >= n then return s end
  return s .. string.rep(" ", n - #s)
end

local function lpad(s, n)
  s = tostring(s)
  if #s >= n then return s end
  return string.rep(" ", n - #s) .. s
end

--- The table as text.
function M.render(rows, info)
  local out = {}
  local function w(s) out[#out + 1] = s end
  w(format("aliyun-ecs benchmarks  %s  commit %s", info.date, info.commit))
  w(format("machine: %s, %d CPU(s) %s; kernel %s; %s; %s; %s; %s",
    info.cpu, info.ncpu, info.virt ~= "" and ("(" .. info.virt .. ")") or "", info.kernel, info.lua,
    info.libcurl, info.openssl, info.nginx))
  w(format("pinning: %s; figures are medians of %d round(s) of %.2g s per run", info.pinning, info.runs,
    info.seconds_per_run))
  if info.lua_tree ~= "lua" or info.core_build ~= "build" then
    w(format("measured: Lua tree %s, core from %s/ecs/core.so", info.lua_tree, info.core_build))
  end
  w("")
  w(pad("benchmark", 54) .. lpad("figure", 10) .. " " .. pad("unit", 6) .. lpad("ratio", 7) .. "  "
    .. pad("target", 22) .. lpad("cpu us", 8) .. lpad("cpu x", 7) .. "  status")
  w(string.rep("-", 125))
  for _, r in ipairs(rows) do
    if r.group then w(r.group) end
    local line = "  " .. pad(r.label, 52) .. lpad(num(r.value, r.unit), 10) .. " " .. pad(r.unit or "", 6)
      .. lpad(r.ratio and format("%.2f", r.ratio) or "", 7) .. "  "
      .. pad(r.target or (r.ref and ("vs " .. r.ref) or ""), 22)
      .. lpad(r.cpu_us and format("%.1f", r.cpu_us) or "", 8)
      .. lpad(r.cpu_ratio and format("%.2f", r.cpu_ratio) or "", 7) .. "  " .. (r.status or "")
    w(line)
    if r.note then w("      " .. r.note) end
  end
  w("")
  w("ratio: median over the rounds of (figure / figure of the row named in target), same run.")
  w(format("cpu us: client CPU per call; cpu x: median of (baseline CPU per call / this CPU per call). Run: %.0f s.",
    info.wall_seconds or 0))
  return table.concat(out, "\n") .. "\n"
end

--- Tab-separated rows with a header line.
function M.tsv(rows)
  local cols = { "id", "label", "value", "unit", "ratio", "ref", "target", "status", "cpu_us", "cpu_ratio", "note" }
  local out = { table.concat(cols, "\t") }
  for _, r in ipairs(rows) do
    local f = {}
    for i, c in ipairs(cols) do
      local v = r[c]
      if type(v) == "number" then v = format("%.6g", v) end
      f[i] = v == nil and "" or (tostring(v):gsub("^%s+", ""):gsub("[\t\n]", " "))
    end
    out[#out + 1] = table.concat(f, "\t")
  end
  return table.concat(out, "\n") .. "\n"
end

return M
