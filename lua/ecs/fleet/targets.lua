--- Targets of a fleet operation: the `targets` option checked, then the
-- matching instances listed with DescribeInstances (InstanceIds as a JSON
-- array of at most 100 IDs; NextToken paging to the last page).
local type, pairs, ipairs, tostring, error = type, pairs, ipairs, tostring, error

local copy = require("ecs.fleet.options").copy
local short = require("ecs.config").short

local M = {}

M.PAGE_SIZE = 100   -- DescribeInstances MaxResults and InstanceIds limit

local KEYS = {
  InstanceId = true, tags = true, name = true, status = true, vpc_id = true,
  resource_group_id = true, zone_id = true, filter = true, all = true,
}

local STATUSES = { Pending = true, Running = true, Starting = true, Stopping = true, Stopped = true }

local function bad(where, msg, level)
  error(("ecs: %s: bad targets: %s"):format(where, msg), level + 1)
end

local function string_opt(where, t, k, level)
  local v = t[k]
  if v ~= nil and (type(v) ~= "string" or v == "") then
    bad(where, ("'%s' must be a non-empty string, got %s"):format(k, type(v)), level + 1)
  end
  return v
end

-- tags: { key = value } or { { Key =, Value = }, ... } -> list of { Key, Value }
local function check_tags(where, tags, level)
  if tags == nil then return nil end
  if type(tags) ~= "table" then bad(where, "'tags' must be a table", level + 1) end
  local out = {}
  if tags[1] ~= nil then
    for i, t in ipairs(tags) do
      if type(t) ~= "table" or type(t.Key) ~= "string" or t.Key == "" then
        bad(where, ("tags[%d] must be { Key = 'name', Value = 'value' }"):format(i), level + 1)
      end
      if t.Value ~= nil and type(t.Value) ~= "string" then
        bad(where, ("tags[%d].Value must be a string"):format(i), level + 1)
      end
      out[#out + 1] = { Key = t.Key, Value = t.Value }
    end
  else
    local keys = {}
    for k, v in pairs(tags) do
      if type(k) ~= "string" or k == "" then bad(where, "tag names must be non-empty strings", level + 1) end
      if type(v) ~= "string" and type(v) ~= "number" then
        bad(where, ("tag '%s' must have a string value"):format(short(k)), level + 1)
      end
      keys[#keys + 1] = k
    end
    table.sort(keys)
    for _, k in ipairs(keys) do out[#out + 1] = { Key = k, Value = tostring(tags[k]) } end
  end
  if #out > 20 then bad(where, ("%d tags given, DescribeInstances takes at most 20"):format(#out), level + 1) end
  if #out == 0 then return nil end
  return out
end

local function check_ids(where, ids, level)
  if ids == nil then return nil end
  if type(ids) == "string" then ids = { ids } end
  if type(ids) ~= "table" then bad(where, "'InstanceId' must be a list of instance IDs", level + 1) end
  local out, seen = {}, {}
  for i, id in ipairs(ids) do
    if type(id) ~= "string" or id == "" then
      bad(where, ("InstanceId[%d] must be a non-empty string"):format(i), level + 1)
    end
    if not seen[id] then
      seen[id] = true
      out[#out + 1] = id
    end
  end
  if #out == 0 then bad(where, "'InstanceId' is an empty list", level + 1) end
  return out
end

--- check(where, targets, level) -> normalized targets. Raises naming the problem.
function M.check(where, t, level)
  level = (level or 1) + 1
  if type(t) ~= "table" then bad(where, ("expected a table, got %s"):format(type(t)), level) end
  for k in pairs(t) do
    if not KEYS[k] then
      bad(where, ("unknown key '%s' (InstanceId, tags, name, status, vpc_id, resource_group_id, zone_id, "
        .. "filter, all)"):format(short(k)), level)
    end
  end
  local out = {
    ids = check_ids(where, t.InstanceId, level),
    tags = check_tags(where, t.tags, level),
    name = string_opt(where, t, "name", level),
    status = string_opt(where, t, "status", level),
    vpc_id = string_opt(where, t, "vpc_id", level),
    resource_group_id = string_opt(where, t, "resource_group_id", level),
    zone_id = string_opt(where, t, "zone_id", level),
    filter = t.filter,
    all = t.all,
  }
  if out.status and not STATUSES[out.status] then
    bad(where, ("'status' must be Pending, Running, Starting, Stopping or Stopped, got '%s'"):format(short(out.status)),
      level)
  end
  if out.filter ~= nil and type(out.filter) ~= "function" then
    bad(where, "'filter' must be a function(instance) -> boolean", level)
  end
  if out.all ~= nil and type(out.all) ~= "boolean" then bad(where, "'all' must be a boolean", level) end
  if not (out.ids or out.tags or out.name or out.status or out.vpc_id or out.resource_group_id
          or out.zone_id or out.filter or out.all) then
    bad(where, "no selector given (InstanceId, tags, name, status, vpc_id, resource_group_id, zone_id, "
      .. "filter); use all = true to target every instance of the region", level)
  end
  return out
end

local function base_params(t, region)
  return {
    RegionId = region, Tag = t.tags, InstanceName = t.name, Status = t.status, VpcId = t.vpc_id,
    ResourceGroupId = t.resource_group_id, ZoneId = t.zone_id, MaxResults = M.PAGE_SIZE,
  }
end


-- Pages through DescribeInstances from `first` (an answer already had).
local function drain(send, params, first, found)
  local res, pages, seen = first, 1, {}
  while true do
    local list = res.Instances and res.Instances.Instance
    if type(list) == "table" then
      for _, inst in ipairs(list) do found[#found + 1] = inst end
    end
    local token = res.NextToken
    if type(token) ~= "string" or token == "" then return pages end
    if seen[token] then
      return nil, require("ecs.errors").new { code = "Fleet.PagingLoop", action = "DescribeInstances",
        message = "DescribeInstances returned the same NextToken twice; paging stopped" }
    end
    seen[token] = true
    local p = copy(params)
    p.NextToken = token
    local err
    res, err = send:one("DescribeInstances", p)
    if not res then return nil, err end
    pages = pages + 1
  end
end

--- list(send, targets, region) -> { instances = {...}, missing = {ids}, filtered = {ids}, pages = n }
-- or nil, err. Explicit IDs keep their given order.
function M.list(send, t, region)
  local params = base_params(t, region)
  local found, pages = {}, 0
  if t.ids then
    local calls = {}
    for i = 1, #t.ids, M.PAGE_SIZE do
      local chunk = {}
      for j = i, math.min(#t.ids, i + M.PAGE_SIZE - 1) do chunk[#chunk + 1] = t.ids[j] end
      local p = copy(params)
      p.InstanceIds = chunk
      calls[#calls + 1] = { "DescribeInstances", p }
    end
    local answers = send:many(calls)
    for i, a in ipairs(answers) do
      if not a[1] then return nil, a[2] end
      local n, err = drain(send, calls[i][2], a[1], found)
      if not n then return nil, err end
      pages = pages + n
    end
  else
    local first, err = send:one("DescribeInstances", params)
    if not first then return nil, err end
    local n
    n, err = drain(send, params, first, found)
    if not n then return nil, err end
    pages = n
  end
  local by_id, instances, filtered = {}, {}, {}
  for _, inst in ipairs(found) do
    local id = inst.InstanceId
    if type(id) == "string" and not by_id[id] then
      by_id[id] = inst
      if t.filter and not t.filter(inst) then
        filtered[#filtered + 1] = id
      elseif not t.ids then
        instances[#instances + 1] = inst
      end
    end
  end
  local missing = {}
  if t.ids then
    local dropped = {}
    for _, id in ipairs(filtered) do dropped[id] = true end
    for _, id in ipairs(t.ids) do
      if not by_id[id] then
        missing[#missing + 1] = id
      elseif not dropped[id] then
        instances[#instances + 1] = by_id[id]
      end
    end
  end
  return { instances = instances, missing = missing, filtered = filtered, pages = pages }
end

return M
