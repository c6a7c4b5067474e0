--- The shared credentials file (reference §8.2): INI, default
-- ~/.alibabacloud/credentials (or credentials.ini), path from the
-- `credentials_file` option or ALIBABA_CLOUD_CREDENTIALS_FILE, section from
-- the `profile` option, ALIBABA_CLOUD_PROFILE, else "default".
-- Types: access_key, ecs_ram_role, ram_role_arn, oidc_role_arn, credentials_uri.
local common = require "ecs.credentials.common"
local sts = require "ecs.credentials.sts"
local metadata = require "ecs.credentials.metadata"
local oidc = require "ecs.credentials.oidc"
local uri = require "ecs.credentials.uri"

local tostring = tostring

local M = { name = "profile" }

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

--- parse(text) -> { section = { key = value } }; '#' and ';' start comments.
function M.parse(text)
  local out, cur = {}, nil
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    line = trim(line:gsub("\r$", ""))
    if line ~= "" and not line:match("^[#;]") then
      local sec = line:match("^%[%s*(.-)%s*%]$")
      if sec then
        cur = out[sec] or {}
        out[sec] = cur
      elseif cur then
        local k, v = line:match("^([^=]+)=(.*)$")
        if k then
          v = trim(v:gsub("%s+[#;].*$", ""))
          cur[trim(k)] = v
        end
      end
    end
  end
  return out
end

local function file_path(ctx)
  local p = ctx.opts.credentials_file or ctx.getenv("ALIBABA_CLOUD_CREDENTIALS_FILE")
  if common.nonempty(p) then return p end
  local home = ctx.home
  if not common.nonempty(home) then return nil end
  local a = home .. "/.alibabacloud/credentials"
  if common.read_file(a) then return a end
  local b = a .. ".ini"
  if common.read_file(b) then return b end
  return a
end

function M.resolve(ctx)
  local path = file_path(ctx)
  if not path then return nil, "no HOME to find ~/.alibabacloud/credentials" end
  local text, rerr = common.read_file(path)
  if not text then return nil, path .. ": " .. rerr end
  local name = ctx.profile_name or "default"
  local sec = M.parse(text)[name]
  if not sec then return nil, path .. ": no profile [" .. name .. "]" end
  if sec.enable == "false" then return nil, path .. ": profile [" .. name .. "] has enable = false" end
  local kind = sec.type or "access_key"
  local source = "profile " .. name
  if kind == "access_key" then
    if not (common.nonempty(sec.access_key_id) and common.nonempty(sec.access_key_secret)) then
      return nil, path .. ": profile [" .. name .. "] lacks access_key_id or access_key_secret"
    end
    local creds = common.make(sec.access_key_id, sec.access_key_secret, sec.security_token, nil, source)
    return { source = source, get = function() return creds end }
  elseif kind == "ecs_ram_role" then
    return metadata.provider(ctx, sec.role_name)
  elseif kind == "ram_role_arn" then
    if not (common.nonempty(sec.access_key_id) and common.nonempty(sec.access_key_secret)) then
      return nil, path .. ": profile [" .. name .. "] (ram_role_arn) lacks access_key_id or access_key_secret"
    end
    local base = common.make(sec.access_key_id, sec.access_key_secret, sec.security_token, nil, source)
    return sts.provider(ctx, {
      role_arn = sec.role_arn, session_name = sec.role_session_name, policy = sec.policy,
      external_id = sec.external_id, duration = sec.duration_seconds, sts_region = sec.sts_region,
      endpoint = sec.sts_endpoint,
    }, { get = function() return base end }, source)
  elseif kind == "oidc_role_arn" then
    if not (common.nonempty(sec.role_arn) and common.nonempty(sec.oidc_provider_arn)
            and common.nonempty(sec.oidc_token_file_path)) then
      return nil, path .. ": profile [" .. name .. "] (oidc_role_arn) lacks role_arn, oidc_provider_arn or "
        .. "oidc_token_file_path"
    end
    return oidc.provider(ctx, { role_arn = sec.role_arn, provider_arn = sec.oidc_provider_arn,
      token_file = sec.oidc_token_file_path, session_name = sec.role_session_name, policy = sec.policy,
      duration = sec.duration_seconds, sts_region = sec.sts_region, endpoint = sec.sts_endpoint }, source)
  elseif kind == "credentials_uri" then
    if not common.nonempty(sec.credentials_uri) then
      return nil, path .. ": profile [" .. name .. "] (credentials_uri) lacks credentials_uri"
    end
    return uri.provider(ctx, sec.credentials_uri, source)
  end
  return nil, path .. ": profile [" .. name .. "] has unsupported type '" .. tostring(kind) .. "'"
end

return M
