-- Invocations: InvokeCommand, RunCommand, StopInvocation,
-- DescribeInvocations, DescribeInvocationResults, and the daily quota.
local errors = require "ecs.emulator.errors"
local validate = require "ecs.emulator.validate"
local commands = require "ecs.emulator.commands"
local targets = require "ecs.emulator.targets"
local lifecycle = require "ecs.emulator.lifecycle"
local script = require "ecs.emulator.script"
local schedule = require "ecs.emulator.schedule"
local paging = require "ecs.emulator.paging"
local region = require "ecs.emulator.region"
local clock = require "ecs.emulator.clock"
local json = require "ecs.emulator.json"

local ipairs, raise = ipairs, errors.raise

local M = {}

M.OUTPUT_LIMIT = 24 * 1024

function M.new_store()
  return { list = {}, by_id = {}, by_instance = {}, quota = {} }
end

-- Daily invocation quota per region, on the simulated clock's UTC day.
function M.check_quota(st, region_id, now)
  local key = region_id .. " " .. clock.utc_day(now)
  local used = st.invocations.quota[key] or 0
  if used >= st.quota.daily_invocations then
    raise("Invocation.ExceedQuota", "The daily quota of %d invocations in region %s has been reached.",
      st.quota.daily_invocations, region_id)
  end
  return key
end

