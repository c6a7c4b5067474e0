-- Quickstart: run one shell script on every instance that can take it, and
-- show what came back. `make demo` runs it against the local emulator.
--
--   ECS_ENDPOINT=http://127.0.0.1:PORT \
--   ALIBABA_CLOUD_ACCESS_KEY_ID=testid ALIBABA_CLOUD_ACCESS_KEY_SECRET=testsecret \
--   lua5.4 examples/quickstart.lua
--
-- It talks only to ECS_ENDPOINT (it refuses to start without it), because it
-- runs a command on every eligible instance of the region.
local ecs = require "ecs"
local core = require "ecs.core"

local REGION = "cn-hangzhou"
local WAIT_SECONDS = 120          -- give up waiting for results after this long
-- {{greeting}} is a parameter filled in at each run; {{ACS::InstanceId}} is
-- filled in by the agent on each instance.
local SCRIPT = [[
echo "{{greeting}} from {{ACS::InstanceId}}"
sleep 5
echo "checks done"
exit 0
]]

local write, format, concat = io.write, string.format, table.concat

local function say(...) write(format(...), "\n") end

local function step(n, total, title, ...)
  say("")
  say("Step %d/%d  %s", n, total, title)
  for _, line in ipairs({ ... }) do say("          %s", line) end
end

local function fail(what, err)
  say("")
  say("FAILED: %s: %s", what, tostring(err))
  os.exit(1)
end

