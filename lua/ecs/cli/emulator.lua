--- `ecs emulator [args]`: runs the bundled Cloud Assistant emulator
-- (bin/ecs-emulator) in the foreground, passing every argument through.
local status = require "ecs.cli.status"

local type, ipairs, tostring = type, ipairs, tostring

local M = {
  name = "emulator",
  summary = "start the bundled Cloud Assistant emulator (ecs-emulator)",
  usage = "ecs emulator [ecs-emulator options]",
  description = [[
Starts the local Cloud Assistant emulator in the foreground; every argument
goes to ecs-emulator (`ecs emulator --help` shows its options). It prints
"listening <port>" first; point --endpoint at http://127.0.0.1:<port> and use
the AccessKey pair testid / testsecret. Ctrl-C stops it.]],
  examples = { "ecs emulator --port 8080 --time-scale 20" },
  raw = true,   -- arguments are not parsed by ecs
}

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- launcher(ctx) -> the command that starts ecs-emulator (a shell word list).
function M.launcher(ctx)
  local dir = ctx.bin_dir
  if dir and exists(dir .. "/ecs-emulator") then
    return quote(ctx.interpreter or "lua5.4") .. " " .. quote(dir .. "/ecs-emulator")
  end
  return "ecs-emulator"
end

function M.main(ctx, argv)
  local words = { "exec", M.launcher(ctx) }
  for _, a in ipairs(argv) do words[#words + 1] = quote(a) end
  if ctx.stdout.flush then ctx.stdout:flush() end
  local a, how, code = ctx.execute(table.concat(words, " "))
  if type(a) == "number" then  -- Lua 5.1: the raw wait status
    if a == 0 then return status.OK end
    return a >= 256 and math.floor(a / 256) or status.SERVICE
  end
  if how == "exit" then return code end
  if how == "signal" then return 128 + (code or 0) end
  return a and status.OK or status.SERVICE
end

return M
