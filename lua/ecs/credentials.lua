--- Credentials: the provider chain (reference §8). In order: explicit
-- configuration, the environment, an OIDC role (RRSA), the shared
-- credentials file, the aliyun CLI configuration, the ECS instance RAM role
-- from the metadata service, a credentials URI.
-- The first source that yields credentials is remembered. Nothing is read
-- and nothing touches the network before the first get().
--
-- A provider is any table with get() -> credentials | nil, err, where
-- credentials = { access_key_id, access_key_secret, security_token, expiration }.
local errors = require "ecs.errors"
local short = require("ecs.config").short
local common = require "ecs.credentials.common"

local type, pairs, ipairs, tostring, error, os_getenv = type, pairs, ipairs, tostring, error, os.getenv
local rawget, pcall, _G = rawget, pcall, _G
local concat = table.concat

local M = {}

M.SOURCES = { "config", "environment", "oidc", "profile", "cli", "ecs_ram_role", "credentials_uri" }

local MODULES = { environment = "ecs.credentials.env", oidc = "ecs.credentials.oidc",
                  profile = "ecs.credentials.profile", cli = "ecs.credentials.cli",
                  ecs_ram_role = "ecs.credentials.metadata", credentials_uri = "ecs.credentials.uri" }

local OPTIONS = {
  getenv = "function", home = "string", profile = "string", credentials_file = "string",
  cli_config_file = "string", sts_endpoint = "string", refresh_margin = "number", sts_timeout = "number",
  http = "function", provider = "table", sources = "table", metadata = "metadata", credentials_uri = "string",
}

local METADATA = { url = "string", disabled = "boolean", role_name = "string", imdsv1 = "boolean",
                   timeout = "number", token_ttl = "number" }

local function check_metadata(v)
  if v == false then return false end
  if type(v) ~= "table" then error("credentials: 'metadata' must be a table or false", 3) end
  for k, x in pairs(v) do
    local want = METADATA[k]
    if not want then error(("credentials: unknown option 'metadata.%s'"):format(short(k)), 3) end
    if type(x) ~= want then error(("credentials: 'metadata.%s' must be a %s"):format(k, want), 3) end
  end
  if v.url and not v.url:match("^https?://[^/]+") then
    error("credentials: 'metadata.url' must be an http(s) URL", 3)
  end
  return v
end

--- Validates the `credentials` client option; returns it (normalized).
function M.check_config(v)
  if type(v) ~= "table" then error("credentials: expected a table", 2) end
  if type(v.get) == "function" then return { provider = v } end
  local out = {}
  for k, x in pairs(v) do
    local want = OPTIONS[k]
    if not want then error(("credentials: unknown option '%s'"):format(short(k)), 2) end
    if want == "metadata" then
      out[k] = check_metadata(x)
    else
      if type(x) ~= want then error(("credentials: '%s' must be a %s"):format(k, want), 2) end
      out[k] = x
    end
  end
  if out.provider and type(out.provider.get) ~= "function" then
    error("credentials: 'provider' must have a get() function", 2)
  end
  if out.refresh_margin and (out.refresh_margin < 0 or out.refresh_margin ~= out.refresh_margin) then
    error("credentials: 'refresh_margin' must be a non-negative number of seconds", 2)
  end
  if out.sources then
    local known = {}
    for _, s in ipairs(M.SOURCES) do known[s] = true end
    for i, s in ipairs(out.sources) do
      if not known[s] then
        error(("credentials: sources[%d] '%s' is not one of %s"):format(i, tostring(s), concat(M.SOURCES, ", ")), 2)
      end
    end
  end
  return out
end

-- HTTP for the metadata service, STS and credentials URIs: cosockets inside
-- nginx (never blocking a worker), else the C core's libcurl client
local function default_http()
  local ngx = rawget(_G, "ngx")
  if type(ngx) == "table" and type(ngx.get_phase) == "function" then
    local ok, request = pcall(require, "ecs.ngx.request")
    if ok then return request.http end
  end
  return common.http_client()
end

-- the context every source resolves in
local function context(cfg, env)
  local opts = cfg.credentials or {}
  local getenv = opts.getenv or os_getenv
  local profile = opts.profile or getenv("ALIBABA_CLOUD_PROFILE")
  return {
    opts = opts, getenv = getenv,
    home = opts.home or getenv("HOME"),
    profile_name = common.nonempty(profile) and profile or nil,
    http = opts.http or default_http(),
    clock = env.clock or os.time, sleep = env.sleep, log = env.log,
  }
end

local function from_config(cfg)
  if cfg.access_key_id == nil and cfg.access_key_secret == nil then
    return nil, "no access_key_id/access_key_secret options"
  end
  local creds = common.make(cfg.access_key_id, cfg.access_key_secret, cfg.security_token, nil, "config")
  return { source = "config", get = function() return creds end }
end

--- provider(cfg, env) -> the client's provider. env: { clock, sleep, log }.
-- Raises when access_key_id is given without access_key_secret (or the reverse).
function M.provider(cfg, env)
  env = env or {}
  local opts = cfg.credentials or {}
  if opts.provider then return opts.provider end
  if cfg.access_key_id or cfg.access_key_secret then
    if not (common.nonempty(cfg.access_key_id) and common.nonempty(cfg.access_key_secret)) then
      error("ecs.new: 'access_key_id' and 'access_key_secret' go together", 3)
    end
    return (from_config(cfg))
  elseif cfg.security_token then
    error("ecs.new: 'security_token' needs 'access_key_id' and 'access_key_secret'", 3)
  end
  local sources = opts.sources or M.SOURCES
  local ctx, chosen
  local resolving = false
  local chain = { source = "chain" }

  local function resolve()
    ctx = ctx or context(cfg, env)
    local tried = {}
    for _, name in ipairs(sources) do
      local p, why
      if name == "config" then
        p, why = from_config(cfg)
      else
        p, why = require(MODULES[name]).resolve(ctx)
      end
      if p then
        local creds, err = p.get()
        if creds then
          chosen = p
          chain.source = name
          if env.log then env.log { event = "credentials", action = "chosen", source = p.source or name } end
          return creds
        end
        why = tostring(err and err.code or "error") .. ": " .. tostring(err and err.message or err)
      end
      tried[#tried + 1] = name .. " (" .. tostring(why) .. ")"
    end
    return nil, errors.new {
      code = "Credentials.NotFound",
      message = "no credentials found; tried " .. concat(tried, "; "),
      tried = tried,
    }
  end

  function chain.get()
    if chosen then return chosen.get() end
    if resolving and env.sleep then
      -- another coroutine (nginx) is walking the chain: wait for it, a while
      local n = 0
      while resolving and n < 500 do
        n = n + 1
        env.sleep(0.01)
      end
      if chosen then return chosen.get() end
    end
    resolving = true
    local creds, err = resolve()
    resolving = false
    return creds, err
  end
  return chain
end

return M
