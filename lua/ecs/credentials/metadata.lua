--- The ECS instance RAM role from the metadata service (reference §8.4):
-- IMDSv2 session token first (PUT /latest/api/token), then the role name
-- (unless given) and its temporary credentials. 1 s timeouts; the base URL
-- is configurable; switched off by ALIBABA_CLOUD_ECS_METADATA_DISABLED=true
-- or `metadata = false` / `metadata = { disabled = true }`.
local common = require "ecs.credentials.common"
local refresh = require "ecs.credentials.refresh"

local type, tostring = type, tostring

local M = { name = "ecs_ram_role" }

M.URL = "http://100.100.100.200"
M.TOKEN_TTL = 21600
M.TIMEOUT = 1

local PATH = "/latest/meta-data/ram/security-credentials/"

--- Settings from the `metadata` option and the environment, or nil and the
-- reason the source is off.
function M.settings(ctx)
  local m = ctx.opts.metadata
  if m == false then return nil, "switched off by the 'metadata = false' option" end
  m = m or {}
  if m.disabled then return nil, "switched off by the 'metadata.disabled' option" end
  if common.is_true(ctx.getenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED")) then
    return nil, "switched off by ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"
  end
  local imdsv1 = m.imdsv1
  if imdsv1 == nil then imdsv1 = not common.is_true(ctx.getenv("ALIBABA_CLOUD_IMDSV1_DISABLED")) end
  local role = m.role_name
  if not common.nonempty(role) then role = ctx.getenv("ALIBABA_CLOUD_ECS_METADATA") end
  return {
    url = (m.url or M.URL):gsub("/+$", ""),
    role_name = common.nonempty(role) and role or nil,
    imdsv1 = imdsv1,
    timeout = m.timeout or M.TIMEOUT,
    token_ttl = m.token_ttl or M.TOKEN_TTL,
  }
end

local function get(ctx, s, path, token)
  local headers = {}
  if token then headers["X-aliyun-ecs-metadata-token"] = token end
  local resp, err = ctx.http { method = "GET", url = s.url .. path, headers = headers,
                              timeout = s.timeout, connect_timeout = s.timeout }
  if not resp then return nil, "GET " .. path .. ": " .. tostring(err and err.code or err) end
  if resp.status ~= 200 then return nil, "GET " .. path .. ": HTTP " .. tostring(resp.status) end
  return resp.body
end

-- IMDSv2 token, or nil and why (the caller falls back to v1 when allowed)
local function session_token(ctx, s)
  local resp, err = ctx.http { method = "PUT", url = s.url .. "/latest/api/token",
    headers = { ["X-aliyun-ecs-metadata-token-ttl-seconds"] = tostring(s.token_ttl) },
    timeout = s.timeout, connect_timeout = s.timeout }
  if not resp then return nil, "token request failed: " .. tostring(err and err.code or err) end
  if resp.status ~= 200 or not common.nonempty(resp.body) then
    return nil, "token request answered HTTP " .. tostring(resp.status)
  end
  return resp.body
end

--- One fetch of the role credentials: creds or nil, err.
function M.fetch(ctx, s)
  local token, terr = session_token(ctx, s)
  if not token then
    if not s.imdsv1 then
      return common.fail("Credentials.MetadataFailed", "ECS metadata: " .. terr .. " and IMDSv1 fallback is off")
    end
    if ctx.log then
      ctx.log { event = "warning", source = M.name, message = "ECS metadata: " .. terr .. "; using IMDSv1" }
    end
  end
  local role = s.role_name
  if not role then
    local body, err = get(ctx, s, PATH, token)
    if not body then return common.fail("Credentials.MetadataFailed", "ECS metadata: " .. err) end
    role = body:match("^%s*([^%s]+)")
    if not role then return common.fail("Credentials.MetadataFailed", "ECS metadata: no RAM role attached") end
  end
  local body, err = get(ctx, s, PATH .. role, token)
  if not body then return common.fail("Credentials.MetadataFailed", "ECS metadata: " .. err) end
  local doc = common.json_decode(body)
  if type(doc) ~= "table" or doc.Code ~= "Success" then
    return common.fail("Credentials.MetadataFailed", "ECS metadata: role '" .. role .. "' answered Code="
      .. tostring(type(doc) == "table" and doc.Code or "(not JSON)"))
  end
  local exp = common.parse_time(doc.Expiration)
  if not (common.nonempty(doc.AccessKeyId) and common.nonempty(doc.AccessKeySecret)
          and common.nonempty(doc.SecurityToken) and exp) then
    return common.fail("Credentials.MetadataFailed",
      "ECS metadata: answer lacks AccessKeyId, AccessKeySecret, SecurityToken or Expiration")
  end
  return common.make(doc.AccessKeyId, doc.AccessKeySecret, doc.SecurityToken, exp, M.name)
end

--- A refreshing provider for the instance role (role_name overrides discovery).
function M.provider(ctx, role_name)
  local s, why = M.settings(ctx)
  if not s then return nil, why end
  if common.nonempty(role_name) then s.role_name = role_name end
  return refresh.new {
    source = M.name, clock = ctx.clock, sleep = ctx.sleep, log = ctx.log, margin = ctx.opts.refresh_margin,
    fetch = function() return M.fetch(ctx, s) end,
  }
end

M.resolve = function(ctx) return M.provider(ctx) end

return M
