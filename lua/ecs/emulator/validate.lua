-- Parameter readers shared by the actions: lists (Name.N), tags, booleans,
-- integers, lengths, ClientToken, Parameters, RepeatMode/Frequency, Timeout.
local errors = require "ecs.emulator.errors"
local json = require "ecs.emulator.json"
local schedule = require "ecs.emulator.schedule"

local pairs, ipairs, type, tonumber, floor, sort = pairs, ipairs, type, tonumber, math.floor, table.sort
local raise = errors.raise

local M = {}

-- Values of Name.1, Name.2, ... in N order, duplicates removed.
function M.list(p, name)
  local found = {}
  local pat = "^" .. name:gsub("%p", "%%%0") .. "%.(%d+)$"
  for k, v in pairs(p) do
    local n = k:match(pat)
    if n and v ~= "" then found[#found + 1] = { tonumber(n), v } end
  end
  sort(found, function(a, b) return a[1] < b[1] end)
  local out, seen = {}, {}
  for _, e in ipairs(found) do
    if not seen[e[2]] then
      seen[e[2]] = true
      out[#out + 1] = e[2]
    end
  end
  return out
end

local function bad_tag_text(s)
  return s:find("https?://") ~= nil
end

-- Tags Name.N.Key / Name.N.Value -> list of { Key, Value }.
-- opts: max (N limit), codes = { too_many, missing_key, bad_key, bad_value, duplicate }
function M.tags(p, name, opts)
  opts = opts or {}
  local max = opts.max or 20
  local codes = opts.codes or {}
  local by_n = {}
  local pat = "^" .. name:gsub("%p", "%%%0") .. "%.(%d+)%.(%a+)$"
  for k, v in pairs(p) do
    local n, field = k:match(pat)
    if n and (field == "Key" or field == "Value") then
      n = tonumber(n)
      by_n[n] = by_n[n] or {}
      by_n[n][field] = v
    end
  end
  local ns = {}
  for n in pairs(by_n) do ns[#ns + 1] = n end
  sort(ns)
  if #ns > max or (ns[#ns] or 0) > max then
    raise(codes.too_many or ("InvalidParameter." .. name),
      "The number of %s entries exceeds the limit of %d.", name, max)
  end
  local out, seen = {}, {}
  for _, n in ipairs(ns) do
    local t = by_n[n]
    local key, value = t.Key, t.Value or ""
    if key == nil or key == "" then
      raise(codes.missing_key or ("MissingParameter." .. name .. "Key"),
        "The parameter %s.%d.Key is required.", name, n)
    end
    if #key > 64 or key:find("^acs:") or key:find("^aliyun") or bad_tag_text(key) then
      raise(codes.bad_key or ("Invalid" .. name .. "Key.Malformed"), "The tag key \"%s\" is not valid.", key:sub(1, 64))
    end
    if #value > 128 or bad_tag_text(value) then
      raise(codes.bad_value or ("Invalid" .. name .. "Value.Malformed"), "The tag value of \"%s\" is not valid.", key)
    end
    if seen[key] and codes.duplicate then
      raise(codes.duplicate, "The tag key \"%s\" is given more than once.", key)
    end
    seen[key] = true
    out[#out + 1] = { Key = key, Value = value }
  end
  return out
end

function M.bool(p, name, default)
  local v = p[name]
  if v == nil or v == "" then return default end
  local l = v:lower()
  if l == "true" then return true end
  if l == "false" then return false end
  errors.invalid(name, "use true or false")
end

function M.int(p, name, default)
  local v = p[name]
  if v == nil or v == "" then return default end
  local n = tonumber(v)
  if not n or floor(n) ~= n then errors.invalid(name, "an integer is required") end
  return n
end

function M.required(p, name, code)
  local v = p[name]
  if v == nil or v == "" then
    if code then
      raise(code, "The input parameter \"%s\" that is mandatory for processing this request is not supplied.", name)
    end
    errors.missing(name)
  end
  return v
end

function M.maxlen(p, name, limit, code)
  local v = p[name]
  if v ~= nil and #v > limit then
    raise(code or ("InvalidParameter." .. name), "The parameter \"%s\" is longer than %d characters.", name, limit)
  end
  return v
end

function M.client_token(p)
  local t = p.ClientToken
  if t == nil or t == "" then return nil end
  if #t > 64 or t:find("[^\32-\126]") then
    raise("InvalidClientToken.Malformed", "The ClientToken must be at most 64 printable ASCII characters.")
  end
  return t
end

-- Timeout: integer seconds, at least 10, at most a day.
function M.timeout(p, default)
  local v = p.Timeout
  if v == nil or v == "" then return default end
  local n = tonumber(v)
  if not n or floor(n) ~= n then
    raise("InvalidParameter.Timeout", "The specified parameter \"Timeout\" must be an integer number of seconds.")
  end
  if n < 10 then
    raise("InvalidParameter.Timeout", "The specified parameter \"Timeout\" must be at least 10 seconds.")
  end
  if n > 86400 then
    raise("InvalidTimeout.ExceedLimit", "The specified parameter \"Timeout\" exceeds 86400 seconds.")
  end
  return n
end

local MODES = { Once = true, Period = true, NextRebootOnly = true, EveryReboot = true, DryRun = true }

-- Returns mode, frequency, kind, interval. now: the simulated time.
function M.repeat_mode(p, timeout, now)
  local freq = p.Frequency
  if freq == "" then freq = nil end
  local mode = p.RepeatMode
  if mode == nil or mode == "" then mode = "Once" end
  if not MODES[mode] then
    raise("InvalidRepeatMode.NotFound", "The specified RepeatMode \"%s\" does not exist "
      .. "(Once, Period, NextRebootOnly, EveryReboot or DryRun).", mode)
  end
  if freq and mode ~= "DryRun" then mode = "Period" end
  if mode == "Period" and not freq then
    raise("MissingParam.Frequency", "A scheduled (Period) task needs the Frequency parameter.")
  end
  local kind, interval
  if freq then
    local ok, k, i = schedule.check(freq, timeout, now)
    if not ok then raise("InvalidParam.Frequency", "The Frequency \"%s\" is not valid: %s.", freq, k) end
    kind, interval = k, i
  end
  return mode, freq, kind, interval
end

-- Parameters for a command: returns a table name -> string value.
function M.parameters(p, cmd)
  local text = p.Parameters
  if text == nil or text == "" then
    if cmd.EnableParameter and #cmd.ParameterNames > 0 then
      raise("Parameter.MissingValue", "The command has parameters (%s); give their values in Parameters.",
        table.concat(cmd.ParameterNames, ", "))
    end
    return {}
  end
  local v, err = json.decode(text)
  if type(v) ~= "table" or (v[1] ~= nil) then
    raise("InvalidParameter.Parameters", "Parameters must be a JSON object of name/value strings%s.",
      err and (" (" .. err .. ")") or "")
  end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  if n == 0 then return {} end
  if not cmd.EnableParameter then
    raise("Parameter.Disabled", "The command does not take parameters (EnableParameter is false).")
  end
  if n > 10 then raise("ParameterCount.ExceedLimit", "At most 10 parameters may be given, got %d.", n) end
  -- names are case-insensitive: values are returned under the command's spelling
  local defined = {}
  for _, name in ipairs(cmd.ParameterNames) do defined[name:lower()] = name end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  sort(keys)
  local out = {}
  for _, k in ipairs(keys) do
    local val = v[k]
    if k == "" then raise("InvalidParameter.Parameters", "A parameter name is empty.") end
    if #k > 64 then
      raise("ParameterKey.ExceedLimit", "The parameter name \"%s...\" is longer than 64.", k:sub(1, 16))
    end
    if type(val) ~= "string" then
      raise("ParameterType.NotSupported", "The value of parameter \"%s\" must be a string.", k)
    end
    local name = defined[k:lower()]
    if not name then
      raise("Parameter.NotMatched", "The parameter \"%s\" is not defined by the command.", k)
    end
    if out[name] then raise("ParameterKey.Duplicate", "The parameter \"%s\" is given twice.", k) end
    out[name] = val
  end
  for _, name in ipairs(cmd.ParameterNames) do
    if out[name] == nil then
      raise("Parameter.MissingValue", "The parameter \"%s\" has no value.", name)
    end
  end
  return out
end

return M
