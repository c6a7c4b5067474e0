-- The fleet of instances: loading (Lua table or JSON file), validation,
-- defaults, generation of large fleets, and run-time changes.
local json = require "ecs.emulator.json"
local ids = require "ecs.emulator.ids"
local clock = require "ecs.emulator.clock"

local type, pairs, ipairs, error, tostring, format = type, pairs, ipairs, error, tostring, string.format
local floor, sort = math.floor, table.sort

local M = {}

M.KNOWN_REGIONS = {}
for r in ([[cn-qingdao cn-beijing cn-zhangjiakou cn-huhehaote cn-wulanchabu cn-hangzhou cn-shanghai
  cn-nanjing cn-fuzhou cn-shenzhen cn-heyuan cn-guangzhou cn-chengdu cn-hongkong ap-northeast-1
  ap-northeast-2 ap-southeast-1 ap-southeast-2 ap-southeast-3 ap-southeast-5 ap-southeast-6
  ap-southeast-7 us-east-1 us-west-1 eu-central-1 eu-west-1 me-east-1]]):gmatch("%S+") do
  M.KNOWN_REGIONS[r] = true
end

M.STATUSES = { Pending = true, Running = true, Starting = true, Stopping = true, Stopped = true }

local FIELDS = {
  InstanceId = "string", InstanceName = "string", HostName = "string", RegionId = "string",
  ZoneId = "string", Status = "string", InstanceNetworkType = "string", OSType = "string",
  OSName = "string", OSNameEn = "string", InstanceType = "string", ImageId = "string",
  VpcId = "string", VSwitchId = "string", PrivateIpAddress = "string", PublicIpAddress = "string",
  ResourceGroupId = "string", CreationTime = "string", Description = "string",
  SecurityGroupId = "string", Tags = "table", AgentOnline = "boolean", AgentVersion = "string",
}

local function bad(where, msg)
  -- where may be a path the caller gave: keep the message readable
  if #where > 300 then where = where:sub(1, 300) .. "..." end
  if #msg > 600 then msg = msg:sub(1, 600) .. "..." end
  error("ecs.emulator: fleet: " .. where .. ": " .. msg, 0)
end

