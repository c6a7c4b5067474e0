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
local POLL_INTERVAL = 0.5
local SCRIPT = [[
echo "Hello from Cloud Assistant"
sleep 5
echo "uptime check done"
exit 0
]]

local write, format, concat = io.write, string.format, table.concat

local function say(...) write(format(...), "\n") end

local function step(n, total, action, what)
  say("")
  say("Step %d/%d  %s", n, total, action)
  say("           %s", what)
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

-- Split a list into batches of at most n (the service takes up to 100 IDs).
local function batches(list, n)
  local out = {}
  for i = 1, #list, n do
    local b = {}
    for j = i, math.min(i + n - 1, #list) do b[#b + 1] = list[j] end
    out[#out + 1] = b
  end
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
local TOTAL = 6

say("Cloud Assistant runs shell scripts on ECS instances (cloud virtual machines)")
say("through an agent installed on each of them. This quickstart talks to %s.", endpoint)

-- 1. Discover the instances -------------------------------------------------
step(1, TOTAL, "DescribeInstances", "list the instances (virtual machines) in region " .. REGION)
local instances, order = {}, {}
local token
for _ = 1, 100 do -- bounded paging
  local res, err = client:describe_instances { MaxResults = 100, NextToken = token }
  if not res then fail("DescribeInstances", err) end
  for _, inst in ipairs(res.Instances and res.Instances.Instance or {}) do
    if not instances[inst.InstanceId] then order[#order + 1] = inst.InstanceId end
    instances[inst.InstanceId] = inst
  end
  token = res.NextToken
  if not nonempty(token) then break end
end
if #order == 0 then fail("DescribeInstances", "no instance in " .. REGION) end
do
  local rows = {}
  for _, id in ipairs(order) do
    local inst = instances[id]
    rows[#rows + 1] = { id, inst.InstanceName or "", inst.Status or "?", inst.OSType or "?",
                        inst.InstanceNetworkType or "?" }
  end
  say("")
  print_table({ "InstanceId", "Name", "Status", "OS", "Network" }, rows)
end

-- 2. Is the agent online? ---------------------------------------------------
step(2, TOTAL, "DescribeCloudAssistantStatus",
  "ask which instances have the Cloud Assistant agent online (it runs the scripts)")
local agent = {}
for _, batch in ipairs(batches(order, 50)) do
  local res, err = client:describe_cloud_assistant_status { InstanceId = batch, MaxResults = 50 }
  if not res then fail("DescribeCloudAssistantStatus", err) end
  local set = res.InstanceCloudAssistantStatusSet
  for _, st in ipairs(set and set.InstanceCloudAssistantStatus or {}) do
    agent[st.InstanceId] = st
  end
end

local eligible, skipped = {}, {}
for _, id in ipairs(order) do
  local inst, st = instances[id], agent[id]
  local why
  if inst.Status ~= "Running" then
    why = "instance is " .. tostring(inst.Status) .. ", not Running"
  elseif not st or tostring(st.CloudAssistantStatus) ~= "true" then
    why = "Cloud Assistant agent is offline or not installed"
  elseif tostring(inst.OSType):lower() ~= "linux" then
    why = "OS is " .. tostring(inst.OSType) .. ": a shell script (RunShellScript) needs Linux"
  end
  if why then skipped[#skipped + 1] = { id = id, why = why } else eligible[#eligible + 1] = id end
end
say("  %d of %d instances can run the script: Running, agent online, Linux.", #eligible, #order)
if #eligible == 0 then fail("eligibility", "no instance is Running with its agent online") end

-- 3. Save the script as a command ------------------------------------------
step(3, TOTAL, "CreateCommand", "save a small shell script as a reusable command")
local created, cerr = client:create_command {
  Name = "quickstart-hello", Type = "RunShellScript", Timeout = 60,
  Description = "Quickstart: say hello", CommandContent = core.base64_encode(SCRIPT),
}
if not created then fail("CreateCommand", cerr) end
local command_id = created.CommandId
say("  CommandId %s, script:", command_id)
for line in SCRIPT:gmatch("([^\n]+)") do say("    | %s", line) end

-- 4. Run it ---------------------------------------------------------------
step(4, TOTAL, "InvokeCommand", "run the command on the " .. #eligible .. " eligible instances")
if skipped[1] then
  -- The service checks every listed instance and refuses the whole call if
  -- one cannot run the command; show that once with an ineligible instance.
  local bad = skipped[1]
  local res, err = client:invoke_command { CommandId = command_id, InstanceId = { eligible[1], bad.id } }
  if res then fail("InvokeCommand", "the service accepted ineligible instance " .. bad.id) end
  say("  (Including %s would have been refused for the whole call: %s)",
    bad.id, err.code or tostring(err))
end
local invoke_ids = {}
for _, batch in ipairs(batches(eligible, 100)) do
  local res, err = client:invoke_command { CommandId = command_id, InstanceId = batch }
  if not res then fail("InvokeCommand", err) end
  invoke_ids[#invoke_ids + 1] = res.InvokeId
  say("  InvokeId %s: %d instances", res.InvokeId, #batch)
end

-- 5. Wait for the results -------------------------------------------------
step(5, TOTAL, "DescribeInvocationResults",
  "poll each instance's result until every one has finished (Pending -> Running -> Success/Failed)")
local FINAL = { Success = true, Failed = true, Invalid = true, Aborted = true, Error = true,
                Timeout = true, Cancelled = true, Terminated = true }
local results = {}
local sleep = require("socket").sleep
local gettime = require("socket").gettime
local deadline = gettime() + WAIT_SECONDS
local last_report
while true do
  for _, invoke_id in ipairs(invoke_ids) do
    local next_token
    for _ = 1, 100 do
      local res, err = client:describe_invocation_results { InvokeId = invoke_id, MaxResults = 50,
                                                           NextToken = next_token }
      if not res then fail("DescribeInvocationResults", err) end
      local inv = res.Invocation or {}
      for _, r in ipairs(inv.InvocationResults and inv.InvocationResults.InvocationResult or {}) do
        results[r.InstanceId] = r
      end
      next_token = inv.NextToken
      if not nonempty(next_token) then break end
    end
  end
  local done, counts = 0, {}
  for _, id in ipairs(eligible) do
    local st = results[id] and results[id].InvocationStatus or "Pending"
    counts[st] = (counts[st] or 0) + 1
    if FINAL[st] then done = done + 1 end
  end
  local parts = {}
  for _, st in ipairs(list_of(counts)) do parts[#parts + 1] = counts[st] .. " " .. st end
  local report = concat(parts, ", ")
  if report ~= last_report then say("  %d/%d finished: %s", done, #eligible, report); last_report = report end
  if done == #eligible then break end
  if gettime() > deadline then fail("waiting", "results not final after " .. WAIT_SECONDS .. " s") end
  sleep(POLL_INTERVAL)
end

say("")
local rows, failures = {}, 0
for _, id in ipairs(eligible) do
  local r = results[id]
  local output = ""
  if nonempty(r.Output) then
    local decoded = core.base64_decode(r.Output)
    output = (decoded or r.Output):gsub("\n$", "")
  end
  if nonempty(r.ErrorInfo) then output = output .. (output ~= "" and "\n" or "") .. "(" .. r.ErrorInfo .. ")" end
  local exit = r.ExitCode ~= nil and r.ExitCode ~= core.null and format("%d", r.ExitCode) or "-"
  if r.InvocationStatus ~= "Success" then failures = failures + 1 end
  rows[#rows + 1] = { id, r.InvocationStatus, exit, output }
end
print_table({ "InstanceId", "Status", "ExitCode", "Output" }, rows)

say("")
say("Not eligible (skipped before invoking):")
if #skipped == 0 then say("  none") end
local srows = {}
for _, s in ipairs(skipped) do srows[#srows + 1] = { s.id, s.why } end
if #srows > 0 then print_table({ "InstanceId", "Why" }, srows) end

-- 6. Tidy up --------------------------------------------------------------
step(6, TOTAL, "DeleteCommand", "delete the saved command (saved commands count against a quota)")
local deleted, derr = client:delete_command { CommandId = command_id }
if not deleted then fail("DeleteCommand", derr) end
say("  deleted %s", command_id)

say("")
if failures > 0 then
  say("Done, but %d of %d instances did not succeed.", failures, #eligible)
  os.exit(1)
end
say("Done: the script ran on %d instances, all succeeded; %d were skipped.", #eligible, #skipped)
