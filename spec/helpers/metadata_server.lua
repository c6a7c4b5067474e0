-- Spec helper: a loopback fake of the world around the ECS API, served by
-- bin/ecs-emulator --service <this file> in its own process:
--   * the ECS metadata service (IMDSv2 token, role name, role credentials),
--   * STS AssumeRole (V2 signature verified with the core),
--   * the ECS API itself (an inner emulator, optionally with a skewed clock,
--     or a server that canonicalizes V2 requests differently),
--   * a forward proxy (requests in absolute form are answered like the rest;
--     the log keeps the Host header they carried).
--
--   local fake = require("helpers.metadata_server").start()
--   fake.url                                   -- http://127.0.0.1:PORT
--   fake:configure { role = "R", imdsv2 = false, skew = 3600, ... }
--   fake:log()                                 -- requests seen (no secrets)
--   fake:stop()
--
-- configure() keys: role (role name, default "EcsRamRoleTest"), imdsv2
-- (false: the token request answers 403), require_token (v1 GETs refused),
-- expires_in (seconds, default 3600), fail_credentials (500 on the role
-- document), sts_keys ({ id = secret }, default testid/testsecret),
-- sts_fail (AssumeRole answers 500), skew (seconds the ECS clock runs
-- ahead; default the launcher's --clock-offset), plus_quirk (V2 ECS signatures computed with '+' for spaces),
-- oidc_token (the OIDC token AssumeRoleWithOIDC accepts). GET
-- /credentials-uri answers a credentials document.
local cjson = require("cjson").new()

local M = {}

local SOURCE = debug.getinfo(1, "S").source
M.path = SOURCE:match("^@(.*)$")

local ROLE_PATH = "/latest/meta-data/ram/security-credentials/"

local function now()
  local ok, socket = pcall(require, "socket")
  if ok then return socket.gettime() end
  return os.time()
end

local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t))
end

local function reply(status, body, ctype)
  if type(body) == "table" then body = cjson.encode(body) end
  return { status = status, headers = { ["content-type"] = ctype or "application/json" }, body = body or "" }
end

local Fake = {}
Fake.__index = Fake

local DEFAULTS = { role = "EcsRamRoleTest", imdsv2 = true, require_token = false, expires_in = 3600,
                   fail_credentials = false, sts_fail = false, plus_quirk = false }

function M.new(options)
  local self = setmetatable({ options = options or {}, log = {}, n = 0, tokens = {}, issued = {} }, Fake)
  self:configure({})
  return self
end

function Fake:configure(cfg)
  local c = {}
  for k, v in pairs(DEFAULTS) do c[k] = v end
  for k, v in pairs(cfg) do c[k] = v end
  c.sts_keys = c.sts_keys or { testid = "testsecret" }
  c.skew = c.skew or self.options.clock_offset or 0
  self.cfg = c
  local emulator = require "ecs.emulator"
  self.ecs = emulator.new { credentials = self.options.credentials, clock_offset = c.skew }
  for id, v in pairs(self.issued) do self.ecs:set_credential(id, v.secret, v.security_token) end
end

-- temporary credentials handed out are accepted by the inner ECS emulator
function Fake:accept(id, secret, token)
  self.issued[id] = { secret = secret, security_token = token }
  self.ecs:set_credential(id, secret, token)
end

