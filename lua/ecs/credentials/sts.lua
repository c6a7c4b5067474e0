--- STS AssumeRole (reference §8.5): a V2-signed call that trades a long-term
-- (or temporary) AccessKey for role credentials. Used by the ram_role_arn
-- profile type, the aliyun CLI RamRoleArn and ChainableRamRoleArn modes.
local core = require "ecs.core"
local common = require "ecs.credentials.common"
local refresh = require "ecs.credentials.refresh"

local type, tostring, math_floor = type, tostring, math.floor

local M = {}

M.VERSION = "2015-04-01"
M.DURATION = 3600

--- The STS endpoint: explicit, else from ALIBABA_CLOUD_STS_REGION (VPC form
-- when ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true), else sts.aliyuncs.com.
function M.endpoint(ctx, region, vpc)
  local opts = ctx.opts
  if opts.sts_endpoint then return opts.sts_endpoint end
  local getenv = ctx.getenv
  region = region or getenv("ALIBABA_CLOUD_STS_REGION")
  if vpc == nil then vpc = common.is_true(getenv("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED")) end
  if common.nonempty(region) then
    if not region:match("^[%w_%-]+$") then return nil, "bad STS region '" .. region .. "'" end
    return "https://sts" .. (vpc and "-vpc." or ".") .. region .. ".aliyuncs.com"
  end
  return "https://sts.aliyuncs.com"
end

--- One AssumeRole call. role: { role_arn, session_name, duration, policy,
-- external_id, endpoint, sts_region, vpc }; base: credentials to sign with.
-- Returns credentials (with expiration) or nil, err.
function M.assume_role(ctx, role, base)
  local url, uerr = role.endpoint, nil
  if not url then url, uerr = M.endpoint(ctx, role.sts_region, role.vpc) end
  if not url then return common.fail("Credentials.BadConfig", uerr) end
  if not url:match("^https?://") then url = "https://" .. url end
  local cl = core.new {
    endpoint = url, signature_version = "v2", version = M.VERSION,
    access_key_id = base.access_key_id, access_key_secret = base.access_key_secret,
    security_token = base.security_token,
  }
  local duration = math_floor(tonumber(role.duration) or M.DURATION)
  local session = role.session_name
  if not common.nonempty(session) then
    session = ctx.getenv("ALIBABA_CLOUD_ROLE_SESSION_NAME")
    if not common.nonempty(session) then session = "aliyun-ecs-lua-" .. math_floor(ctx.clock()) end
  end
  local req = cl:prepare("AssumeRole", {
    RoleArn = role.role_arn, RoleSessionName = session, DurationSeconds = duration,
    Policy = common.nonempty(role.policy) and role.policy or nil,
    ExternalId = common.nonempty(role.external_id) and role.external_id or nil,
  })
  cl:close()
  local secrets = { base.access_key_secret, base.security_token }
  local resp, nerr = ctx.http { method = req.method, url = req.url, headers = req.headers, body = req.body,
    connect_timeout = ctx.opts.sts_timeout or 5, timeout = ctx.opts.sts_timeout or 10 }
  local res, err
  if resp then
    res, err = core.decode(resp.status, resp.body or "", resp.headers)
  else
    err = nerr
  end
  if not res then
    local msg = common.scrub(tostring(type(err) == "table" and err.message or err), secrets)
    return common.fail("Credentials.AssumeRoleFailed", ("AssumeRole %s at %s failed: %s: %s"):format(
      tostring(role.role_arn), url, tostring(type(err) == "table" and err.code or "error"), msg))
  end
  local c = type(res.Credentials) == "table" and res.Credentials or {}
  local exp = common.parse_time(c.Expiration)
  if not (common.nonempty(c.AccessKeyId) and common.nonempty(c.AccessKeySecret) and exp) then
    return common.fail("Credentials.AssumeRoleFailed",
      "AssumeRole answer lacks Credentials.AccessKeyId, AccessKeySecret or Expiration")
  end
  return common.make(c.AccessKeyId, c.AccessKeySecret, c.SecurityToken, exp, role.source or "sts")
end

--- A refreshing provider for a role; base_provider supplies the signing
-- credentials (a static AccessKey or another provider).
function M.provider(ctx, role, base_provider, source)
  role.source = source
  return refresh.new {
    source = source, clock = ctx.clock, sleep = ctx.sleep, log = ctx.log, margin = ctx.opts.refresh_margin,
    fetch = function()
      if not common.nonempty(role.role_arn) then
        return common.fail("Credentials.BadConfig", source .. ": no role ARN")
      end
      local base, err = base_provider.get()
      if not base then return nil, err end
      return M.assume_role(ctx, role, base)
    end,
  }
end

return M
