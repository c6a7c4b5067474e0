-- Commands: CreateCommand, DescribeCommands, ModifyCommand, DeleteCommand,
-- and the command building shared with RunCommand.
local errors = require "ecs.emulator.errors"
local validate = require "ecs.emulator.validate"
local codec = require "ecs.emulator.codec"
local script = require "ecs.emulator.script"
local paging = require "ecs.emulator.paging"
local region = require "ecs.emulator.region"
local clock = require "ecs.emulator.clock"
local json = require "ecs.emulator.json"

local ipairs, floor, raise = ipairs, math.floor, errors.raise

local M = {}

M.TYPES = { RunShellScript = "linux", RunBatScript = "windows", RunPowerShellScript = "windows" }

function M.b64_len(n)
  return floor((n + 2) / 3) * 4
end

function M.new_store()
  return { list = {}, by_id = {} }
end

-- Decode CommandContent per ContentEncoding (default_enc when absent or invalid).
local function content(p, default_enc)
  local text = validate.required(p, "CommandContent")
  local enc = (p.ContentEncoding or ""):lower()
  if enc ~= "base64" and enc ~= "plaintext" then enc = default_enc:lower() end
  if enc == "base64" then
    local plain = codec.base64_decode(text)
    if plain == nil then
      raise("CmdContent.DecodeError", "The CommandContent is not valid Base64 (ContentEncoding is Base64).")
    end
    return plain
  end
  return text
end

