--- OIDC role (RRSA, reference §8.1/§8.5): an unsigned AssumeRoleWithOIDC call
-- to STS with the token read from a file. Triggered by ALIBABA_CLOUD_ROLE_ARN,
-- ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE all set
-- (or the profile/CLI equivalents).
local core = require "ecs.core"
local common = require "ecs.credentials.common"
local sts = require "ecs.credentials.sts"
local refresh = require "ecs.credentials.refresh"

local type, tostring, math_floor = type, tostring, math.floor

local M = { name = "oidc" }

--- One AssumeRoleWithOIDC call: credentials or nil, err.
function M.fetch(ctx, role)
  local url, uerr = role.endpoint, nil
  if not url then url, uerr = sts.endpoint(ctx, role.sts_region) end
  if not url then return common.fail("Credentials.BadConfig", uerr) end
  if not url:match("^https?://") then url = "https://" .. url end
  local token, terr = common.read_file(role.token_file)
  if not token then
    return common.fail("Credentials.OIDCFailed", "OIDC token file " .. tostring(role.token_file) .. ": " .. terr)
  end
  local session = role.session_name
  if not common.nonempty(session) then session = "aliyun-ecs-lua-" .. math_floor(ctx.clock()) end
  local body = core.canonical_query {
    Action = "AssumeRoleWithOIDC", Version = sts.VERSION, Format = "JSON", Timestamp = core.timestamp(),
    RoleArn = role.role_arn, OIDCProviderArn = role.provider_arn, OIDCToken = (token:gsub("%s+$", "")),
    RoleSessionName = session, DurationSeconds = tostring(math_floor(tonumber(role.duration) or sts.DURATION)),
    Policy = common.nonempty(role.policy) and role.policy or nil,
  }
  local resp, err = ctx.http { method = "POST", url = url:gsub("/+$", "") .. "/", body = body,
    headers = { ["Content-Type"] = "application/x-www-form-urlencoded", Accept = "application/json" },
    timeout = ctx.opts.sts_timeout or 10, connect_timeout = ctx.opts.sts_timeout or 5 }
  if not resp then
    return common.fail("Credentials.OIDCFailed", "AssumeRoleWithOIDC at " .. url .. ": " .. tostring(err and err.code))
  end
  local doc = common.json_decode(resp.body or "")
  if resp.status ~= 200 or type(doc) ~= "table" then
    local code = type(doc) == "table" and doc.Code or ("HTTP " .. tostring(resp.status))
    local msg = type(doc) == "table" and doc.Message or ""
    return common.fail("Credentials.OIDCFailed", ("AssumeRoleWithOIDC %s at %s failed: %s: %s"):format(
      tostring(role.role_arn), url, tostring(code), common.scrub(tostring(msg), { token })))
  end
  local c = type(doc.Credentials) == "table" and doc.Credentials or {}
  local exp = common.parse_time(c.Expiration)
  if not (common.nonempty(c.AccessKeyId) and common.nonempty(c.AccessKeySecret) and exp) then
    return common.fail("Credentials.OIDCFailed", "AssumeRoleWithOIDC answer lacks Credentials")
  end
  return common.make(c.AccessKeyId, c.AccessKeySecret, c.SecurityToken, exp, role.source or M.name)
end

function M.provider(ctx, role, source)
  role.source = source or M.name
  return refresh.new {
    source = role.source, clock = ctx.clock, sleep = ctx.sleep, log = ctx.log, margin = ctx.opts.refresh_margin,
    fetch = function() return M.fetch(ctx, role) end,
  }
end

function M.resolve(ctx)
  local g = ctx.getenv
  local arn, provider, file = g("ALIBABA_CLOUD_ROLE_ARN"), g("ALIBABA_CLOUD_OIDC_PROVIDER_ARN"),
    g("ALIBABA_CLOUD_OIDC_TOKEN_FILE")
  if not (common.nonempty(arn) and common.nonempty(provider) and common.nonempty(file)) then
    return nil, "ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE "
      .. "are not all set"
  end
  return M.provider(ctx, { role_arn = arn, provider_arn = provider, token_file = file,
                           session_name = g("ALIBABA_CLOUD_ROLE_SESSION_NAME") })
end

return M
