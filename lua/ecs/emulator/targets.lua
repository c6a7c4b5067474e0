-- Target instances of an invocation: InstanceId.N or ResourceTag.N, and
-- the eligibility rules (the whole call is refused if one instance fails).
local errors = require "ecs.emulator.errors"
local validate = require "ecs.emulator.validate"
local commands = require "ecs.emulator.commands"

local ipairs, raise = ipairs, errors.raise

local M = {}

-- Returns the list of instance records selected by the request.
-- opts: max (100 for commands, 50 for SendFile), tags (allow ResourceTag).
function M.select(st, p, region_id, opts)
  local max = opts.max or 100
  local ids = validate.list(p, "InstanceId")
  local rtags = opts.tags and validate.tags(p, "ResourceTag", { max = 10, codes = {
    too_many = "NumberExceed.ResourceTags", missing_key = "MissingParameter.ResourceTagKey",
    bad_key = "InvalidResourceTagKey.Malformed", bad_value = "InvalidResourceTagValue.Malformed",
    duplicate = "Duplicate.ResourceTagKey" } }) or {}
  if #ids > 0 and #rtags > 0 then
    raise("InvalidResourceTag.ConflictWithInstanceIds", "Give either InstanceId.N or ResourceTag.N, not both.")
  end
  local list = {}
  if #rtags > 0 then
    for _, inst in ipairs(st.fleet:in_region(region_id)) do
      if commands.has_tags(inst.Tags, rtags) then list[#list + 1] = inst end
    end
    if #list == 0 then
      raise("InvalidResourceTag.InstanceNotFound", "No instance in %s carries the given ResourceTag.", region_id)
    end
    if #list > max then
      raise("InstanceIds.ExceedLimit", "The ResourceTag selects %d instances; at most %d are allowed.", #list, max)
    end
    return list
  end
  if #ids == 0 then
    raise("MissingParam.InstanceId", "At least one InstanceId.N (or a ResourceTag) is required.")
  end
  if #ids > max then
    raise("InstanceIds.ExceedLimit", "%d instance IDs were given; at most %d are allowed.", #ids, max)
  end
  for _, id in ipairs(ids) do
    local inst = st.fleet:get(id)
    if not inst or inst.RegionId ~= region_id then
      raise("InvalidInstance.NotFound", "The specified instance \"%s\" does not exist in %s.", id, region_id)
    end
    list[#list + 1] = inst
  end
  return list
end

-- Why an instance cannot run a command of type cmd_type, or nil.
function M.ineligible(inst, os_wanted)
  if inst.Status ~= "Running" then
    return "instance " .. inst.InstanceId .. " is " .. inst.Status .. ", not Running"
  end
  if inst.AgentVersion == "" then
    return "the Cloud Assistant agent is not installed on instance " .. inst.InstanceId
  end
  if not inst.AgentOnline then
    return "the Cloud Assistant agent of instance " .. inst.InstanceId .. " is offline"
  end
  if os_wanted and inst.OSType ~= os_wanted then
    return "instance " .. inst.InstanceId .. " runs " .. inst.OSType .. ", which cannot run this command type"
  end
  return nil
end

function M.check_eligible(list, os_wanted)
  for _, inst in ipairs(list) do
    local why = M.ineligible(inst, os_wanted)
    if why then
      raise("InvalidInstance.NotMatch", "The command cannot run on the specified instances: %s.", why)
    end
  end
end

-- Compare dotted agent versions: true when v >= min.
function M.version_at_least(v, min)
  local a, b = {}, {}
  for x in v:gmatch("%d+") do a[#a + 1] = tonumber(x) end
  for x in min:gmatch("%d+") do b[#b + 1] = tonumber(x) end
  for i = 1, #b do
    local x = a[i] or 0
    if x ~= b[i] then return x > b[i] end
  end
  return true
end

return M
