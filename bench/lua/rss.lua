--- Peak RSS and RSS growth over many sequential client:invoke_command calls.
--   lua5.4 bench/lua/rss.lua url=URL n=100000
-- Prints start_kb (VmRSS after a warm-up of 1,000 calls and a full GC),
-- end_kb (VmRSS after the n calls and a full GC), growth_kb, peak_kb (VmHWM),
-- lua_kb (Lua heap at the end), n.
local ecs = require "ecs"
local req = require "request"

local opt = req.args(arg, { n = 100000, sig = "v3" })
local n = math.floor(opt.n)

local function status_kb(field)
  local f = io.open("/proc/self/status", "rb")
  if not f then error("/proc/self/status is not readable: RSS needs Linux", 0) end
  local s = f:read("*a")
  f:close()
  local v = s:match(field .. ":%s*(%d+) kB")
  if not v then error("no " .. field .. " in /proc/self/status", 0) end
  return tonumber(v)
end

local client = ecs.new(req.client_config(opt.url, opt.sig))
local params = req.params()
local check = req.check_result
local warm = math.min(1000, n)
for _ = 1, warm do check(client:invoke_command(params)) end
collectgarbage()
collectgarbage()
local start_kb = status_kb("VmRSS")
for _ = 1, n do check(client:invoke_command(params)) end
collectgarbage()
collectgarbage()
local end_kb = status_kb("VmRSS")
req.report {
  "n", n,
  "start_kb", start_kb,
  "end_kb", end_kb,
  "growth_kb", end_kb - start_kb,
  "peak_kb", status_kb("VmHWM"),
  "lua_kb", ("%.0f"):format(collectgarbage("count")),
}
