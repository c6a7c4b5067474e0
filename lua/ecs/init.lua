--- aliyun-ecs: run commands on Alibaba Cloud ECS instances through Cloud
-- Assistant. This is the public facade: ecs.new(config) and module-level
-- shortcuts that use a default client built from the environment.
local core = require "ecs.core"
local client = require "ecs.client"
local errors = require "ecs.errors"

local type, getmetatable, error = type, getmetatable, error

local M = {
  _VERSION = core._VERSION,
  API_VERSION = core.API_VERSION,
  null = core.null,
  is_error = errors.is_error,
  new = client.new,
  Client = client.Client,
}

local default

--- The client behind the module-level shortcuts (built on first use, from
-- the environment: ALIBABA_CLOUD_REGION_ID and the credential chain).
function M.default_client()
  if not default then default = client.new {} end
  return default
end

-- whether c is a client of ecs.new (or of a class built on ecs.Client)
local function is_client(c)
  local mt = type(c) == "table" and getmetatable(c)
  for _ = 1, 8 do
    if type(mt) ~= "table" then return false end
    if mt == client.Client or mt.__index == client.Client then return true end
    mt = type(mt.__index) == "table" and getmetatable(mt.__index)
  end
  return false
end

--- Replaces the default client (nil resets it). Raises for anything but a
-- client of ecs.new or nil.
function M.set_default_client(c)
  if c ~= nil and not is_client(c) then
    error(("ecs.set_default_client: expected a client of ecs.new or nil, got %s"):format(type(c)), 2)
  end
  default = c
end

for _, a in ipairs(core.actions) do
  local method = a.method
  M[method] = function(params, opts)
    local c = M.default_client()
    return c[method](c, params, opts)
  end
end

function M.request(action, params, opts)
  return M.default_client():call(action, params, opts)
end

return M
