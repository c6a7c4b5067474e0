-- SendFile and DescribeSendFileResults. Files sent are remembered per
-- instance, so a second send without Overwrite fails on that instance.
local errors = require "ecs.emulator.errors"
local validate = require "ecs.emulator.validate"
local commands = require "ecs.emulator.commands"
local targets = require "ecs.emulator.targets"
local lifecycle = require "ecs.emulator.lifecycle"
local invocations = require "ecs.emulator.invocations"
local paging = require "ecs.emulator.paging"
local region = require "ecs.emulator.region"
local codec = require "ecs.emulator.codec"
local clock = require "ecs.emulator.clock"
local json = require "ecs.emulator.json"

local ipairs, raise = ipairs, errors.raise

local M = {}

function M.send_file(st, p)
  local r = region.require(st, p)
  local list = targets.select(st, p, r, { max = 50 })
  local name = validate.required(p, "Name")
  local dir = validate.required(p, "TargetDir")
  local content = validate.required(p, "Content")
  validate.maxlen(p, "Name", 255, "InvalidParameter.Name")
  validate.maxlen(p, "TargetDir", 255, "InvalidParameter.TargetDir")
  validate.maxlen(p, "Description", 512, "InvalidParameter.Description")
  validate.maxlen(p, "FileOwner", 64, "InvalidParameter.FileOwner")
  validate.maxlen(p, "FileGroup", 64, "InvalidParameter.FileGroup")
  local ctype = p.ContentType or "PlainText"
  if ctype:lower() ~= "plaintext" and ctype:lower() ~= "base64" then
    errors.invalid("ContentType", "use PlainText or Base64")
  end
  local bytes = content
  if ctype:lower() == "base64" then
    bytes = codec.base64_decode(content)
    if not bytes then errors.invalid("Content", "not valid Base64") end
  end
  if commands.b64_len(#bytes) > 32 * 1024 then
    raise("InvalidParameter.Content", "The file content is larger than 32 KB after Base64 encoding.")
  end
  local mode = p.FileMode or "0644"
  if not mode:find("^[0-7][0-7][0-7][0-7]?$") then errors.invalid("FileMode", "an octal mode such as 0644") end
  local overwrite = validate.bool(p, "Overwrite", false)
  local timeout = validate.int(p, "Timeout", 60)
  if timeout < 10 then timeout = 10 end
  local rg = p.ResourceGroupId
  if rg and rg ~= "" and not st.fleet.resource_groups[rg] then
    raise("InvalidResourceGroup.NotFound", "The resource group \"%s\" does not exist.", rg)
  end
  local tags = validate.tags(p, "Tag", { max = 20 })
  targets.check_eligible(list, nil)
  local now = st.clock:sim()
  local quota_key = invocations.check_quota(st, r, now)
  local path = dir:gsub("[/\\]+$", "") .. "/" .. name
  local inv = {
    InvokeId = "f-" .. st.ids:hex(32), kind = "file", RegionId = r, Name = name, TargetDir = dir,
    Description = p.Description or "", Content = content, ContentType = ctype, FileMode = mode,
    FileOwner = p.FileOwner or "root", FileGroup = p.FileGroup or "root", Overwrite = overwrite,
    Timeout = timeout, CreationTime = now, Tags = tags, ResourceGroupId = rg or "", records = {},
  }
  for _, inst in ipairs(list) do
    local rec = { InstanceId = inst.InstanceId, inv = inv, created = now, start = now + st.timing.delivery,
      timeout = timeout, run = { events = {}, exit_code = 0, duration = 0 } }
    local files = st.files[inst.InstanceId]
    if not files then files = {} st.files[inst.InstanceId] = files end
    if files[path] and not overwrite then
      rec.fail = { code = "FileAlreadyExists", info = "the file " .. path .. " already exists and Overwrite is false." }
    else
      files[path] = true
    end
    inv.records[#inv.records + 1] = rec
  end
  st.invocations.quota[quota_key] = (st.invocations.quota[quota_key] or 0) + 1
  invocations.index(st, inv)
  return { InvokeId = inv.InvokeId }
end

function M.describe_results(st, p)
  local r = region.require(st, p)
  local now = st.clock:sim()
  local matches = {}
  local list = invocations.candidates(st, p)
  for i = #list, 1, -1 do
    local inv = list[i]
    if inv.kind == "file" and inv.RegionId == r
      and (not p.InvokeId or p.InvokeId == "" or p.InvokeId == inv.InvokeId)
      and (not p.Name or p.Name == "" or p.Name == inv.Name) then
      local recs, statuses = {}, {}
      for _, rec in ipairs(inv.records) do
        local v = lifecycle.view(rec, now, st.timing)
        statuses[#statuses + 1] = v.status
        if not p.InstanceId or p.InstanceId == "" or p.InstanceId == rec.InstanceId then
          recs[#recs + 1] = { rec = rec, v = v }
        end
      end
      local status = lifecycle.aggregate(statuses)
      if #recs > 0 and (not p.InvocationStatus or p.InvocationStatus == "" or p.InvocationStatus == status) then
        matches[#matches + 1] = { inv = inv, recs = recs, status = status }
      end
    end
  end
  local page, fields = paging.page(matches, p, { max = 50, default = 10 })
  local items = json.array()
  for _, m in ipairs(page) do
    local inv = m.inv
    local insts = json.array()
    for _, x in ipairs(m.recs) do
      local v = x.v
      insts[#insts + 1] = {
        InstanceId = x.rec.InstanceId, InvocationStatus = v.status, ErrorCode = v.error_code or "",
        ErrorInfo = v.error_info or "", CreationTime = clock.iso(x.rec.created),
        StartTime = invocations.iso_or_empty(v.start_time), FinishTime = invocations.iso_or_empty(v.finish_time),
        UpdateTime = clock.iso(now),
      }
    end
    items[#items + 1] = {
      InvokeId = inv.InvokeId, Name = inv.Name, Description = inv.Description, Content = inv.Content,
      ContentType = inv.ContentType, FileMode = inv.FileMode, FileOwner = inv.FileOwner, FileGroup = inv.FileGroup,
      TargetDir = inv.TargetDir, Overwrite = inv.Overwrite, CreationTime = clock.iso(inv.CreationTime),
      InvocationStatus = m.status, VmCount = #inv.records, ResourceGroupId = inv.ResourceGroupId,
      Tags = commands.out_tags(inv.Tags), InvokeInstances = { InvokeInstance = insts },
    }
  end
  fields.Invocations = { Invocation = items }
  return fields
end

return M
