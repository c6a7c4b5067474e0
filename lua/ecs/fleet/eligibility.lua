--- Eligibility of target instances (reference §1.1): the service refuses a
-- whole InvokeCommand call when one listed instance cannot take it, so each
-- instance is checked first and skipped with a reason when it cannot.
-- Reasons: not_found, not_running, classic_network, os_mismatch,
-- agent_not_installed, agent_offline, agent_too_old.
local type, ipairs, pairs, tostring, tonumber = type, ipairs, pairs, tostring, tonumber
local format = string.format

local M = {}

M.STATUS_BATCH = 50   -- instances per DescribeCloudAssistantStatus call

M.COMMAND_OS = { RunShellScript = "linux", RunBatScript = "windows", RunPowerShellScript = "windows" }

M.CONTAINER_AGENT = { linux = "2.2.3.344" }   -- containers: Linux only

--- Compare dotted versions: true when v >= min.
function M.version_at_least(v, min)
  local a, b = {}, {}
  for x in tostring(v):gmatch("%d+") do a[#a + 1] = tonumber(x) end
  for x in tostring(min):gmatch("%d+") do b[#b + 1] = tonumber(x) end
  for i = 1, #b do
    local x = a[i] or 0
    if x ~= b[i] then return x > b[i] end
  end
  return true
end

local function raise_min(req, os, version, feature)
  local cur = req.versions[os]
  if cur == nil or (cur ~= false and (version == false or not M.version_at_least(cur, version))) then
    req.versions[os] = version
    req.features[os] = feature
  end
end

--- requirements(params) -> { versions = { linux =, windows = }, features = {...} } for the
-- InvokeCommand/RunCommand parameters: schedules by rate, at, year or time zone,
-- and containers, need newer agents (false: the OS cannot run it at all).
-- Returns nil, message when Frequency does not parse.
function M.requirements(params)
  local req = { versions = {}, features = {} }
  local freq = params.Frequency
  if type(freq) == "string" and freq ~= "" then
    local ok, frequency = pcall(require, "ecs.frequency")
    if ok and type(frequency) == "table" and frequency.validate then
      local valid, info = frequency.validate(freq)
      if not valid then return nil, "Frequency: " .. tostring(info) end
      if type(info) == "table" and type(info.min_agent) == "table" then
        for os, v in pairs(info.min_agent) do raise_min(req, os, v, "schedules by rate, at, year or time zone") end
      end
    end
  end
  local function set(v) return type(v) == "string" and v ~= "" end
  if set(params.ContainerId) or set(params.ContainerName) then
    raise_min(req, "linux", M.CONTAINER_AGENT.linux, "commands in containers")
    raise_min(req, "windows", false, "commands in containers")
  end
  return req
end

local function skip(list, inst_or_id, reason, message)
  local id = type(inst_or_id) == "table" and inst_or_id.InstanceId or inst_or_id
  list[#list + 1] = { InstanceId = id, reason = reason, message = message }
end

local function lower(v)
  return type(v) == "string" and v:lower() or nil
end

--- check(send, listing, opts) -> { eligible = {ids}, skipped = {...}, agents = { [id] = status }, calls = n }
-- or nil, err. opts: region, check_vpc (default true), os (linux|windows|nil),
-- command_type (for messages), requirements (from requirements()).
function M.check(send, listing, opts)
  local skipped, candidates = {}, {}
  local req = opts.requirements or { versions = {}, features = {} }
  local want_os = opts.os
  local explain = opts.missing_message or "not found in region %s"
  for _, id in ipairs(listing.missing or {}) do
    skip(skipped, id, "not_found", format(explain, tostring(opts.region)))
  end
  for _, inst in ipairs(listing.instances) do
    local os = lower(inst.OSType)
    if inst.Status ~= "Running" then
      skip(skipped, inst, "not_running", format("instance is %s, not Running", tostring(inst.Status)))
    elseif opts.check_vpc ~= false and inst.InstanceNetworkType == "classic" then
      skip(skipped, inst, "classic_network", "instance is on the classic network; Cloud Assistant needs a VPC "
        .. "(set check_vpc = false to try anyway)")
    elseif want_os and os and os ~= want_os then
      skip(skipped, inst, "os_mismatch", format("a %s command needs %s, the instance runs %s",
        tostring(opts.command_type or want_os), want_os, os))
    elseif os and req.versions[os] == false then
      skip(skipped, inst, "os_mismatch", format("%s are not supported on %s", tostring(req.features[os]), os))
    else
      candidates[#candidates + 1] = inst
    end
  end
  -- agent status, in batches
  local calls = {}
  for i = 1, #candidates, M.STATUS_BATCH do
    local ids = {}
    for j = i, math.min(#candidates, i + M.STATUS_BATCH - 1) do ids[#ids + 1] = candidates[j].InstanceId end
    calls[#calls + 1] = { "DescribeCloudAssistantStatus", { RegionId = opts.region, InstanceId = ids,
                                                           MaxResults = M.STATUS_BATCH } }
  end
  local agents = {}
  local answers = send:many(calls)
  for _, a in ipairs(answers) do
    local res = a[1]
    if not res then return nil, a[2] end
    local set = res.InstanceCloudAssistantStatusSet
    local list = type(set) == "table" and set.InstanceCloudAssistantStatus or {}
    if type(list) == "table" then
      for _, s in ipairs(list) do
        if type(s) == "table" and s.InstanceId then agents[s.InstanceId] = s end
      end
    end
  end
  local eligible = {}
  for _, inst in ipairs(candidates) do
    local id = inst.InstanceId
    local s = agents[id]
    local os = lower(inst.OSType) or lower(s and s.OSType)
    local version = s and s.CloudAssistantVersion
    local online = s and (s.CloudAssistantStatus == "true" or s.CloudAssistantStatus == true)
    local need = os and req.versions[os]
    if s and not online and (version == nil or version == "") then
      skip(skipped, inst, "agent_not_installed", "the Cloud Assistant agent is not installed")
    elseif not online then
      skip(skipped, inst, "agent_offline", s and "the Cloud Assistant agent has not reported in the last "
        .. "two minutes" or "no Cloud Assistant status was reported for the instance")
    elseif need and not M.version_at_least(version or "", need) then
      skip(skipped, inst, "agent_too_old", format("agent %s is older than %s, needed for %s",
        tostring(version), need, tostring(req.features[os])))
    else
      eligible[#eligible + 1] = id
    end
  end
  return { eligible = eligible, skipped = skipped, agents = agents, status_calls = #calls }
end

return M
