-- The admin endpoint under /_emulator/ (no signature): inspect and reset
-- state, change faults, the clock, the fleet and single instances.
local json = require "ecs.emulator.json"
local clock = require "ecs.emulator.clock"
local codec = require "ecs.emulator.codec"
local lifecycle = require "ecs.emulator.lifecycle"
local fleet = require "ecs.emulator.fleet"

local type, ipairs, pcall, tostring, tonumber = type, ipairs, pcall, tostring, tonumber

local M = {}

local function reply(svc, status, body)
  return { status = status, headers = { ["content-type"] = "application/json;charset=utf-8",
    ["date"] = clock.http_date(svc.st.clock:wall()) }, body = json.encode(body) }
end

local function fail(svc, status, msg)
  return reply(svc, status, { error = msg })
end

-- Everything the service holds, as plain data.
function M.state(svc)
  local st = svc.st
  local now = st.clock:sim()
  local insts = json.array()
  for i, inst in ipairs(st.fleet.list) do
    local tags = {}
    for _, t in ipairs(inst.Tags) do tags[t.Key] = t.Value end
    insts[i] = {
      InstanceId = inst.InstanceId, InstanceName = inst.InstanceName, RegionId = inst.RegionId,
      Status = inst.Status, OSType = inst.OSType, InstanceNetworkType = inst.InstanceNetworkType,
      AgentOnline = inst.AgentOnline, AgentVersion = inst.AgentVersion, ResourceGroupId = inst.ResourceGroupId,
      VpcId = inst.VpcId, Tags = tags,
    }
  end
  local cmds = json.array()
  for _, c in ipairs(st.commands.list) do
    cmds[#cmds + 1] = { CommandId = c.CommandId, RegionId = c.RegionId, Name = c.Name, Type = c.Type,
      Timeout = c.Timeout, EnableParameter = c.EnableParameter, InvokeTimes = c.InvokeTimes,
      Kept = not c.hidden, CommandContent = c.CommandContent }
  end
  local invs = json.array()
  for _, inv in ipairs(st.invocations.list) do
    local recs, statuses = json.array(), {}
    for _, rec in ipairs(inv.records) do
      local v = lifecycle.view(rec, now, st.timing)
      statuses[#statuses + 1] = v.status
      recs[#recs + 1] = { InstanceId = rec.InstanceId, InvocationStatus = v.status, ExitCode = v.exit_code,
        ErrorCode = v.error_code, Output = v.output }
    end
    invs[#invs + 1] = { InvokeId = inv.InvokeId, RegionId = inv.RegionId, CommandId = inv.CommandId,
      Name = inv.Name, RepeatMode = inv.RepeatMode, InvocationStatus = (lifecycle.aggregate(statuses)),
      CreationTime = clock.iso(inv.CreationTime), Instances = recs }
  end
  return {
    time = { wall = st.clock:wall(), simulated = now, simulated_iso = clock.iso(now), offset = st.clock.skew },
    fleet = insts, commands = cmds, invocations = invs, counters = svc:counters(),
    faults = svc:faults(),
  }
end

local function body_json(req)
  local body = req.body or ""
  if body == "" then return {} end
  local v, err = json.decode(body)
  if v == nil then return nil, "body is not valid JSON: " .. tostring(err) end
  return v
end

local function guarded(svc, fn)
  local ok, res = pcall(fn)
  if ok then return res end
  return fail(svc, 400, (tostring(res):gsub("^[^:%s]+%.lua:%d+: ", "")))
end

function M.handle(svc, req)
  local method = (req.method or "GET"):upper()
  local path = req.path
  local q = codec.parse_query(req.query or "")
  local route = path:sub(12):gsub("/+$", "")

  if route == "state" and method == "GET" then
    return reply(svc, 200, M.state(svc))
  elseif route == "reset" and method == "POST" then
    svc:reset()
    return reply(svc, 200, { ok = true })
  elseif route == "counters" and method == "GET" then
    return reply(svc, 200, svc:counters())
  elseif route == "faults" then
    if method == "GET" then return reply(svc, 200, { rules = svc:faults() }) end
    if method == "DELETE" then svc:set_faults({}) return reply(svc, 200, { rules = svc:faults() }) end
    if method ~= "POST" then return fail(svc, 405, "use GET, POST or DELETE") end
    local doc, err = body_json(req)
    if not doc then return fail(svc, 400, err) end
    return guarded(svc, function()
      local rules, mode = doc, "replace"
      if type(doc) == "table" and doc[1] == nil and (doc.rules ~= nil or doc.mode ~= nil) then
        rules, mode = doc.rules or {}, doc.mode or "replace"
      end
      if mode == "add" then svc:add_faults(rules)
      elseif mode == "replace" then svc:set_faults(rules)
      else error("mode must be replace or add", 0) end
      return reply(svc, 200, { rules = svc:faults() })
    end)
  elseif route == "requests" then
    if method == "DELETE" then svc:clear_requests() return reply(svc, 200, { ok = true }) end
    if method ~= "GET" then return fail(svc, 405, "use GET or DELETE") end
    local list = svc:requests(tonumber(q.since), q.action)
    local out = json.array()
    for i, e in ipairs(list) do out[i] = e end
    return reply(svc, 200, { requests = out })
  elseif route == "clock" then
    if method == "POST" then
      local doc, err = body_json(req)
      if not doc then return fail(svc, 400, err) end
      if type(doc) ~= "table" or (doc.advance == nil and doc.offset == nil) then
        return fail(svc, 400, "body must hold 'advance' and/or 'offset' (seconds)")
      end
      local s, off = doc.advance, doc.offset
      if s ~= nil and (type(s) ~= "number" or s < 0) then
        return fail(svc, 400, "'advance' must be a non-negative number")
      end
      if off ~= nil and (type(off) ~= "number" or off ~= off or off == math.huge or off == -math.huge) then
        return fail(svc, 400, "'offset' must be a finite number of seconds")
      end
      if s then svc:advance(s) end
      if off then svc:set_clock_offset(off) end
    elseif method ~= "GET" then
      return fail(svc, 405, "use GET or POST")
    end
    local now = svc:now()
    return reply(svc, 200, { simulated = now, simulated_iso = clock.iso(now), wall = svc.st.clock:wall(),
      offset = svc:clock_offset() })
  elseif route == "fleet" then
    if method == "GET" then return reply(svc, 200, { instances = M.state(svc).fleet }) end
    if method ~= "POST" then return fail(svc, 405, "use GET or POST") end
    local doc, err = body_json(req)
    if not doc then return fail(svc, 400, err) end
    return guarded(svc, function()
      if type(doc) == "table" and type(doc.generate) == "table" then
        svc:load_fleet(fleet.generate(doc.generate))
      elseif type(doc) == "table" and doc.default == true then
        svc:load_fleet(nil)
      else
        svc:load_fleet(doc)
      end
      return reply(svc, 200, { ok = true, instances = #svc.st.fleet.list })
    end)
  elseif route:sub(1, 10) == "instances/" and method == "POST" then
    local id = route:sub(11)
    local doc, err = body_json(req)
    if not doc then return fail(svc, 400, err) end
    if not svc.st.fleet:get(id) then return fail(svc, 404, "no instance " .. id) end
    return guarded(svc, function()
      local inst, uerr = svc:set_instance(id, doc)
      if not inst then return fail(svc, 400, uerr) end
      return reply(svc, 200, { ok = true, InstanceId = inst.InstanceId, Status = inst.Status,
        AgentOnline = inst.AgentOnline })
    end)
  end
  return fail(svc, 404, "unknown admin path " .. path .. " (state, reset, counters, faults, requests, clock, "
    .. "fleet, instances/<id>)")
end

return M