function Fake:record(req, extra)
  local e = { method = req.method, path = req.path, host = req.headers.host,
              token = req.headers["x-aliyun-ecs-metadata-token"] ~= nil,
              ttl = req.headers["x-aliyun-ecs-metadata-token-ttl-seconds"] }
  for k, v in pairs(extra or {}) do e[k] = v end
  self.log[#self.log + 1] = e
end

function Fake:metadata(req)
  local c = self.cfg
  if req.path == "/latest/api/token" then
    self:record(req)
    if req.method ~= "PUT" then return reply(405, "use PUT", "text/plain") end
    if not c.imdsv2 then return reply(403, "forbidden", "text/plain") end
    if not req.headers["x-aliyun-ecs-metadata-token-ttl-seconds"] then return reply(400, "no ttl", "text/plain") end
    self.n = self.n + 1
    local tok = "imds-token-" .. self.n
    self.tokens[tok] = true
    return reply(200, tok, "text/plain")
  end
  local tok = req.headers["x-aliyun-ecs-metadata-token"]
  if (tok and not self.tokens[tok]) or (c.require_token and not tok) then
    self:record(req, { refused = true })
    return reply(401, "unauthorized", "text/plain")
  end
  if req.path == ROLE_PATH then
    self:record(req)
    return reply(200, c.role, "text/plain")
  end
  local role = req.path:sub(#ROLE_PATH + 1)
  self:record(req, { role = role })
  if role ~= c.role then return reply(404, "no such role", "text/plain") end
  if c.fail_credentials then return reply(500, "metadata failure", "text/plain") end
  self.n = self.n + 1
  self:accept("STS.meta" .. self.n, "metasecret-" .. self.n, "metatoken-" .. self.n)
  return reply(200, { Code = "Success", AccessKeyId = "STS.meta" .. self.n, AccessKeySecret = "metasecret-" .. self.n,
    SecurityToken = "metatoken-" .. self.n, Expiration = iso(now() + c.expires_in),
    LastUpdated = iso(now()) })
end

local function params_of(core, req)
  local p = {}
  for k, v in pairs(core.parse_query(req.query or "")) do p[k] = v end
  if req.body and req.body ~= "" then
    for k, v in pairs(core.parse_query(req.body)) do p[k] = v end
  end
  return p
end

function Fake:sts(req, p)
  local core = require "ecs.core"
  local c = self.cfg
  self:record(req, { action = "AssumeRole", role_arn = p.RoleArn, session = p.RoleSessionName,
                     duration = p.DurationSeconds, access_key_id = p.AccessKeyId, version = p.Version })
  local secret = c.sts_keys[p.AccessKeyId or ""]
  if not secret then
    return reply(404, { Code = "InvalidAccessKeyId.NotFound", Message = "Specified access key is not found.",
                        RequestId = "sts-req" })
  end
  local signed = {}
  for k, v in pairs(p) do if k ~= "Signature" then signed[k] = v end end
  local sts = core.v2_string_to_sign(req.method, signed)
  if core.v2_signature(secret, sts) ~= p.Signature then
    return reply(400, { Code = "SignatureDoesNotMatch", RequestId = "sts-req",
      Message = "Specified signature is not matched with our calculation. server string to sign is:" .. sts })
  end
  if c.sts_fail then return reply(500, { Code = "InternalError", Message = "sts failure", RequestId = "sts-req" }) end
  self.n = self.n + 1
  local dur = tonumber(p.DurationSeconds) or 3600
  self:accept("STS.role" .. self.n, "rolesecret-" .. self.n, "roletoken-" .. self.n)
  return reply(200, { RequestId = "sts-req", AssumedRoleUser = { Arn = p.RoleArn },
    Credentials = { AccessKeyId = "STS.role" .. self.n, AccessKeySecret = "rolesecret-" .. self.n,
      SecurityToken = "roletoken-" .. self.n, Expiration = iso(now() + math.min(dur, c.expires_in)) } })
end

-- AssumeRoleWithOIDC: unsigned; the token must be the configured one
function Fake:oidc(req, p)
  local c = self.cfg
  self:record(req, { action = "AssumeRoleWithOIDC", role_arn = p.RoleArn, provider_arn = p.OIDCProviderArn,
                     session = p.RoleSessionName, duration = p.DurationSeconds, version = p.Version,
                     signed = p.Signature ~= nil })
  if p.OIDCToken ~= (c.oidc_token or "oidc-token-value") then
    return reply(400, { Code = "InvalidParameter.OIDCToken", Message = "The OIDC token is not valid.",
                        RequestId = "sts-oidc" })
  end
  self.n = self.n + 1
  self:accept("STS.oidc" .. self.n, "oidcsecret-" .. self.n, "oidctoken-" .. self.n)
  return reply(200, { RequestId = "sts-oidc", Credentials = { AccessKeyId = "STS.oidc" .. self.n,
    AccessKeySecret = "oidcsecret-" .. self.n, SecurityToken = "oidctoken-" .. self.n,
    Expiration = iso(now() + c.expires_in) } })
end

-- a credentials URI document
function Fake:uri(req)
  self:record(req)
  self.n = self.n + 1
  self:accept("STS.uri" .. self.n, "urisecret-" .. self.n, "uritoken-" .. self.n)
  return reply(200, { Code = "Success", AccessKeyId = "STS.uri" .. self.n, AccessKeySecret = "urisecret-" .. self.n,
    SecurityToken = "uritoken-" .. self.n, Expiration = iso(now() + self.cfg.expires_in) })
end

-- V2 requests answered as a server that encodes spaces as '+' would
function Fake:quirk(req, p)
  local core = require "ecs.core"
  local signed = {}
  for k, v in pairs(p) do if k ~= "Signature" then signed[k] = v end end
  local canon = core.canonical_query(signed):gsub("%%20", "+")
  local sts = req.method .. "&%2F&" .. core.percent_encode(canon)
  self:record(req, { action = p.Action, quirk = true })
  return reply(400, { Code = "SignatureDoesNotMatch", RequestId = "quirk-req", HostId = "ecs.aliyuncs.com",
    Message = "Specified signature is not matched with our calculation. server string to sign is:" .. sts })
end

function Fake:handle(req)
  req.headers = req.headers or {}
  local path = req.path or "/"
  if path == "/_fake/config" and req.method == "POST" then
    local ok, doc = pcall(cjson.decode, req.body or "")
    if not ok or type(doc) ~= "table" then return reply(400, { error = "bad JSON" }) end
    self:configure(doc)
    return reply(200, { ok = true })
  elseif path == "/_fake/log" then
    if req.method == "DELETE" then self.log = {} return reply(200, { ok = true }) end
    local out = setmetatable({}, cjson.array_mt)
    for i, e in ipairs(self.log) do out[i] = e end
    return reply(200, { requests = out })
  elseif path:sub(1, 8) == "/latest/" then
    return self:metadata(req)
  elseif path == "/credentials-uri" then
    return self:uri(req)
  end
  local core = require "ecs.core"
  local p = params_of(core, req)
  if p.Action == "AssumeRole" then return self:sts(req, p) end
  if p.Action == "AssumeRoleWithOIDC" then return self:oidc(req, p) end
  if self.cfg.plus_quirk and p.Signature then return self:quirk(req, p) end
  self:record(req, { action = req.headers["x-acs-action"] or p.Action })
  return self.ecs:handle(req)
end

-- ------------------------------------------------------------- spec side

local Handle = {}

--- start() -> the running fake (the emulator helper's object plus
-- configure(), log() and clear_log()).
function M.start(opts)
  local helper = require "helpers.emulator"
  local args = { "--service", M.path }
  for _, a in ipairs(opts and opts.args or {}) do args[#args + 1] = a end
  local srv = helper.start { args = args }
  for k, f in pairs(Handle) do srv[k] = f end
  return srv
end

function Handle:configure(cfg)
  local body, status = self:admin("POST", "/_fake/config", cfg)
  assert(status == 200, "configure failed: " .. tostring(body))
end

function Handle:log()
  return self:admin("GET", "/_fake/log").requests
end

function Handle:clear_log()
  self:admin("DELETE", "/_fake/log")
end

return M
