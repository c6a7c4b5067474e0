--- Client configuration: validation and defaults. A wrong type or an unknown
-- key raises at once, naming the option.
local error, type, pairs, tostring, pcall = error, type, pairs, tostring, pcall

local M = {}

M.SHORT = 40

--- short(v) -> text for an error message: a string cut to its first 40
-- bytes (then "..."), anything else through tostring.
function M.short(v)
  if type(v) ~= "string" then return tostring(v) end
  if #v <= M.SHORT then return v end
  return v:sub(1, M.SHORT) .. "..."
end
local short = M.short

-- a nested checker's message with each quoted value cut to 40 bytes
local function cut_quoted(msg)
  return (tostring(msg):gsub("'([^']*)'", function(x)
    if #x > M.SHORT then return "'" .. x:sub(1, M.SHORT) .. "...'" end
  end))
end

-- raised without a position; check() re-raises at the caller of ecs.new
local function fail(name, msg)
  error(("ecs.new: bad option '%s': %s"):format(name, cut_quoted(msg)), 0)
end

local function one_of(...)
  local allowed = { ... }
  return function(name, v)
    for i = 1, #allowed do
      if v == allowed[i] then return v end
    end
    fail(name, ("expected one of %s, got %s"):format(table.concat(allowed, ", "), short(v)))
  end
end

local function kind(t)
  return function(name, v)
    if type(v) ~= t then fail(name, ("expected a %s, got %s"):format(t, type(v))) end
    return v
  end
end

local function seconds(name, v)
  if type(v) ~= "number" or v ~= v or v <= 0 or v > 86400 then
    fail(name, "expected a number of seconds between 0 and 86400")
  end
  return v
end

local function timeout(name, v)
  if type(v) == "number" then return { connect = 5, read = seconds(name, v) } end
  if type(v) ~= "table" then fail(name, "expected a number or { connect =, read = }") end
  local out = { connect = 5, read = 10 }
  for k, x in pairs(v) do
    if k ~= "connect" and k ~= "read" then fail(name .. "." .. short(k), "unknown option") end
    out[k] = seconds(name .. "." .. k, x)
  end
  return out
end

local function tls(name, v)
  if type(v) ~= "table" then fail(name, "expected a table { verify =, ca_file =, ca_path = }") end
  local out = { verify = true }
  for k, x in pairs(v) do
    if k == "verify" then
      if type(x) ~= "boolean" then fail(name .. ".verify", "expected a boolean") end
      out.verify = x
    elseif k == "ca_file" or k == "ca_path" then
      if type(x) ~= "string" then fail(name .. "." .. k, "expected a string") end
      out[k] = x
    else
      fail(name .. "." .. short(k), "unknown option")
    end
  end
  return out
end

local function retry(name, v)
  if v == false then return false end
  local ok, res = pcall(require("ecs.retry").check_config, v)
  if not ok then fail(name, tostring(res):gsub("^.-: ", "")) end
  return res
end

local function credentials(name, v)
  if type(v) ~= "table" then fail(name, "expected a table of credential-chain options or a provider") end
  local ok, res = pcall(require("ecs.credentials").check_config, v)
  if not ok then fail(name, tostring(res):gsub("^[^:]*:%d+: ", "")) end
  return res
end

local function ngx_opt(name, v)
  local ok, res = pcall(require("ecs.transport.ngx").check_options, v)
  if not ok then fail(name, (tostring(res):gsub("^[^:]*:%d+: ", ""):gsub("^ngx: ", ""))) end
  return res
end

-- quota = { daily_invocations = N }: the fleet functions' daily count per region
local function quota(name, v)
  if type(v) ~= "table" then fail(name, "expected a table { daily_invocations = }") end
  for k, x in pairs(v) do
    if k ~= "daily_invocations" then fail(name .. "." .. short(k), "unknown option (daily_invocations)") end
    if type(x) ~= "number" or x ~= x or x < 0 or x ~= math.floor(x) or x == math.huge then
      fail(name .. ".daily_invocations", "expected a whole number >= 0, got " .. short(x))
    end
  end
  return v
end

M.schema = {
  region = kind "string",
  endpoint = kind "string",
  network = one_of("public", "vpc"),
  access_key_id = kind "string",
  access_key_secret = kind "string",
  security_token = kind "string",
  signature_version = one_of("v3", "v2"),
  timeout = timeout,
  retry = retry,
  tls = tls,
  proxy = kind "string",
  no_proxy = kind "string",
  logger = kind "function",
  user_agent = kind "string",
  validate = kind "boolean",
  instance_zone = kind "string",
  credentials = credentials,
  clock = kind "function",
  sleep = kind "function",
  random = kind "function",
  transport = one_of("curl", "ngx", "auto"),
  ngx = ngx_opt,
  quota = quota,
}

--- Validates a user config table; returns a new normalized table.
function M.check(user)
  if user == nil then user = {} end
  if type(user) ~= "table" then
    error(("ecs.new: expected a config table, got %s"):format(type(user)), 3)
  end
  local out = {}
  for k, v in pairs(user) do
    if type(k) ~= "string" then error("ecs.new: option names must be strings", 3) end
    local check = M.schema[k]
    if not check then error(("ecs.new: unknown option '%s'"):format(short(k)), 3) end
    local ok, res = pcall(check, k, v)
    if not ok then error(res, 3) end
    out[k] = res
  end
  out.signature_version = out.signature_version or "v3"
  out.timeout = out.timeout or { connect = 5, read = 10 }
  out.tls = out.tls or { verify = true }
  if out.validate == nil then out.validate = true end
  out.transport = out.transport or "auto"
  return out
end

return M
