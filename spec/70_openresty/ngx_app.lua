-- Handlers run inside the test nginx (loaded through lua_package_path):
-- each exercises the ngx transport and reports as JSON or into a shared dict.
-- luacheck: globals ngx
local ecs = require "ecs"
local cjson = require("cjson").new()

local M = {}

local function new_client(extra)
  local cfg = { region = "cn-hangzhou", endpoint = os.getenv("ECS_ENDPOINT"), access_key_id = "testid",
                access_key_secret = "testsecret", retry = false }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return ecs.new(cfg)
end
M.new_client = new_client

local function say(t)
  local text = cjson.encode(t)
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Content-Length"] = #text
  ngx.print(text)
end

local function outcome(res, err)
  if res then return { ok = true, request_id = res.RequestId } end
  return { ok = false, code = err.code, message = err.message, phase = err.phase, retryable = err.retryable,
           text = tostring(err) }
end

--- A call from a phase that cannot yield, stored under `key` in the shared dict.
function M.from_phase(key)
  local c = new_client()
  local ok, res, err = pcall(c.call, c, "DescribeRegions", {})
  local out = ok and outcome(res, err) or { ok = false, raised = tostring(res) }
  out.phase = out.phase or ngx.get_phase()
  ngx.shared.ecs_test:set(key, cjson.encode(out))
  return out
end

--- The same call from a timer started in that phase (the documented way out).
function M.from_timer(key)
  return ngx.timer.at(0, function(premature)
    if premature then return end
    M.from_phase(key)
  end)
end

--- ecs.ngx.request.http from this phase, stored under `key`.
function M.raw(key)
  local res, err = require("ecs.ngx.request").http { method = "GET",
    url = os.getenv("ECS_ENDPOINT") .. "/_emulator/state", timeout = 5 }
  local out = res and { ok = true, status = res.status, json = res.headers["content-type"],
                        has_fleet = cjson.decode(res.body).fleet ~= nil }
    or { ok = false, code = err.code, message = err.message }
  if key then ngx.shared.ecs_test:set(key, cjson.encode(out)) else say(out) end
end

function M.results()
  local d = ngx.shared.ecs_test
  local out = {}
  for _, k in ipairs(d:get_keys(0)) do out[k] = cjson.decode(d:get(k)) end
  say(out)
end

--- GET /call: one DescribeRegions; GET /call?n=5: five in a row on one client.
local keep
function M.calls()
  local args = ngx.req.get_uri_args()
  local n = tonumber(args.n) or 1
  keep = keep or new_client()
  local c = args.fresh and new_client({ timeout = { connect = 1, read = tonumber(args.read) or 10 } }) or keep
  local list = {}
  for i = 1, n do list[i] = outcome(c:call("DescribeRegions", {})) end
  local t = c.transports.ngx
  say { results = list, stats = t and t:stats() or cjson.null }
end

--- GET /batch?n=12&c=4: call_batch through ngx.thread.
function M.batch()
  local args = ngx.req.get_uri_args()
  local n, cap = tonumber(args.n), tonumber(args.c)
  local c = new_client()
  local calls = {}
  for i = 1, n do calls[i] = { "DescribeRegions", {} } end
  ngx.update_time()
  local t0 = ngx.now()
  local res = c:call_batch(calls, { concurrency = cap })
  ngx.update_time()
  local ok = 0
  for i = 1, n do if res[i][1] then ok = ok + 1 end end
  say { ok = ok, n = #res, elapsed = ngx.now() - t0, stats = c.transports.ngx:stats() }
end

--- GET /endpoint?url=...: one call against another endpoint (fake servers).
function M.endpoint()
  local args = ngx.req.get_uri_args()
  local c = new_client { endpoint = args.url, tls = { verify = args.verify ~= "0" } }
  local res, err = c:call("DescribeRegions", {})
  local out = outcome(res, err)
  if res then out.regions = res.Regions end
  say(out)
end

--- The fake service: a JSON answer sent in several chunks.
function M.chunked_service()
  ngx.req.read_body()
  ngx.header["Content-Type"] = "application/json"
  local parts = { '{"RequestId":"chunked-1",', '"Regions":{"Region":[{"RegionId":"cn-hangzhou"},',
                  '{"RegionId":"cn-shanghai"}]}}' }
  for _, p in ipairs(parts) do
    ngx.print(p)
    ngx.flush(true)
  end
end

return M
