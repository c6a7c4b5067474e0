--- Credentials: explicit configuration, then the environment.
-- A provider is any table with get() -> { access_key_id, access_key_secret,
-- security_token, expiration } or nil, err.
local errors = require "ecs.errors"

local type, pairs, tostring, error, os_getenv = type, pairs, tostring, error, os.getenv

local M = {}

local OPTIONS = { getenv = "function", provider = "table" }

--- Validates the `credentials` client option; returns it.
function M.check_config(v)
  if type(v.get) == "function" then return { provider = v } end
  for k, x in pairs(v) do
    local want = OPTIONS[k]
    if not want then error(("credentials: unknown option '%s'"):format(tostring(k)), 2) end
    if type(x) ~= want then error(("credentials: '%s' must be a %s"):format(k, want), 2) end
  end
  return v
end

local function static(creds, source)
  return {
    source = source,
    get = function() return creds end,
  }
end

local function nonempty(s)
  return type(s) == "string" and s ~= ""
end

--- Builds the provider for a validated client config.
function M.provider(cfg)
  local opts = cfg.credentials or {}
  if opts.provider then return opts.provider end
  if cfg.access_key_id or cfg.access_key_secret then
    if not (nonempty(cfg.access_key_id) and nonempty(cfg.access_key_secret)) then
      error("ecs.new: 'access_key_id' and 'access_key_secret' go together", 3)
    end
    return static({ access_key_id = cfg.access_key_id, access_key_secret = cfg.access_key_secret,
                    security_token = cfg.security_token }, "config")
  end
  local getenv = opts.getenv or os_getenv
  local tried = {}
  return {
    source = "chain",
    get = function()
      local id, secret = getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
      if nonempty(id) and nonempty(secret) then
        local token = getenv("ALIBABA_CLOUD_SECURITY_TOKEN")
        return { access_key_id = id, access_key_secret = secret,
                 security_token = nonempty(token) and token or nil, source = "environment" }
      end
      tried[1] = "environment: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not both set"
      return nil, errors.new {
        code = "Credentials.NotFound",
        message = "no credentials found; tried " .. table.concat(tried, "; "),
      }
    end,
  }
end

return M