-- Build (validate) a command from CreateCommand/RunCommand parameters
-- without storing it. opts: default_encoding, limit (Base64 bytes), region.
function M.build(st, p, opts)
  local rg = p.ResourceGroupId
  local type_ = validate.required(p, "Type")
  if not M.TYPES[type_] then
    raise("InvalidCmdType.NotFound", "The command type \"%s\" does not exist "
      .. "(RunShellScript, RunBatScript or RunPowerShellScript).", type_)
  end
  local plain = content(p, opts.default_encoding)
  if M.b64_len(#plain) > opts.limit then
    raise("CmdContent.ExceedLimit", "The command content is larger than %d bytes after Base64 encoding.", opts.limit)
  end
  validate.maxlen(p, "Name", 128, "CmdName.ExceedLimit")
  validate.maxlen(p, "Description", 512, "CmdDesc.ExceedLimit")
  validate.maxlen(p, "WorkingDir", 200, "InvalidParameter.WorkingDir")
  validate.maxlen(p, "Launcher", 1024, "InvalidLauncher.LengthLimitExceeded")
  local timeout = validate.timeout(p, 60)
  local enable = validate.bool(p, "EnableParameter", false)
  local names = {}
  if enable then
    local n, code, msg = script.parameter_names(plain)
    if not n then raise(code, msg) end
    if #n > 20 then raise("CmdParamCount.ExceedLimit", "A command may define at most 20 parameters, got %d.", #n) end
    names = n
  end
  if rg and rg ~= "" and not st.fleet.resource_groups[rg] then
    raise("InvalidResourceGroup.NotFound", "The resource group \"%s\" does not exist.", rg)
  end
  local tags = validate.tags(p, "Tag", { max = 20 })
  return {
    CommandId = "c-" .. st.ids:hex(28),
    RegionId = opts.region,
    Name = p.Name or "",
    Type = type_,
    CommandContent = plain,
    Description = p.Description or "",
    WorkingDir = p.WorkingDir or "",
    Timeout = timeout,
    Launcher = p.Launcher or "",
    EnableParameter = enable,
    ParameterNames = names,
    CreationTime = clock.iso(st.clock:sim()),
    InvokeTimes = 0,
    ResourceGroupId = (rg ~= "" and rg) or "",
    Tags = tags,
    hidden = opts.hidden or false,
  }
end

function M.count_retained(st, region_id)
  local n = 0
  for _, c in ipairs(st.commands.list) do
    if c.RegionId == region_id and not c.hidden then n = n + 1 end
  end
  return n
end

function M.check_quota(st, region_id)
  if M.count_retained(st, region_id) >= st.quota.commands then
    raise("CmdCount.ExceedQuota", "The number of commands in region %s has reached the quota of %d.",
      region_id, st.quota.commands)
  end
end

function M.store(st, cmd)
  st.commands.list[#st.commands.list + 1] = cmd
  st.commands.by_id[cmd.CommandId] = cmd
end

-- A visible command of the region, or raise InvalidCmdId.NotFound.
function M.find(st, region_id, id, allow_hidden)
  local c = st.commands.by_id[id]
  if not c or c.RegionId ~= region_id or (c.hidden and not allow_hidden) then
    raise("InvalidCmdId.NotFound", "The specified command \"%s\" does not exist.", id)
  end
  return c
end

function M.create(st, p)
  local r = region.require(st, p)
  validate.required(p, "Name")
  local cmd = M.build(st, p, { default_encoding = "Base64", limit = 18 * 1024, region = r })
  M.check_quota(st, r)
  M.store(st, cmd)
  return { CommandId = cmd.CommandId }
end

local function out_tags(tags)
  local list = json.array()
  for _, t in ipairs(tags) do list[#list + 1] = { TagKey = t.Key, TagValue = t.Value } end
  return { Tag = list }
end
M.out_tags = out_tags

function M.encode_text(text, encoding)
  if (encoding or ""):lower() == "plaintext" then return text end
  return codec.base64_encode(text)
end

local function wildcard_match(value, pattern)
  local lp = "^" .. pattern:gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"):gsub("%*", ".*") .. "$"
  return value:find(lp) ~= nil
end
M.wildcard_match = wildcard_match

local function has_tags(item_tags, wanted)
  for _, w in ipairs(wanted) do
    local ok = false
    for _, t in ipairs(item_tags) do
      if t.Key == w.Key and (w.Value == "" or t.Value == w.Value) then ok = true break end
    end
    if not ok then return false end
  end
  return true
end
M.has_tags = has_tags

function M.describe(st, p)
  local r = region.require(st, p)
  local tags = validate.tags(p, "Tag", { max = 20 })
  local provider = p.Provider
  local matches = {}
  if provider == nil or provider == "" then
    for i = #st.commands.list, 1, -1 do
      local c = st.commands.list[i]
      if c.RegionId == r and not c.hidden
        and (not p.CommandId or p.CommandId == "" or c.CommandId == p.CommandId)
        and (not p.Name or p.Name == "" or wildcard_match(c.Name, p.Name))
        and (not p.Description or p.Description == "" or wildcard_match(c.Description, p.Description))
        and (not p.Type or p.Type == "" or c.Type == p.Type)
        and (not p.ResourceGroupId or p.ResourceGroupId == "" or c.ResourceGroupId == p.ResourceGroupId)
        and has_tags(c.Tags, tags) then
        matches[#matches + 1] = c
      end
    end
  end
  local page, fields = paging.page(matches, p, { max = 50, default = 10 })
  local items = json.array()
  for _, c in ipairs(page) do
    local names = json.array()
    local defs = json.array()
    for i, n in ipairs(c.ParameterNames) do
      names[i] = n
      defs[i] = { ParameterName = n, Required = true, Description = "", DefaultValue = "",
        PatternRegex = "", PossibleValues = { PossibleValue = json.array() } }
    end
    items[#items + 1] = {
      CommandId = c.CommandId, Name = c.Name, Type = c.Type, Description = c.Description,
      CommandContent = M.encode_text(c.CommandContent, p.ContentEncoding), WorkingDir = c.WorkingDir,
      Timeout = c.Timeout, CreationTime = c.CreationTime, EnableParameter = c.EnableParameter,
      InvokeTimes = c.InvokeTimes, Launcher = c.Launcher, ParameterNames = { ParameterName = names },
      ParameterDefinitions = { ParameterDefinition = defs }, Provider = "", Category = "",
      Version = 1, Latest = true, ResourceGroupId = c.ResourceGroupId, Tags = out_tags(c.Tags),
    }
  end
  fields.Commands = { Command = items }
  return fields
end

function M.modify(st, p)
  local r = region.require(st, p)
  local id = validate.required(p, "CommandId")
  local c = M.find(st, r, id)
  validate.maxlen(p, "Name", 128, "CmdName.ExceedLimit")
  validate.maxlen(p, "Description", 512, "CmdDesc.ExceedLimit")
  validate.maxlen(p, "WorkingDir", 200, "InvalidParameter.WorkingDir")
  validate.maxlen(p, "Launcher", 1024, "InvalidLauncher.LengthLimitExceeded")
  local timeout = validate.timeout(p, c.Timeout)
  if p.Name and p.Name ~= "" then c.Name = p.Name end
  if p.Description then c.Description = p.Description end
  if p.WorkingDir then c.WorkingDir = p.WorkingDir end
  if p.Launcher then c.Launcher = p.Launcher end
  c.Timeout = timeout
  return {}
end

function M.delete(st, p)
  local r = region.require(st, p)
  local id = validate.required(p, "CommandId")
  local c = M.find(st, r, id)
  for i, x in ipairs(st.commands.list) do
    if x == c then table.remove(st.commands.list, i) break end
  end
  st.commands.by_id[id] = nil
  return {}
end

return M
