-- Spec helper: child processes for the specs. A child runs through sh with
-- its pid, stdout and stderr in files and a pipe held here as its stdin;
-- the helper waits for it to be ready, tells whether it is still alive, and
-- stops what is left when the Lua state closes.
--
--   local process = require "helpers.process"
--   local p = { pidfile = dir .. "/pid" }
--   p.pipe = process.spawn("exec-able command", { pidfile = p.pidfile, stdout = out, stderr = err })
--   if not process.wait(p, function() return process.listening(out) end, 10, 0.005) then ... end
local socket = require "socket"

local M = {}

function M.shell_quote(s)
  return "'" .. string.gsub(tostring(s), "'", "'\\''") .. "'"
end
local q = M.shell_quote

function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end
local read_file = M.read_file

function M.write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

--- lua_script(source) -> source preceded by lines that give a child Lua
-- process this process's package.path and package.cpath.
function M.lua_script(source)
  return ("package.path = %q\npackage.cpath = %q\n"):format(package.path, package.cpath) .. source
end

--- interpreter() -> the command of the interpreter running this process
-- (lua5.1 .. lua5.4, luajit), for a child that runs the same one.
function M.interpreter()
  if rawget(_G, "jit") then return "luajit" end
  return "lua" .. string.match(_VERSION, "%d+%.%d+")
end

--- alive(pid) -> whether the process runs (neither gone nor a zombie).
function M.alive(pid)
  local stat = read_file("/proc/" .. pid .. "/stat")
  if not stat then return false end
  local state = string.match(stat, "%) (%a)")
  return state ~= "Z" and state ~= "X"
end

--- spawn(cmd, o) -> pipe. Runs `exec cmd` through sh with stdout and stderr
-- in the files o.stdout and o.stderr, the shell's pid (the child's, after
-- exec) in o.pidfile when given, and the variables o.env = { NAME = value }.
-- The pipe is the child's stdin; closing it waits for the child.
function M.spawn(cmd, o)
  local e = {}
  for k, v in pairs(o.env or {}) do e[#e + 1] = k .. "=" .. q(v) end
  local full = (o.pidfile and ("echo $$ > " .. q(o.pidfile) .. "; ") or "")
    .. (#e > 0 and ("export " .. table.concat(e, " ") .. "; ") or "")
    .. "exec " .. cmd .. " > " .. q(o.stdout) .. " 2> " .. q(o.stderr)
  return assert(io.popen(full, "w"))
end

--- wait(p, ready, timeout, interval) -> true as soon as ready() is true;
-- false once the process p ({ pid =, pidfile = }) has exited or timeout
-- seconds have passed. Sets p.pid from p.pidfile when it appears.
function M.wait(p, ready, timeout, interval)
  local deadline = socket.gettime() + timeout
  while true do
    if p.pidfile then p.pid = p.pid or tonumber(read_file(p.pidfile) or "") end
    if ready() then return true end
    if (p.pid and not M.alive(p.pid)) or socket.gettime() > deadline then return false end
    socket.sleep(interval)
  end
end

--- listening(path) -> port, text: the port of a first line "listening <port>"
-- in the file (nil while there is none), and the file's text.
function M.listening(path)
  local text = read_file(path)
  local port = text and string.match(text, "^listening (%d+)\n")
  return tonumber(port), text
end

--- registry(stop) -> running, stop_all, sentinel. running is a set of
-- objects; stop_all() calls stop(obj) for each one still in it, and so does
-- the sentinel's finalizer when the Lua state closes (busted ends with
-- os.exit(code, true)), as long as the caller keeps the sentinel.
function M.registry(stop)
  local running = {}
  local function stop_all()
    for obj in pairs(running) do pcall(stop, obj) end
  end
  local sentinel
  if _VERSION == "Lua 5.1" and newproxy then
    sentinel = newproxy(true)
    getmetatable(sentinel).__gc = stop_all
  else
    sentinel = setmetatable({}, { __gc = stop_all })
  end
  return running, stop_all, sentinel
end

return M
