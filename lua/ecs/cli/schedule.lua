--- `ecs schedule <expression>`: checks a Frequency expression the way the
-- service does, reads it in English and lists its next fire times.
local args = require "ecs.cli.args"
local json = require "ecs.cli.json"
local status = require "ecs.cli.status"

local tostring, ipairs = tostring, ipairs
local format = string.format

local M = {
  name = "schedule",
  summary = "check a schedule expression and show its next fire times",
  usage = "ecs schedule [options] EXPRESSION",
  description = [[
Validates a Frequency expression (rate(5m), at(2030-01-01 00:00:00 UTC) or a
6/7-field cron with an optional zone) with the service's rules and prints the
reason when it is refused; otherwise its English reading, the agent version
it needs, warnings, and the next N fire times. A cron without zone runs in
the instance's zone: --zone names it (default GMT+8:00); times are shown in
UTC and in that zone. Quote the expression. Exits 1 when it is refused.
Sends nothing.]],
  examples = { "ecs schedule '0 0 2 ? * MON-FRI Asia/Shanghai' --next 5",
               "ecs schedule 'rate(10m)' --timeout 300", "ecs schedule '0 */5 * * * ?' --zone Europe/Berlin --json" },
  common = false,
}

M.options = {
  { "--next", short = "-n", arg = "N", kind = "int", min = 1, max = 1000, help = "fire times to list (default 5)" },
  { "--zone", arg = "ZONE", help = "instance time zone (for a cron without zone) and display zone" },
  { "--timeout", arg = "SECONDS", kind = "int", min = 0, help = "the task's Timeout (checked against the interval)" },
  { "--from", arg = "EPOCH", kind = "int", help = "list fire times after this time (default now)" },
  { "--json", kind = "flag", help = "print one JSON document on stdout and nothing else" },
}

function M.main(ctx, o, pos)
  if #pos == 0 then args.usage("missing EXPRESSION") end
  local expr = table.concat(pos, " ")
  local frequency = require "ecs.frequency"
  local now = o.from or math.floor(ctx.clock())
  local zone_obj
  if o.zone then
    local z, zerr = frequency.zone(o.zone)
    if not z then args.usage("--zone: %s", tostring(zerr)) end
    zone_obj = z
  end
  local ok, info = frequency.validate(expr, { timeout = o.timeout, now = now, instance_zone = o.zone })
  local doc = { command = "schedule", expression = expr, valid = ok == true }
  if not ok then
    doc.error = info
    doc.exit_status = status.FAILED
    if o.json then
      ctx.print(json.encode(doc) .. "\n")
    else
      ctx.eprint(format("refused: %s\n", tostring(info)))
    end
    return status.FAILED
  end
  doc.description = frequency.describe(expr)
  doc.kind, doc.zone = info.kind, info.zone
  doc.features = json.array(info.features)
  doc.min_agent = info.min_agent
  doc.warnings = json.array(info.warnings)
  local times = frequency.next(expr, { count = o.next or 5, from = now, instance_zone = o.zone }) or {}
  local zi = require "ecs.zoneinfo"
  local shown_name = o.zone or info.zone
  if not shown_name and info.kind == "cron" then shown_name = frequency.DEFAULT_INSTANCE_ZONE end
  local shown = zone_obj or (shown_name and frequency.zone(shown_name)) or nil
  local list = json.array()
  for i, t in ipairs(times) do
    local e = { epoch = t, utc = os.date("!%Y-%m-%dT%H:%M:%SZ", t) }
    if shown then e["local"] = zi.format_wall(shown:to_wall(t)) end
    list[i] = e
  end
  doc.next = list
  doc.display_zone = shown and shown_name or nil
  doc.exit_status = status.OK
  if o.json then
    ctx.print(json.encode(doc) .. "\n")
    return status.OK
  end
  ctx.print(format("valid: %s\n", doc.description))
  if info.min_agent then
    ctx.print(format("needs Cloud Assistant agent >= %s (Linux) / %s (Windows) for: %s\n", info.min_agent.linux,
      info.min_agent.windows, table.concat(info.features, ", ")))
  end
  for _, w in ipairs(info.warnings) do ctx.print("warning: " .. w .. "\n") end
  if info.kind == "cron" and not info.zone then
    ctx.print(format("no zone: runs in each instance's time zone (assumed %s)\n",
      o.zone or frequency.DEFAULT_INSTANCE_ZONE))
  end
  if #times == 0 then
    ctx.print("no fire time after now\n")
  else
    ctx.print(format("next %d:\n", #times))
    for _, e in ipairs(list) do
      ctx.print("  " .. e.utc .. (e["local"] and ("  " .. e["local"] .. " " .. doc.display_zone) or "") .. "\n")
    end
  end
  return status.OK
end

return M