-- Print rows (lists of strings; a cell may hold several lines) under headers.
local function print_table(headers, rows)
  local widths = {}
  for i, h in ipairs(headers) do widths[i] = #h end
  local split = {}
  for r, row in ipairs(rows) do
    split[r] = {}
    for i = 1, #headers do
      local lines = {}
      for line in (tostring(row[i] or "") .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
      split[r][i] = lines
      for _, line in ipairs(lines) do
        if #line > widths[i] then widths[i] = #line end
      end
    end
  end
  local function line_of(cells)
    local out = {}
    for i, c in ipairs(cells) do out[i] = c .. string.rep(" ", widths[i] - #c) end
    return "  " .. (concat(out, "  "):gsub("%s+$", ""))
  end
  local rule = {}
  for i, w in ipairs(widths) do rule[i] = string.rep("-", w) end
  say("%s", line_of(headers))
  say("%s", line_of(rule))
  for _, cells in ipairs(split) do
    local height = 1
    for _, lines in ipairs(cells) do if #lines > height then height = #lines end end
    for l = 1, height do
      local one = {}
      for i = 1, #headers do one[i] = cells[i][l] or "" end
      say("%s", line_of(one))
    end
  end
end

local function list_of(set)
  local out = {}
  for k in pairs(set) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function nonempty(s) return s ~= nil and s ~= "" and s ~= core.null end

---------------------------------------------------------------------------

local endpoint = os.getenv("ECS_ENDPOINT")
if not nonempty(endpoint) then
  io.stderr:write("quickstart: set ECS_ENDPOINT to the emulator's URL (`make demo` does this for you)\n")
  os.exit(2)
end

local client = ecs.new { region = REGION, endpoint = endpoint }
local TOTAL = 5

say("Cloud Assistant runs scripts on ECS instances (virtual machines in Alibaba Cloud)")
say("through an agent installed on each of them. This quickstart talks to %s.", endpoint)

-- 1. Which instances can run a shell script? -------------------------------
step(1, TOTAL, "Find the instances that can run a shell script",
  "select_instances lists the instances (DescribeInstances) and asks which ones have",
  "their Cloud Assistant agent online (DescribeCloudAssistantStatus).")
local sel, serr = client:select_instances { targets = { all = true }, command_type = "RunShellScript" }
if not sel then fail("select_instances", serr) end
local why = {}
for _, s in ipairs(sel.skipped) do why[s.InstanceId] = s.message or s.reason end
do
  local rows = {}
  local ids = {}
  for id in pairs(sel.instances) do ids[#ids + 1] = id end
  table.sort(ids)
  for _, id in ipairs(ids) do
    local inst, st = sel.instances[id], sel.agents[id]
    local agent = "-"
    if st and not nonempty(st.CloudAssistantVersion) then
      agent = "not installed"
    elseif st then
      agent = (tostring(st.CloudAssistantStatus) == "true" and "online " or "offline ") .. st.CloudAssistantVersion
    end
    rows[#rows + 1] = { id, inst.InstanceName or "", inst.Status or "?", inst.OSType or "?",
                        inst.InstanceNetworkType or "?", agent, why[id] and "no" or "yes" }
  end
  say("")
  print_table({ "InstanceId", "Name", "Status", "OS", "Network", "Agent", "Eligible" }, rows)
  say("  (Agent \"-\": not asked, the instance was already left out.)")
end
local eligible = sel.eligible
say("")
say("  %d of %d instances can run it (%d API calls).", #eligible, #eligible + #sel.skipped,
  (sel.calls.DescribeInstances or 0) + (sel.calls.DescribeCloudAssistantStatus or 0))
if #eligible == 0 then fail("select_instances", "no instance is Running with its agent online") end

-- 2. Save the script as a command ------------------------------------------
step(2, TOTAL, "CreateCommand: save the shell script as a reusable command")
local created, cerr = client:create_command {
  Name = "quickstart-hello", Type = "RunShellScript", Timeout = 60, EnableParameter = true,
  Description = "Quickstart: say hello", CommandContent = core.base64_encode(SCRIPT),
}
if not created then fail("CreateCommand", cerr) end
local command_id = created.CommandId
say("  CommandId %s:", command_id)
for line in SCRIPT:gmatch("([^\n]+)") do say("    | %s", line) end

-- 3. Run it ---------------------------------------------------------------
step(3, TOTAL, "InvokeCommand: run the command on the " .. #eligible .. " eligible instances",
  'with the parameter greeting = "Hello".')
local params = { greeting = "Hello" }
if sel.skipped[1] then
  -- The service checks every listed instance and refuses the whole call if
  -- one cannot run the command; show that once with an ineligible instance.
  local bad = sel.skipped[1].InstanceId
  local res, err = client:invoke_command { CommandId = command_id, Parameters = params,
                                           InstanceId = { eligible[1], bad } }
  if res then fail("InvokeCommand", "the service accepted ineligible instance " .. bad) end
  say("  Listing an ineligible instance (%s) too makes the service refuse the", bad)
  say("  whole call: %s. That is why instances are checked first.", err.code or tostring(err))
end
local invoked, ierr = client:invoke_command { CommandId = command_id, Parameters = params, InstanceId = eligible }
if not invoked then fail("InvokeCommand", ierr) end
local invoke_id = invoked.InvokeId
say("  InvokeId %s: the run started on %d instances.", invoke_id, #eligible)

-- 4. Wait for the results -------------------------------------------------
step(4, TOTAL, "Wait for every instance to finish",
  "wait_invocation polls DescribeInvocationResults until each instance reaches a final",
  "status (Pending -> Running -> Success, Failed or Timeout) and decodes its output.")
local last_report
local outcome, werr = client:wait_invocation(invoke_id, {
  instances = eligible, timeout = WAIT_SECONDS, poll = { min = 0.3, max = 1, jitter = 0 },
  on_progress = function(p)
    local counts = {}
    for _, st in pairs(p.statuses) do counts[st] = (counts[st] or 0) + 1 end
    local parts = {}
    for _, st in ipairs(list_of(counts)) do parts[#parts + 1] = counts[st] .. " " .. st end
    local report = concat(parts, ", ")
    if report ~= last_report then
      say("  %d/%d finished: %s", p.finished, #eligible, report)
      last_report = report
    end
  end,
})
if not outcome then fail("wait_invocation", werr) end

say("")
local rows, failures = {}, 0
for _, id in ipairs(eligible) do
  local r = outcome.results[id] or { status = "(no result)" }
  local output = (r.output or ""):gsub("\n$", "")
  if r.error_info then output = output .. (output ~= "" and "\n" or "") .. "(" .. r.error_info .. ")" end
  if r.status ~= "Success" then failures = failures + 1 end
  rows[#rows + 1] = { id, r.status, r.exit_code and format("%d", r.exit_code) or "-", output }
end
print_table({ "InstanceId", "Status", "ExitCode", "Output" }, rows)

say("")
say("Not eligible (left out before invoking):")
if #sel.skipped == 0 then say("  none") end
local srows = {}
for _, s in ipairs(sel.skipped) do srows[#srows + 1] = { s.InstanceId, s.message or s.reason } end
if #srows > 0 then print_table({ "InstanceId", "Why" }, srows) end

-- 5. Tidy up --------------------------------------------------------------
step(5, TOTAL, "DeleteCommand: delete the saved command (saved commands count against a quota)")
local deleted, derr = client:delete_command { CommandId = command_id }
if not deleted then fail("DeleteCommand", derr) end
say("  deleted %s", command_id)

say("")
if failures > 0 then
  say("Done, but %d of %d instances did not succeed.", failures, #eligible)
  os.exit(1)
end
say("Done: the script ran on %d instances and succeeded on all of them; %d were left out.",
  #eligible, #sel.skipped)
