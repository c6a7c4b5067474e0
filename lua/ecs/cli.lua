--- The `ecs` command line: a thin front end over the library. main(argv, ctx)
-- parses the subcommand and its options, runs it, and returns the exit
-- status; usage errors print a short help (exit 2), never a traceback.
-- See docs/cli.md.
local args = require "ecs.cli.args"
local help = require "ecs.cli.help"
local context = require "ecs.cli.context"
local status = require "ecs.cli.status"
local interrupt = require "ecs.cli.interrupt"

local ipairs, tostring, type, xpcall, pcall = ipairs, tostring, type, xpcall, pcall

local M = {}

M.ORDER = { "run", "invoke", "wait", "results", "stop", "instances", "schedule", "emulator" }
M.status = status

local function load_command(name)
  for _, n in ipairs(M.ORDER) do
    if n == name then return require("ecs.cli." .. name) end
  end
  return nil
end

local function commands()
  local t = {}
  for _, n in ipairs(M.ORDER) do t[n] = require("ecs.cli." .. n) end
  return t
end

local function wants_help(argv, first)
  for i = first, #argv do
    if argv[i] == "--" then return false end
    if argv[i] == "--help" or argv[i] == "-h" then return true end
  end
  return false
end

local function dispatch(ctx, argv)
  local name = argv[1]
  if name == nil or name == "help" and argv[2] == nil then
    ctx.print(help.main(commands(), M.ORDER))
    return name == nil and status.USAGE or status.OK
  end
  if name == "--help" or name == "-h" then
    ctx.print(help.main(commands(), M.ORDER))
    return status.OK
  end
  if name == "--version" then
    local ok, ecs = pcall(require, "ecs")
    ctx.print("ecs " .. (ok and tostring(ecs._VERSION) or "(library not found: " .. tostring(ecs) .. ")") .. "\n")
    return ok and status.OK or status.INTERNAL
  end
  if name == "help" then
    local cmd = load_command(argv[2])
    if not cmd then args.usage("unknown command '%s'", tostring(argv[2])) end
    ctx.print(help.command(cmd))
    return status.OK
  end
  if name:sub(1, 1) == "-" then args.usage("give a command before options, e.g. 'ecs run %s ...'", name) end
  local cmd = load_command(name)
  if not cmd then args.usage("unknown command '%s' (commands: %s)", name, table.concat(M.ORDER, ", ")) end
  ctx.command = cmd
  if cmd.raw then
    local rest = {}
    for i = 2, #argv do rest[#rest + 1] = argv[i] end
    return cmd.main(ctx, rest)
  end
  if wants_help(argv, 2) then
    ctx.print(help.command(cmd))
    return status.OK
  end
  local o, pos = args.parse(argv, help.options(cmd), 2)
  o.command = name
  return cmd.main(ctx, o, pos)
end

local function traceback(e)
  if args.is_usage(e) or interrupt.is_interrupt(e) then return e end
  return { internal = e, trace = debug.traceback(tostring(e), 2) }
end

-- With --json on the command line, a failure that left stdout empty still
-- prints one document there.
local function json_failure(ctx, argv, msg, code)
  local cmd = ctx.command
  if not cmd or cmd.raw or ctx.printed then return end
  for i = 2, #argv do
    if argv[i] == "--" then return end
    if argv[i] == "--json" then
      local json = require "ecs.cli.json"
      ctx.print(json.encode { command = cmd.name, error = msg, exit_status = code } .. "\n")
      return
    end
  end
end

--- main(argv, over) -> exit status. over: context overrides (see ecs.cli.context).
function M.main(argv, over)
  local ctx = context.new(over)
  argv = argv or {}
  local ok, res = xpcall(function() return dispatch(ctx, argv) end, traceback)
  if ok then return res or status.OK end
  if args.is_usage(res) then
    local cmd = ctx.command
    ctx.eprint(help.short(cmd and cmd.name, cmd and cmd.usage, res.usage))
    json_failure(ctx, argv, res.usage, status.USAGE)
    return status.USAGE
  end
  if interrupt.is_interrupt(res) then
    local handler = ctx.on_interrupt
    ctx.on_interrupt = nil
    if handler then
      local hok, code = pcall(handler)
      if hok then return code end
      ctx.eprint("ecs: interrupted; stopping failed: " .. tostring(code) .. "\n")
    else
      ctx.eprint("ecs: interrupted\n")
      json_failure(ctx, argv, "interrupted", status.INTERRUPTED)
    end
    return status.INTERRUPTED
  end
  local e = type(res) == "table" and res.internal or res
  ctx.eprint("ecs: internal error: " .. tostring(e) .. "\n")
  if ctx.getenv("ECS_DEBUG") then ctx.eprint(tostring(res.trace) .. "\n") end
  pcall(json_failure, ctx, argv, "internal error: " .. tostring(e), status.INTERNAL)
  return status.INTERNAL
end

return M
