--- The surroundings of one `ecs` run: where output goes, the environment,
-- whether stdout/stderr are terminals, the clock. Specs pass their own.
local type, tonumber, tostring = type, tonumber, tostring
local os_getenv, os_execute = os.getenv, os.execute

local M = {}

local function writer(f)
  return { write = function(_, ...) f:write(...) end, flush = function() f:flush() end }
end

-- true when the shell test succeeds (os.execute differs between 5.1 and 5.2+).
local function shell_ok(cmd)
  local a, _, c = os_execute(cmd)
  if type(a) == "number" then return a == 0 end
  return a == true and (c == nil or c == 0)
end

local function default_clock()
  local ok, socket = pcall(require, "socket")
  if ok then return socket.gettime end
  return os.time
end

--- new(over) -> context. over may set: stdout, stderr (objects with write/flush), getenv,
-- isatty(fd) -> boolean, clock, width, bin_dir, interpreter.
function M.new(over)
  over = over or {}
  local ctx = {
    stdout = over.stdout or writer(io.stdout),
    stderr = over.stderr or writer(io.stderr),
    stdin = over.stdin or io.stdin,
    getenv = over.getenv or os_getenv,
    clock = over.clock or default_clock(),
    bin_dir = over.bin_dir,
    interpreter = over.interpreter,
    execute = over.execute or os_execute,
  }
  local tty_cache = {}
  ctx.isatty = over.isatty or function(fd)
    if tty_cache[fd] == nil then
      -- ECS_CLI_TTY=1 or 0 overrides the check (both streams)
      local forced = ctx.getenv("ECS_CLI_TTY")
      if forced == "1" or forced == "0" then
        tty_cache[fd] = forced == "1"
      else
        tty_cache[fd] = shell_ok("test -t " .. tostring(fd))
      end
    end
    return tty_cache[fd]
  end
  local width_cache
  ctx.width = over.width or function()
    if width_cache then return width_cache end
    local cols = tonumber(ctx.getenv("COLUMNS") or "")
    if not cols and ctx.isatty(2) then
      local p = io.popen("stty size 2>/dev/null </dev/tty")
      local line = p and p:read("*l")
      if p then p:close() end
      cols = tonumber(line and line:match("%d+%s+(%d+)") or "")
    end
    if not cols or cols < 20 then cols = 80 end
    width_cache = cols
    return cols
  end
  function ctx.print(s)
    ctx.printed = true
    ctx.stdout:write(s)
  end
  function ctx.eprint(s) ctx.stderr:write(s) end
  return ctx
end

return M