local function index(st, inv)
  local s = st.invocations
  s.list[#s.list + 1] = inv
  s.by_id[inv.InvokeId] = inv
  for _, rec in ipairs(inv.records) do
    local l = s.by_instance[rec.InstanceId]
    if not l then l = {} s.by_instance[rec.InstanceId] = l end
    l[#l + 1] = rec
  end
  st.counters.invocations = st.counters.invocations + 1
end
M.index = index

local CONTAINER = { "", "docker://", "containerd://", "cri%-o://" }

local function check_container(p, name, code)
  local v = p[name]
  if v == nil or v == "" then return end
  if name == "ContainerName" then
    if #v > 255 or v:find("[^%w_%.%-/:]") then raise(code, "The %s \"%s\" is not valid.", name, v) end
    return
  end
  for _, prefix in ipairs(CONTAINER) do
    if v:find("^" .. prefix .. string.rep("%x", 64) .. "$") then return end
  end
  raise(code, "The %s \"%s\" is not valid.", name, v)
end

-- Validate and start an invocation of cmd (stored or being created by
-- RunCommand) on the targets of p. content_limit: Base64 bytes of content
-- plus Parameters. Returns the invocation.
function M.start(st, p, cmd, region_id, content_limit)
  local list = targets.select(st, p, region_id, { max = 100, tags = true })
  local timeout = validate.timeout(p, cmd.Timeout)
  local mode, freq, kind, interval = validate.repeat_mode(p, timeout, st.clock:sim())
  local params = validate.parameters(p, cmd)
  if commands.b64_len(#cmd.CommandContent + #(p.Parameters or "")) > content_limit then
    raise("CmdContent.ExceedLimit", "The command content and parameters are larger than %d bytes after Base64.",
      content_limit)
  end
  validate.maxlen(p, "Username", 255, "Username.ExceedLimit")
  validate.maxlen(p, "WindowsPasswordName", 255, "WindowsPasswordName.ExceedLimit")
  validate.maxlen(p, "WorkingDir", 200, "InvalidParameter.WorkingDir")
  validate.maxlen(p, "Launcher", 1024, "InvalidLauncher.LengthLimitExceeded")
  check_container(p, "ContainerId", "InvalidContainerId.Malformed")
  check_container(p, "ContainerName", "InvalidContainerName.Malformed")
  local tm = p.TerminationMode
  if tm and tm ~= "" and tm ~= "Process" and tm ~= "ProcessTree" then
    raise("InvalidTerminationMode.NotFound", "The TerminationMode \"%s\" does not exist (Process or ProcessTree).", tm)
  end
  local rg = p.ResourceGroupId
  if rg and rg ~= "" and not st.fleet.resource_groups[rg] then
    raise("InvalidResourceGroup.NotFound", "The resource group \"%s\" does not exist.", rg)
  end
  local tags = validate.tags(p, "Tag", { max = 20 })
  local os_wanted = commands.TYPES[cmd.Type]
  targets.check_eligible(list, os_wanted)
  local user = p.Username
  if os_wanted == "windows" and user and user ~= "" and user ~= "System"
    and (p.WindowsPasswordName == nil or p.WindowsPasswordName == "") then
    raise("WindowsPasswordName.Missed", "A Windows command run as \"%s\" needs WindowsPasswordName.", user)
  end
  if mode == "DryRun" then
    raise("DryRunOperation", "Request validation has been passed with DryRun flag set.")
  end
  local now = st.clock:sim()
  local quota_key = M.check_quota(st, region_id, now)

  local inv = {
    InvokeId = "t-" .. st.ids:hex(32), kind = "command", RegionId = region_id, seq = #st.invocations.list + 1,
    CommandId = cmd.CommandId, CommandName = cmd.Name, CommandType = cmd.Type,
    CommandContent = cmd.CommandContent, CommandDescription = cmd.Description,
    Parameters = params, ParametersText = p.Parameters or "", RepeatMode = mode, Frequency = freq or "",
    Timed = mode ~= "Once", Timeout = timeout,
    Username = (user ~= nil and user ~= "") and user or (os_wanted == "windows" and "System" or "root"),
    WorkingDir = p.WorkingDir or cmd.WorkingDir, ContainerId = p.ContainerId or "",
    ContainerName = p.ContainerName or "", Launcher = p.Launcher or cmd.Launcher,
    TerminationMode = tm or "Process", CreationTime = now, Tags = tags,
    ResourceGroupId = rg or "", records = {},
  }
  local periodic = mode ~= "Once"
  for _, inst in ipairs(list) do
    local rec = { InstanceId = inst.InstanceId, inv = inv, created = now, start = now + st.timing.delivery,
      timeout = timeout, periodic = periodic }
    if mode == "Period" then
      rec.schedule = { kind = kind, interval = interval, expr = freq, created = now }
    end
    if periodic and freq and schedule.needs_new_agent(freq, kind) then
      local min = inst.OSType == "windows" and "2.1.3.282" or "2.2.3.282"
      if not targets.version_at_least(inst.AgentVersion, min) then
        rec.fixed = { status = "Failed", code = "ClientNeedUpgrade",
          info = "the Cloud Assistant agent needs to be upgraded to at least version " .. min
            .. " to support the feature 'scheduled execution by rate, at or time zone'." }
      end
    end
    local text = cmd.CommandContent
    if cmd.EnableParameter then
      text = script.substitute(text, params, { RegionId = region_id, InstanceId = inst.InstanceId,
        InstanceName = inst.InstanceName, InvokeId = inv.InvokeId, CommandId = cmd.CommandId,
        AccountId = "1234567890123456" })
    end
    rec.run = script.run(text)
    inv.records[#inv.records + 1] = rec
  end
  st.invocations.quota[quota_key] = (st.invocations.quota[quota_key] or 0) + 1
  cmd.InvokeTimes = cmd.InvokeTimes + 1
  index(st, inv)
  return inv
end

function M.invoke_command(st, p)
  local r = region.require(st, p)
  local id = validate.required(p, "CommandId")
  local cmd = commands.find(st, r, id)
  local inv = M.start(st, p, cmd, r, 18 * 1024)
  return { InvokeId = inv.InvokeId }
end

function M.run_command(st, p)
  local r = region.require(st, p)
  local keep = validate.bool(p, "KeepCommand", false)
  local cmd = commands.build(st, p, { default_encoding = "PlainText", limit = keep and 18 * 1024 or 24 * 1024,
    region = r, hidden = not keep })
  if keep then commands.check_quota(st, r) end
  local inv = M.start(st, p, cmd, r, keep and 18 * 1024 or 24 * 1024)
  commands.store(st, cmd)
  return { CommandId = cmd.CommandId, InvokeId = inv.InvokeId }
end

local function find(st, region_id, id, kind)
  local inv = st.invocations.by_id[id]
  if not inv or inv.RegionId ~= region_id or (kind and inv.kind ~= kind) then
    raise("InvalidInvokeId.NotFound", "The specified invocation \"%s\" does not exist.", id)
  end
  return inv
end
M.find = find

function M.stop(st, p)
  local r = region.require(st, p)
  local id = validate.required(p, "InvokeId")
  local inv = find(st, r, id)
  local ids = validate.list(p, "InstanceId")
  if #ids > 50 then raise("InstanceIds.ExceedLimit", "At most 50 instance IDs may be given, got %d.", #ids) end
  local chosen = {}
  if #ids > 0 then
    local by = {}
    for _, rec in ipairs(inv.records) do by[rec.InstanceId] = rec end
    for _, iid in ipairs(ids) do
      if not by[iid] then
        raise("InvalidInstanceId.NotFound", "The instance \"%s\" is not part of invocation %s.", iid, id)
      end
      chosen[#chosen + 1] = by[iid]
    end
  else
    chosen = inv.records
  end
  local now = st.clock:sim()
  for _, rec in ipairs(chosen) do
    local v = lifecycle.view(rec, now, st.timing)
    if not lifecycle.TERMINAL[v.status] and not rec.stop_at then rec.stop_at = now end
  end
  return {}
end

-- An instance stopped or lost its agent: unfinished one-time runs on it end.
function M.on_instance_change(st, inst)
  local recs = st.invocations.by_instance[inst.InstanceId]
  if not recs then return end
  local code, info
  if inst.Status ~= "Running" then
    code, info = "InstanceNotRunning", "the instance is not running."
  elseif not inst.AgentOnline then
    code, info = "ClientNotResponse", "the Cloud Assistant agent does not respond."
  else
    return
  end
  local now = st.clock:sim()
  for _, rec in ipairs(recs) do
    if not rec.periodic and not rec.abort then
      local v = lifecycle.view(rec, now, st.timing)
      if not lifecycle.TERMINAL[v.status] then rec.abort = { at = now, code = code, info = info } end
    end
  end
end

-- Output field pair (Output, Dropped) for a view.
function M.output_fields(text, encoding)
  local dropped = 0
  if #text > M.OUTPUT_LIMIT then
    dropped = #text - M.OUTPUT_LIMIT
    text = text:sub(1, M.OUTPUT_LIMIT)
  end
  return commands.encode_text(text, encoding), dropped
end

local function iso_or_empty(t)
  return t and clock.iso(t) or ""
end
M.iso_or_empty = iso_or_empty

local function record_matches(p, rec)
  return not p.InstanceId or p.InstanceId == "" or rec.InstanceId == p.InstanceId
end

-- The invocations to scan, oldest first: just one when InvokeId is given.
local function candidates(st, p)
  local id = p.InvokeId
  if id ~= nil and id ~= "" then
    local inv = st.invocations.by_id[id]
    return inv and { inv } or {}
  end
  return st.invocations.list
end
M.candidates = candidates

local function inv_matches(p, inv, tags)
  return (not p.InvokeId or p.InvokeId == "" or inv.InvokeId == p.InvokeId)
    and (not p.CommandId or p.CommandId == "" or inv.CommandId == p.CommandId)
    and (not p.CommandName or p.CommandName == "" or inv.CommandName == p.CommandName)
    and (not p.CommandType or p.CommandType == "" or inv.CommandType == p.CommandType)
    and (not p.RepeatMode or p.RepeatMode == "" or inv.RepeatMode == p.RepeatMode)
    and (not p.ResourceGroupId or p.ResourceGroupId == "" or inv.ResourceGroupId == p.ResourceGroupId)
    and commands.has_tags(inv.Tags, tags)
end

-- The command invocations of region r that match p's filters and tags, newest first.
local function matching(st, p, r, tags)
  local out = {}
  local list = candidates(st, p)
  for i = #list, 1, -1 do
    local inv = list[i]
    if inv.kind == "command" and inv.RegionId == r and inv_matches(p, inv, tags) then out[#out + 1] = inv end
  end
  return out
end

function M.describe_invocations(st, p)
  local r = region.require(st, p)
  local include_output = validate.bool(p, "IncludeOutput", false)
  if include_output and (p.InvokeId or "") == "" and (p.InstanceId or "") == "" then
    raise("InvalidParameter.IncludeOutput", "IncludeOutput=true needs InvokeId or InstanceId.")
  end
  local timed = validate.bool(p, "Timed", nil)
  local tags = validate.tags(p, "Tag", { max = 20 })
  local now = st.clock:sim()
  local matches = {}
  for _, inv in ipairs(matching(st, p, r, tags)) do
    if timed == nil or inv.Timed == timed then
      local recs, views, statuses = {}, {}, {}
      for _, rec in ipairs(inv.records) do
        local v = lifecycle.view(rec, now, st.timing)
        statuses[#statuses + 1] = v.status
        if record_matches(p, rec) then
          recs[#recs + 1] = rec
          views[#views + 1] = v
        end
      end
      local status, legacy = lifecycle.aggregate(statuses)
      if #recs > 0 and (not p.InvokeStatus or p.InvokeStatus == "" or p.InvokeStatus == status
        or p.InvokeStatus == legacy) then
        matches[#matches + 1] = { inv = inv, recs = recs, views = views, status = status, legacy = legacy }
      end
    end
  end
  local page, fields = paging.page(matches, p, { max = 50, default = 10 })
  local items = json.array()
  for _, m in ipairs(page) do
    local inv = m.inv
    local insts = json.array()
    for i, rec in ipairs(m.recs) do
      local v = m.views[i]
      local item = {
        InstanceId = rec.InstanceId, InvocationStatus = v.status,
        InstanceInvokeStatus = lifecycle.record_status(v.status),
        ExitCode = v.exit_code, ErrorCode = v.error_code or "", ErrorInfo = v.error_info or "",
        Repeats = v.repeats, Timed = inv.Timed, CreationTime = clock.iso(rec.created),
        StartTime = iso_or_empty(v.start_time), FinishTime = iso_or_empty(v.finish_time),
        StopTime = iso_or_empty(v.stop_time), UpdateTime = clock.iso(now),
      }
      if include_output then
        item.Output, item.Dropped = M.output_fields(v.output, p.ContentEncoding)
      end
      insts[#insts + 1] = item
    end
    items[#items + 1] = {
      InvokeId = inv.InvokeId, CommandId = inv.CommandId, CommandName = inv.CommandName,
      CommandType = inv.CommandType, CommandContent = commands.encode_text(inv.CommandContent, p.ContentEncoding),
      CommandDescription = inv.CommandDescription, Parameters = inv.ParametersText,
      RepeatMode = inv.RepeatMode, Frequency = inv.Frequency, Timed = inv.Timed, Timeout = inv.Timeout,
      Username = inv.Username, WorkingDir = inv.WorkingDir, ContainerId = inv.ContainerId,
      ContainerName = inv.ContainerName, Launcher = inv.Launcher, TerminationMode = inv.TerminationMode,
      CreationTime = clock.iso(inv.CreationTime), InvocationStatus = m.status, InvokeStatus = m.legacy,
      ResourceGroupId = inv.ResourceGroupId, Tags = commands.out_tags(inv.Tags),
      InvokeInstances = { InvokeInstance = insts },
    }
  end
  fields.Invocations = { Invocation = items }
  return fields
end

function M.describe_invocation_results(st, p)
  local r = region.require(st, p)
  local history = validate.bool(p, "IncludeHistory", false)
  if history then
    local id = p.InvokeId
    if id == nil or id == "" then
      raise("InvalidParameter.IncludeHistory",
        "IncludeHistory=true needs the InvokeId of a Period or EveryReboot task.")
    end
    local inv = find(st, r, id, "command")
    if inv.RepeatMode ~= "Period" and inv.RepeatMode ~= "EveryReboot" then
      raise("InvalidParameter.IncludeHistory", "IncludeHistory=true applies only to Period or EveryReboot tasks.")
    end
  end
  local tags = validate.tags(p, "Tag", { max = 20 })
  local now = st.clock:sim()
  local matches = {}
  for _, inv in ipairs(matching(st, p, r, tags)) do
    for _, rec in ipairs(inv.records) do
      if record_matches(p, rec) then
        local views = history and lifecycle.history(rec, now, st.timing) or { lifecycle.view(rec, now, st.timing) }
        for _, v in ipairs(views) do
          local rs = lifecycle.record_status(v.status)
          local f = p.InvokeRecordStatus
          if not f or f == "" or f == rs or f == v.status then
            matches[#matches + 1] = { inv = inv, rec = rec, v = v, record_status = rs }
          end
        end
      end
    end
  end
  local page, fields = paging.page(matches, p, { max = 50, default = 10 })
  local items = json.array()
  for _, m in ipairs(page) do
    local inv, v = m.inv, m.v
    local output, dropped = M.output_fields(v.output, p.ContentEncoding)
    items[#items + 1] = {
      InvokeId = inv.InvokeId, CommandId = inv.CommandId, InstanceId = m.rec.InstanceId,
      InvocationStatus = v.status, InvokeRecordStatus = m.record_status, ExitCode = v.exit_code,
      ErrorCode = v.error_code or "", ErrorInfo = v.error_info or "", Output = output, Dropped = dropped,
      Repeats = v.repeats, StartTime = iso_or_empty(v.start_time), FinishedTime = iso_or_empty(v.finish_time),
      StopTime = iso_or_empty(v.stop_time), Username = inv.Username, ContainerId = inv.ContainerId,
      ContainerName = inv.ContainerName, Launcher = inv.Launcher, TerminationMode = inv.TerminationMode,
      Tags = commands.out_tags(inv.Tags),
    }
  end
  fields.InvocationResults = { InvocationResult = items }
  return { Invocation = fields }
end

return M
