--- Help texts of `ecs`, made from the command tables (usage, description,
-- options, examples), so the help and the parser never disagree.
local args = require "ecs.cli.args"

local ipairs, format, concat, rep = ipairs, string.format, table.concat, string.rep

local M = {}

M.EXIT = [[
Exit status:
  0    every targeted instance succeeded (or the command did what it says)
  1    an instance failed, timed out, was cancelled, skipped or not launched;
       a schedule was refused
  2    bad command line (a short help is printed)
  3    the service or the network refused or failed
  130  interrupted (Ctrl-C); a run first asks the service to stop the
       invocations it started]]

M.ENV = [[
Environment:
  ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET,
  ALIBABA_CLOUD_SECURITY_TOKEN   credentials (else the profile file, the aliyun
                                 CLI configuration, the instance RAM role)
  ALIBABA_CLOUD_REGION_ID        default region
  ALIBABA_CLOUD_PROFILE          default profile name]]

local function option_lines(list)
  local lines, left = {}, {}
  local width = 0
  for i, o in ipairs(list) do
    local s = (o.short and (o.short .. ", ") or "    ") .. o[1] .. (o.arg and (" " .. o.arg) or "")
    left[i] = s
    if #s > width then width = #s end
  end
  if width > 34 then width = 34 end
  for i, o in ipairs(list) do
    local l = left[i]
    if #l > width then
      lines[#lines + 1] = "  " .. l
      lines[#lines + 1] = "  " .. rep(" ", width) .. "  " .. (o.help or "")
    else
      lines[#lines + 1] = "  " .. l .. rep(" ", width - #l) .. "  " .. (o.help or "")
    end
  end
  return concat(lines, "\n")
end

--- options(cmd) -> the full option list of a command (its own, then the common ones).
function M.options(cmd)
  if cmd.raw then return {} end
  local list = args.merge(cmd.options or {}, cmd.common == false and {} or args.COMMON)
  list[#list + 1] = { "--help", short = "-h", kind = "flag", help = "show this help" }
  return list
end

--- command(cmd) -> the full help of one subcommand.
function M.command(cmd)
  local parts = { "usage: " .. cmd.usage, "", cmd.summary, "", cmd.description }
  local opts = M.options(cmd)
  if #opts > 0 then
    parts[#parts + 1] = ""
    parts[#parts + 1] = "Options:"
    parts[#parts + 1] = option_lines(opts)
  end
  if cmd.examples then
    parts[#parts + 1] = ""
    parts[#parts + 1] = "Examples:"
    for _, e in ipairs(cmd.examples) do parts[#parts + 1] = "  " .. e end
  end
  parts[#parts + 1] = ""
  parts[#parts + 1] = M.EXIT
  return concat(parts, "\n") .. "\n"
end

--- main(commands, order) -> the help of `ecs` itself.
function M.main(commands, order)
  local parts = { "usage: ecs <command> [options] [arguments]", "",
    "Runs commands on Alibaba Cloud ECS instances through Cloud Assistant.", "", "Commands:" }
  for _, name in ipairs(order) do
    parts[#parts + 1] = format("  %-10s %s", name, commands[name].summary)
  end
  parts[#parts + 1] = ""
  parts[#parts + 1] = "Options of the commands that call the service:"
  parts[#parts + 1] = option_lines(args.COMMON)
  parts[#parts + 1] = ""
  parts[#parts + 1] = "Targets (run, invoke, instances):"
  parts[#parts + 1] = option_lines(require("ecs.cli.service").TARGET_OPTIONS)
  parts[#parts + 1] = ""
  parts[#parts + 1] = M.ENV
  parts[#parts + 1] = ""
  parts[#parts + 1] = M.EXIT
  parts[#parts + 1] = ""
  parts[#parts + 1] = "`ecs <command> --help` shows a command's options. `ecs --version` prints the version."
  return concat(parts, "\n") .. "\n"
end

--- short(cmd_name, usage_line, message) -> the text printed for a usage error.
function M.short(name, usage, msg)
  local who = name and ("ecs " .. name) or "ecs"
  return format("%s: %s\nusage: %s\nTry '%s --help' for more.\n", who, msg, usage or "ecs <command> [options]", who)
end

return M
