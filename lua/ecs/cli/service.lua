--- The client and the targets of an `ecs` run, from its options: common
-- options to ecs.new, target options to the fleet layer's `targets` table.
local args = require "ecs.cli.args"

local type, pairs, ipairs, pcall, tostring, select = type, pairs, ipairs, pcall, tostring, select
local unpack = table.unpack or unpack

local function pack(...) return { n = select("#", ...), ... } end

local M = {}

M.TARGET_OPTIONS = {
  { "--instance", short = "-i", arg = "ID[,ID...]", kind = "list", help = "instance ID (repeatable)" },
  { "--target", short = "-t", arg = "SPEC", kind = "list",
    help = "i-ID, tag:KEY=VALUE or name:PATTERN (repeatable)" },
  { "--tag", arg = "KEY=VALUE", kind = "list", help = "instances with this tag (repeatable: all must match)" },
  { "--name", arg = "PATTERN", help = "instance name pattern (* is a wildcard)" },
  { "--status", arg = "STATUS", help = "instance status (Running, Stopped, ...)" },
  { "--vpc", arg = "VPC_ID", help = "instances in this VPC" },
  { "--resource-group", arg = "RG_ID", help = "instances in this resource group" },
  { "--zone-id", arg = "ZONE", help = "instances in this zone (e.g. cn-hangzhou-h)" },
  { "--all", kind = "flag", help = "every instance of the region" },
}

--- targets(o) -> the fleet layer's targets table, or nil when none was given.
function M.targets(o)
  local t = {}
  local ids, tags, any = args.ids(o.instance) or {}, {}, false
  for _, v in ipairs(o.tag or {}) do
    local k, val = args.key_value("--tag", v)
    tags[k] = val
    any = true
  end
  local name = o.name
  for _, spec in ipairs(o.target or {}) do
    local kind, rest = spec:match("^(%a+):(.*)$")
    if kind == "tag" then
      local k, val = args.key_value("--target tag:", rest)
      tags[k] = val
      any = true
    elseif kind == "name" then
      if rest == "" then args.usage("--target name: needs a pattern") end
      if name and name ~= rest then args.usage("give one name pattern, got '%s' and '%s'", name, rest) end
      name = rest
    elseif kind == "id" then
      ids[#ids + 1] = rest
    elseif spec:match("^i%-[%w%-]+$") then
      ids[#ids + 1] = spec
    else
      args.usage("--target: '%s' is not i-ID, tag:KEY=VALUE or name:PATTERN", spec)
    end
  end
  if #ids > 0 then t.InstanceId = ids end
  if any then t.tags = tags end
  t.name = name
  t.status = o.status
  t.vpc_id = o.vpc
  t.resource_group_id = o.resource_group
  t.zone_id = o.zone_id
  if o.all then t.all = true end
  if not (t.InstanceId or t.tags or t.name or t.status or t.vpc_id or t.resource_group_id or t.zone_id
          or t.all) then
    return nil
  end
  return t
end

--- describe_targets(t) -> one line naming the targets.
function M.describe_targets(t)
  local parts = {}
  if t.InstanceId then parts[#parts + 1] = "instances " .. table.concat(t.InstanceId, ",") end
  if t.tags then
    local keys = {}
    for k in pairs(t.tags) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do parts[#parts + 1] = "tag " .. k .. "=" .. t.tags[k] end
  end
  if t.name then parts[#parts + 1] = "name " .. t.name end
  if t.status then parts[#parts + 1] = "status " .. t.status end
  if t.vpc_id then parts[#parts + 1] = "vpc " .. t.vpc_id end
  if t.resource_group_id then parts[#parts + 1] = "resource group " .. t.resource_group_id end
  if t.zone_id then parts[#parts + 1] = "zone " .. t.zone_id end
  if t.all then parts[#parts + 1] = "every instance of the region" end
  return table.concat(parts, "; ")
end

--- region(ctx, o) -> the region from --region or the environment; usage error when none.
function M.region(ctx, o)
  local r = o.region or ctx.getenv("ALIBABA_CLOUD_REGION_ID")
  if type(r) ~= "string" or r == "" then
    args.usage("no region: give --region or set ALIBABA_CLOUD_REGION_ID")
  end
  return r
end

--- client(ctx, o) -> a client for the common options (usage error on a bad value).
function M.client(ctx, o)
  local ecs = require "ecs"
  local cfg = {
    region = M.region(ctx, o),
    endpoint = o.endpoint,
    signature_version = o.signature,
    credentials = { getenv = ctx.getenv, profile = o.profile },
  }
  local ok, c = pcall(ecs.new, cfg)
  if not ok then
    args.usage("%s", (tostring(c):gsub("^ecs%.new: ", "")))
  end
  return c
end

--- checked(fn, ...) -> the results of fn; an error the library raises for bad
-- input (a message starting with "ecs") becomes a usage error.
function M.checked(fn, ...)
  local res = pack(pcall(fn, ...))
  if not res[1] then
    local e = res[2]
    if type(e) == "string" then
      local msg = e:gsub("^[^\n]-:%d+: ", "")
      if msg:match("^ecs[%.:]") or msg:match("^frequency%.") or msg:match("^credentials:") then
        args.usage("%s", (msg:gsub("^ecs: ", "")))
      end
    end
    error(e, 0)
  end
  return unpack(res, 2, res.n)
end

return M
