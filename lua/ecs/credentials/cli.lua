--- The aliyun CLI configuration (reference §8.3): ~/.aliyun/config.json, path
-- from the `cli_config_file` option or ALIBABA_CLOUD_CONFIG_FILE; profile
-- from the `profile` option, ALIBABA_CLOUD_PROFILE, else the file's
-- `current`; off with ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true.
-- Modes: AK, StsToken, RamRoleArn, EcsRamRole, ChainableRamRoleArn, OIDC,
-- CredentialsURI.
local common = require "ecs.credentials.common"
local sts = require "ecs.credentials.sts"
local metadata = require "ecs.credentials.metadata"
local oidc = require "ecs.credentials.oidc"
local uri = require "ecs.credentials.uri"

local type, tostring, ipairs = type, tostring, ipairs

local M = { name = "cli" }

local function find(doc, name)
  if type(doc.profiles) ~= "table" then return nil end
  for _, p in ipairs(doc.profiles) do
    if type(p) == "table" and p.name == name then return p end
  end
  return nil
end

local function build(ctx, doc, p, path, depth)
  local name = tostring(p.name)
  local source = "cli profile " .. name
  local mode = p.mode or "AK"
  local function base()
    if not (common.nonempty(p.access_key_id) and common.nonempty(p.access_key_secret)) then
      return nil, path .. ": profile '" .. name .. "' (" .. mode .. ") lacks access_key_id or access_key_secret"
    end
    return common.make(p.access_key_id, p.access_key_secret, mode == "StsToken" and p.sts_token or nil, nil,
                       source)
  end
  local function role(src)
    return sts.provider(ctx, {
      role_arn = p.ram_role_arn, session_name = p.ram_session_name, policy = p.policy,
      external_id = p.external_id, duration = p.expired_seconds, sts_region = p.sts_region,
      vpc = p.enable_vpc == true, endpoint = common.nonempty(p.sts_endpoint) and p.sts_endpoint or nil,
    }, src, source)
  end
  if mode == "AK" or mode == "StsToken" then
    local creds, err = base()
    if not creds then return nil, err end
    if mode == "StsToken" and not common.nonempty(p.sts_token) then
      return nil, path .. ": profile '" .. name .. "' (StsToken) lacks sts_token"
    end
    return { source = source, get = function() return creds end }
  elseif mode == "RamRoleArn" then
    local creds, err = base()
    if not creds then return nil, err end
    return role { get = function() return creds end }
  elseif mode == "EcsRamRole" then
    return metadata.provider(ctx, p.ram_role_name)
  elseif mode == "ChainableRamRoleArn" then
    local src = find(doc, p.source_profile)
    if not src then return nil, path .. ": profile '" .. name .. "': no source profile '"
      .. tostring(p.source_profile) .. "'" end
    if depth > 5 then return nil, path .. ": profile '" .. name .. "': source profiles nest too deep" end
    local sp, err = build(ctx, doc, src, path, depth + 1)
    if not sp then return nil, err end
    return role(sp)
  elseif mode == "OIDC" then
    return oidc.provider(ctx, { role_arn = p.ram_role_arn, provider_arn = p.oidc_provider_arn,
      token_file = p.oidc_token_file, session_name = p.ram_session_name, policy = p.policy,
      duration = p.expired_seconds, sts_region = p.sts_region,
      endpoint = common.nonempty(p.sts_endpoint) and p.sts_endpoint or nil }, source)
  elseif mode == "CredentialsURI" then
    if not common.nonempty(p.credentials_uri) then
      return nil, path .. ": profile '" .. name .. "' (CredentialsURI) lacks credentials_uri"
    end
    return uri.provider(ctx, p.credentials_uri, source)
  end
  return nil, path .. ": profile '" .. name .. "' has unsupported mode '" .. tostring(mode) .. "'"
end

function M.resolve(ctx)
  if common.is_true(ctx.getenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED")) then
    return nil, "switched off by ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true"
  end
  local path = ctx.opts.cli_config_file or ctx.getenv("ALIBABA_CLOUD_CONFIG_FILE")
  if not common.nonempty(path) then
    if not common.nonempty(ctx.home) then return nil, "no HOME to find ~/.aliyun/config.json" end
    path = ctx.home .. "/.aliyun/config.json"
  end
  local text, rerr = common.read_file(path)
  if not text then return nil, path .. ": " .. rerr end
  local doc, jerr = common.json_decode(text)
  if type(doc) ~= "table" then return nil, path .. ": not valid JSON (" .. tostring(jerr) .. ")" end
  local name = ctx.profile_name or doc.current or "default"
  local p = find(doc, name)
  if not p then return nil, path .. ": no profile '" .. tostring(name) .. "'" end
  return build(ctx, doc, p, path, 0)
end

return M