local function normalize_tags(where, tags)
  local out = {}
  if tags == nil then return out end
  if tags[1] ~= nil then
    for i, t in ipairs(tags) do
      if type(t) ~= "table" then bad(where, "Tags[" .. i .. "] must be an object") end
      local k, v = t.Key or t.TagKey, t.Value or t.TagValue or ""
      if type(k) ~= "string" or k == "" then bad(where, "Tags[" .. i .. "] needs a Key") end
      out[#out + 1] = { Key = k, Value = tostring(v) }
    end
  else
    for k, v in pairs(tags) do
      if type(k) ~= "string" then bad(where, "tag keys must be strings") end
      out[#out + 1] = { Key = k, Value = tostring(v) }
    end
    sort(out, function(a, b) return a.Key < b.Key end)
  end
  return out
end

-- One instance with every field filled in (a copy; the input is untouched).
function M.normalize_instance(where, src, index)
  if type(src) ~= "table" then bad(where, "must be an object") end
  for k, v in pairs(src) do
    local want = FIELDS[k]
    if not want then bad(where, "unknown field '" .. tostring(k) .. "'") end
    if type(v) ~= want then bad(where, "field '" .. k .. "' must be a " .. want .. ", got " .. type(v)) end
  end
  local id = src.InstanceId
  if id == nil or id == "" then bad(where, "missing InstanceId") end
  if src.RegionId == nil or src.RegionId == "" then bad(where, "missing RegionId") end
  local status = src.Status or "Running"
  if not M.STATUSES[status] then
    bad(where, "Status must be Pending, Running, Starting, Stopping or Stopped (got " .. status .. ")")
  end
  local os = (src.OSType or "linux"):lower()
  if os ~= "linux" and os ~= "windows" then bad(where, "OSType must be linux or windows") end
  local net = src.InstanceNetworkType or "vpc"
  if net ~= "vpc" and net ~= "classic" then bad(where, "InstanceNetworkType must be vpc or classic") end
  local n = index or 1
  local region = src.RegionId
  local ip = format("172.16.%d.%d", floor(n / 250) % 250, n % 250 + 2)
  local default_os = os == "linux" and "Alibaba Cloud Linux 3.2104 LTS 64 bit"
    or "Windows Server 2022 Datacenter 64bit"
  local agent_version = src.AgentVersion
  if agent_version == nil then agent_version = "2.2.3.512" end
  local online = src.AgentOnline
  if online == nil then online = agent_version ~= "" end
  if agent_version == "" then online = false end
  return {
    InstanceId = id,
    InstanceName = src.InstanceName or id,
    HostName = src.HostName or src.InstanceName or id,
    RegionId = region,
    ZoneId = src.ZoneId or (region .. "-a"),
    Status = status,
    InstanceNetworkType = net,
    OSType = os,
    OSName = src.OSName or default_os,
    OSNameEn = src.OSNameEn or src.OSName or default_os,
    InstanceType = src.InstanceType or "ecs.g7.large",
    ImageId = src.ImageId or (os == "linux" and "aliyun_3_x64_20G_alibase_20240819.vhd"
      or "win2022_21H2_x64_dtc_en-us_40G_alibase_20240816.vhd"),
    VpcId = net == "vpc" and (src.VpcId or ("vpc-emu-" .. region)) or "",
    VSwitchId = net == "vpc" and (src.VSwitchId or ("vsw-emu-" .. (src.ZoneId or (region .. "-a")))) or "",
    PrivateIpAddress = src.PrivateIpAddress or ip,
    PublicIpAddress = src.PublicIpAddress or "",
    ResourceGroupId = src.ResourceGroupId or "rg-default",
    CreationTime = src.CreationTime or "2026-01-05T08:00Z",
    Description = src.Description or "",
    SecurityGroupId = src.SecurityGroupId or ("sg-emu-" .. region),
    Tags = normalize_tags(where, src.Tags),
    AgentOnline = online,
    AgentVersion = agent_version,
  }
end

local Fleet = {}
Fleet.__index = Fleet

-- Build a fleet from a document { instances = {...} } or a plain list.
function M.from_table(doc)
  if type(doc) ~= "table" then bad("document", "must be a table or a path to a JSON file") end
  local list = doc.instances or doc
  if type(list) ~= "table" then bad("document", "'instances' must be a list") end
  if doc.instances == nil then -- then the document is the list itself: a named key is a mistake
    for k in pairs(doc) do
      if type(k) ~= "number" then
        bad("document", "unknown key '" .. tostring(k) .. "' (expected { instances = [...] } or a list of instances)")
      end
    end
  end
  local f = setmetatable({ list = {}, by_id = {}, by_region = {}, regions = {},
    resource_groups = { ["rg-default"] = true } }, Fleet)
  for i, src in ipairs(list) do
    local inst = M.normalize_instance("instance " .. i, src, i)
    if f.by_id[inst.InstanceId] then bad("instance " .. i, "duplicate InstanceId " .. inst.InstanceId) end
    f.list[i] = inst
    f.by_id[inst.InstanceId] = inst
    f.regions[inst.RegionId] = true
    f.resource_groups[inst.ResourceGroupId] = true
  end
  return f
end

function M.load(spec)
  if spec == nil then return M.from_table(require "ecs.emulator.default_fleet") end
  if type(spec) == "string" then
    local fh, err = io.open(spec, "rb")
    if not fh then bad(spec, "cannot open: " .. tostring(err)) end
    local text = fh:read("*a")
    fh:close()
    local doc, jerr = json.decode(text)
    if doc == nil then bad(spec, "not valid JSON: " .. tostring(jerr)) end
    return M.from_table(doc)
  end
  return M.from_table(spec)
end

function Fleet:known_region(r)
  return self.regions[r] or M.KNOWN_REGIONS[r] or false
end

-- Instances of one region, in fleet order.
function Fleet:in_region(r)
  local list = self.by_region[r]
  if not list then
    list = {}
    for _, inst in ipairs(self.list) do
      if inst.RegionId == r then list[#list + 1] = inst end
    end
    self.by_region[r] = list
  end
  return list
end

function Fleet:get(id)
  return self.by_id[id]
end

-- Change fields of an instance at run time; returns the instance.
function Fleet:update(id, changes)
  local inst = self.by_id[id]
  if not inst then return nil, "no instance " .. tostring(id) end
  local merged = {}
  for k, v in pairs(inst) do merged[k] = v end
  for k, v in pairs(changes) do merged[k] = v end
  if changes.AgentVersion ~= nil and changes.AgentOnline == nil then merged.AgentOnline = nil end
  local ok, res = pcall(M.normalize_instance, "instance " .. tostring(id), merged, 1)
  if not ok then return nil, res end
  if res.InstanceId ~= id then return nil, "InstanceId cannot change" end
  for k, v in pairs(res) do inst[k] = v end
  self.resource_groups[inst.ResourceGroupId] = true
  self.regions[inst.RegionId] = true
  self.by_region = {}
  return inst
end

-- Deterministic large fleet: opts.count (required), regions (default
-- cn-hangzhou, cn-shanghai), seed, running (ratio, 0.9), offline (ratio of
-- running with the agent offline, 0.05), windows (ratio, 0.1), prefix ("i-emu").
--- Largest fleet generate() builds (an infinite count looped until memory ran out).
M.MAX_GENERATED = 1000000

function M.generate(opts)
  if type(opts) ~= "table" then error("ecs.emulator.generate_fleet: options table expected", 2) end
  local count = opts.count
  if type(count) ~= "number" or not (count >= 0 and count <= M.MAX_GENERATED) or floor(count) ~= count then
    error("ecs.emulator.generate_fleet: 'count' must be a whole number from 0 to " .. M.MAX_GENERATED, 2)
  end
  local regions = opts.regions or { "cn-hangzhou", "cn-shanghai" }
  if type(regions) ~= "table" or #regions == 0 then
    error("ecs.emulator.generate_fleet: 'regions' must be a non-empty list", 2)
  end
  for i = 1, #regions do
    if type(regions[i]) ~= "string" or not regions[i]:match("^[%w-]+$") then
      error("ecs.emulator.generate_fleet: 'regions' must list region IDs such as cn-hangzhou (#" .. i .. " is not)", 2)
    end
  end
  for _, k in ipairs { "running", "offline", "windows" } do
    local v = opts[k]
    if v ~= nil and (type(v) ~= "number" or not (v >= 0 and v <= 1)) then
      error("ecs.emulator.generate_fleet: '" .. k .. "' must be a fraction from 0 to 1", 2)
    end
  end
  if opts.seed ~= nil and (type(opts.seed) ~= "number" or not (opts.seed > -2 ^ 53 and opts.seed < 2 ^ 53)) then
    error("ecs.emulator.generate_fleet: 'seed' must be a finite number", 2)
  end
  if opts.prefix ~= nil and (type(opts.prefix) ~= "string" or #opts.prefix > 64) then
    error("ecs.emulator.generate_fleet: 'prefix' must be a string of at most 64 bytes", 2)
  end
  local rng = ids.new(opts.seed or 1)
  local running, offline, windows = opts.running or 0.9, opts.offline or 0.05, opts.windows or 0.1
  local prefix = opts.prefix or "i-emu"
  local envs = { "prod", "staging", "dev" }
  local others = { "Stopped", "Pending", "Starting", "Stopping" }
  local list = {}
  for i = 1, count do
    local region = regions[(i - 1) % #regions + 1]
    local status = "Running"
    if rng:random() >= running then status = others[rng:next() % #others + 1] end
    local os = rng:random() < windows and "windows" or "linux"
    local online = status == "Running" and rng:random() >= offline
    list[i] = {
      InstanceId = format("%s%07d", prefix, i),
      InstanceName = format("node-%05d", i),
      RegionId = region,
      ZoneId = region .. (i % 2 == 0 and "-b" or "-a"),
      Status = status,
      OSType = os,
      AgentOnline = online,
      AgentVersion = os == "linux" and "2.2.3.512" or "2.1.3.512",
      Tags = { env = envs[rng:next() % 3 + 1], batch = "b" .. floor((i - 1) / 100 + 1) },
      CreationTime = clock.iso(1767600000 + i * 60):sub(1, 16) .. "Z",
    }
  end
  return { instances = list }
end

return M
