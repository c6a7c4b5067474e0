--- `ecs run`: a shell, batch or PowerShell command on a fleet (RunCommand
-- through client:invoke_fleet), with live progress.
local args = require "ecs.cli.args"
local service = require "ecs.cli.service"
local fleetrun = require "ecs.cli.fleetrun"

local M = {
  name = "run",
  summary = "run a command on instances and wait for every result",
  usage = "ecs run [options] TARGETS (COMMAND... | --file FILE)",
  description = [[
Runs a command with RunCommand on the selected instances: the eligible ones
(Running, VPC, Cloud Assistant online, OS matching the command type) in
batches of at most 100, waiting for each result. Skipped instances are listed
with the reason. The command is the remaining arguments joined by spaces, or
the content of --file (- reads standard input).]],
  examples = {
    "ecs run --region cn-hangzhou --tag env=prod -- uptime",
    "ecs run -t tag:app=game -t name:game-* --batch-size 10 --max-errors 5% --file deploy.sh",
    "ecs run -i i-bp1xxx,i-bp1yyy --type powershell 'Get-Service'",
  },
}

local TYPES = { shell = "RunShellScript", bat = "RunBatScript", powershell = "RunPowerShellScript" }

M.options = args.merge(args.merge({
  { "--file", short = "-f", arg = "FILE", help = "read the command from FILE (- for standard input)" },
  { "--type", arg = "shell|bat|powershell", choices = { shell = true, bat = true, powershell = true },
    help = "command type (default shell: RunShellScript)" },
  { "--command-name", arg = "NAME", help = "name of the command (RunCommand Name)" },
}, service.TARGET_OPTIONS), fleetrun.OPTIONS)

local function read_file(ctx, path)
  local f, err
  if path == "-" then
    f = ctx.stdin
  else
    f, err = io.open(path, "rb")
    if not f then args.usage("--file: cannot read %s", tostring(err)) end
  end
  local s = f:read("*a")
  if path ~= "-" then f:close() end
  return s
end

function M.main(ctx, o, pos)
  local content
  if o.file then
    if #pos > 0 then args.usage("give the command as arguments or with --file, not both") end
    content = read_file(ctx, o.file)
  else
    content = table.concat(pos, " ")
  end
  if content == nil or content:match("^%s*$") then args.usage("no command to run") end
  local targets = service.targets(o)
  if not targets then args.usage("no targets: give -i ID, --tag KEY=VALUE, --name PATTERN, -t SPEC or --all") end
  local fleet = fleetrun.fleet_params(o, { Type = TYPES[o.type or "shell"], CommandContent = content,
                                           Name = o.command_name }, targets)
  return fleetrun.run(ctx, M.name, o, fleet)
end

return M
