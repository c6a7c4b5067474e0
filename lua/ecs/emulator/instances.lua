-- DescribeInstances and DescribeCloudAssistantStatus over the fleet.
local errors = require "ecs.emulator.errors"
local validate = require "ecs.emulator.validate"
local commands = require "ecs.emulator.commands"
local targets = require "ecs.emulator.targets"
local lifecycle = require "ecs.emulator.lifecycle"
local fleet = require "ecs.emulator.fleet"
local paging = require "ecs.emulator.paging"
local region = require "ecs.emulator.region"
local clock = require "ecs.emulator.clock"
local json = require "ecs.emulator.json"

local ipairs, type, raise, floor = ipairs, type, errors.raise, math.floor

local M = {}

local function id_set(p)
  local text = p.InstanceIds
  if text == nil or text == "" then return nil end
  local v = json.decode(text)
  if type(v) ~= "table" or (next(v) ~= nil and v[1] == nil) then
    raise("InvalidParameter.InstanceIds", "InstanceIds must be a JSON array of instance IDs, e.g. [\"i-a\",\"i-b\"].")
  end
  if #v > 100 then
    raise("InvalidParameter.InstanceIds", "InstanceIds holds %d IDs; at most 100 are allowed.", #v)
  end
  local set = {}
  for _, id in ipairs(v) do
    if type(id) ~= "string" then raise("InvalidParameter.InstanceIds", "InstanceIds must hold strings.") end
    set[id] = true
  end
  return set
end

local EXACT = { "Status", "InstanceNetworkType", "VpcId", "VSwitchId", "ZoneId", "ResourceGroupId", "ImageId",
  "InstanceType", "SecurityGroupId" }

local function ip_list(t)
  local a = json.array()
  if t ~= "" then a[1] = t end
  return a
end

function M.instance_view(inst)
  local tags = json.array()
  for _, t in ipairs(inst.Tags) do tags[#tags + 1] = { TagKey = t.Key, TagValue = t.Value } end
  local vpc = inst.InstanceNetworkType == "vpc"
  return {
    InstanceId = inst.InstanceId, InstanceName = inst.InstanceName, HostName = inst.HostName,
    Description = inst.Description, Status = inst.Status, InstanceNetworkType = inst.InstanceNetworkType,
    OSType = inst.OSType, OSName = inst.OSName, OSNameEn = inst.OSNameEn, RegionId = inst.RegionId,
    ZoneId = inst.ZoneId, ResourceGroupId = inst.ResourceGroupId, InstanceType = inst.InstanceType,
    ImageId = inst.ImageId, CreationTime = inst.CreationTime,
    VpcAttributes = { VpcId = inst.VpcId, VSwitchId = inst.VSwitchId, NatIpAddress = "",
      PrivateIpAddress = { IpAddress = vpc and ip_list(inst.PrivateIpAddress) or json.array() } },
    InnerIpAddress = { IpAddress = vpc and json.array() or ip_list(inst.PrivateIpAddress) },
    PublicIpAddress = { IpAddress = ip_list(inst.PublicIpAddress) },
    SecurityGroupIds = { SecurityGroupId = json.array({ inst.SecurityGroupId }) },
    Tags = { Tag = tags },
  }
end

function M.describe_instances(st, p)
  local r = region.require(st, p)
  local ids = id_set(p)
  local status = p.Status
  if status and status ~= "" and not fleet.STATUSES[status] then
    raise("InvalidStatus.ValueNotSupported", "The Status \"%s\" is not supported "
      .. "(Pending, Running, Starting, Stopping or Stopped).", status)
  end
  local net = p.InstanceNetworkType
  if net and net ~= "" and net ~= "vpc" and net ~= "classic" then
    errors.invalid("InstanceNetworkType", "use vpc or classic")
  end
  local tags = validate.tags(p, "Tag", { max = 20 })
  local dry = validate.bool(p, "DryRun", false)
  if dry then raise("DryRunOperation", "Request validation has been passed with DryRun flag set.") end
  local name = p.InstanceName
  if name == "" then name = nil end
  local names, values = {}, {}
  for _, f in ipairs(EXACT) do
    if p[f] ~= nil and p[f] ~= "" then
      names[#names + 1] = f
      values[#values + 1] = p[f]
    end
  end
  local nf, has_tags = #names, #tags > 0
  local matches = {}
  for _, inst in ipairs(st.fleet:in_region(r)) do
    local ok = ids == nil or ids[inst.InstanceId]
    for i = 1, nf do
      if not ok then break end
      ok = inst[names[i]] == values[i]
    end
    if ok and name then ok = commands.wildcard_match(inst.InstanceName, name) end
    if ok and has_tags then ok = commands.has_tags(inst.Tags, tags) end
    if ok then matches[#matches + 1] = inst end
  end
  local page, fields = paging.page(matches, p, { max = 100, default = 10, clamp = true, min_clamp = 10 })
  local items = json.array()
  for i, inst in ipairs(page) do items[i] = M.instance_view(inst) end
  fields.Instances = { Instance = items }
  return fields
end

function M.describe_status(st, p)
  local r = region.require(st, p)
  local ids = validate.list(p, "InstanceId")
  if #ids > 100 then raise("InstanceIds.ExceedLimit", "At most 100 instance IDs may be given, got %d.", #ids) end
  local os = p.OSType
  if os and os ~= "" and os:lower() ~= "linux" and os:lower() ~= "windows" and os:lower() ~= "freebsd" then
    errors.invalid("OSType", "use Windows, Linux or FreeBSD")
  end
  local list = {}
  if #ids > 0 then
    for _, id in ipairs(ids) do
      local inst = st.fleet:get(id)
      if inst and inst.RegionId == r then list[#list + 1] = inst end
    end
  else
    for _, inst in ipairs(st.fleet:in_region(r)) do
      if (os == nil or os == "" or inst.OSType == os:lower()) then list[#list + 1] = inst end
    end
  end
  local page, fields
  if #ids > 0 then
    page, fields = list, { TotalCount = #list, PageNumber = 1, PageSize = #list, NextToken = "" }
  else
    page, fields = paging.page(list, p, { max = 50, default = 10 })
  end
  local now = st.clock:sim()
  local items = json.array()
  for _, inst in ipairs(page) do
    local recs = st.invocations.by_instance[inst.InstanceId] or {}
    local active, last = 0, nil
    for _, rec in ipairs(recs) do
      local v = lifecycle.view(rec, now, st.timing)
      if not lifecycle.TERMINAL[v.status] then active = active + 1 end
      if not last or rec.created > last then last = rec.created end
    end
    local online = inst.AgentOnline and inst.Status == "Running"
    local session_min = inst.OSType == "windows" and "2.1.3.189" or "2.2.3.189"
    items[#items + 1] = {
      InstanceId = inst.InstanceId,
      CloudAssistantStatus = online and "true" or "false",
      CloudAssistantVersion = inst.AgentVersion,
      LastHeartbeatTime = online and clock.iso(floor(now / 60) * 60) or "",
      ActiveTaskCount = active, InvocationCount = #recs,
      LastInvokedTime = last and clock.iso(last) or "",
      OSType = inst.OSType == "windows" and "Windows" or "Linux",
      SupportSessionManager = inst.AgentVersion ~= "" and targets.version_at_least(inst.AgentVersion, session_min),
    }
  end
  fields.InstanceCloudAssistantStatusSet = { InstanceCloudAssistantStatus = items }
  return fields
end

return M
