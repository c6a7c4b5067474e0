-- Request authentication: V2 (HMAC-SHA1 over the canonical query) and V3
-- (ACS3-HMAC-SHA256 over the canonical request), nonce reuse and the
-- 15-minute timestamp window. Cryptography comes from the C core.
local errors = require "ecs.emulator.errors"
local codec = require "ecs.emulator.codec"
local clock = require "ecs.emulator.clock"

local pairs, type, abs = pairs, type, math.abs

local M = {}

M.API_VERSION = "2014-05-26"
M.WINDOW = 15 * 60

local V2_COMMON = { "Action", "Version", "AccessKeyId", "SignatureMethod", "SignatureVersion",
  "SignatureNonce", "Timestamp", "Signature" }
local V3_HEADERS = { "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce",
  "x-acs-content-sha256" }

local function fail(code, fmt, ...)
  local msg = fmt
  if select("#", ...) > 0 then msg = fmt:format(...) end
  return nil, errors.new(code, msg)
end

-- Nonce store: nonce -> wall time first seen; pruned when older than the
-- timestamp window (twice, for clock skew on either side).
local Nonces = {}
Nonces.__index = Nonces

function M.new_nonces()
  return setmetatable({ seen = {}, count = 0, next_prune = 4096 }, Nonces)
end

function Nonces:use(nonce, now)
  if self.seen[nonce] then return false end
  self.seen[nonce] = now
  self.count = self.count + 1
  if self.count >= self.next_prune then
    local n = 0
    for k, t in pairs(self.seen) do
      if now - t > 2 * M.WINDOW then self.seen[k] = nil else n = n + 1 end
    end
    self.count = n
    self.next_prune = n * 2 + 4096
  end
  return true
end

local function lookup_secret(st, id)
  local c = st.credentials[id]
  if c == nil then return nil end
  if type(c) == "string" then return c, nil end
  return c.secret, c.security_token
end

local function check_time(st, ts)
  if ts == nil then return fail("IllegalTimestamp", "The input parameter \"Timestamp\" is missing or invalid.") end
  local t = clock.parse_iso(ts)
  if not t then
    return fail("InvalidTimeStamp.Format",
      "Specified time stamp or date value is not well formatted (expected yyyy-MM-ddTHH:mm:ssZ in UTC).")
  end
  if st.check_timestamp and abs(t - st.clock:wall()) > M.WINDOW then
    return fail("InvalidTimeStamp.Expired",
      "Specified time stamp or date value is expired: it is more than 15 minutes away from the server time.")
  end
  return true
end

local function mask(s, secret)
  if secret and secret ~= "" then
    local enc = codec.percent_encode(secret)
    s = s:gsub(enc:gsub("%p", "%%%0"), "****")
    s = s:gsub(codec.percent_encode(enc):gsub("%p", "%%%0"), "****")
    s = s:gsub(secret:gsub("%p", "%%%0"), "****")
  end
  return s
end

local function check_version(version)
  if version ~= M.API_VERSION then
    return fail("InvalidVersion", "Specified parameter Version is not valid (this service speaks %s).", M.API_VERSION)
  end
  return true
end

-- After authentication: the nonce is spent, then the action must exist.
local function finish(st, nonce, action)
  if not st.nonces:use(nonce, st.clock:wall()) then
    return fail("SignatureNonceUsed", "Specified signature nonce was used already.")
  end
  if not st.actions[action] then
    return fail("InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
  end
  return true
end

-- A pair registered with a SecurityToken (STS credentials) needs it on every
-- request: missing -> InvalidSecurityToken.Malformed, another token ->
-- InvalidSecurityToken.MismatchWithAccessKey (the gateway's codes; both 400).
-- A token sent for a pair without one is ignored.
local function check_token(expected, got)
  if not expected then return true end
  if got == nil or got == "" then
    return fail("InvalidSecurityToken.Malformed",
      "Specified SecurityToken is missing or malformed: this AccessKeyId is temporary (STS) and needs its "
      .. "SecurityToken.")
  end
  if got ~= expected then
    return fail("InvalidSecurityToken.MismatchWithAccessKey",
      "Specified SecurityToken does not belong to this AccessKeyId.")
  end
  return true
end

local function verify_v2(st, req, params)
  for _, name in ipairs(V2_COMMON) do
    if params[name] == nil or params[name] == "" then
      if name == "Timestamp" then return check_time(st, nil) end
      return fail("Missing" .. name,
        "The input parameter \"%s\" that is mandatory for processing this request is not supplied.", name)
    end
  end
  local ok, err = check_version(params.Version)
  if not ok then return nil, err end
  if params.SignatureMethod ~= "HMAC-SHA1" then
    return fail("InvalidSignatureMethod", "Specified signature method is not supported (use HMAC-SHA1).")
  end
  if params.SignatureVersion ~= "1.0" then
    return fail("InvalidSignatureVersion", "Specified signature version is not supported (use 1.0).")
  end
  ok, err = check_time(st, params.Timestamp)
  if not ok then return nil, err end
  local secret, token = lookup_secret(st, params.AccessKeyId)
  if not secret then
    return fail("InvalidAccessKeyId.NotFound", "Specified access key is not found.")
  end
  if st.verify_signatures then
    local core = codec.require_core()
    local signed = {}
    for k, v in pairs(params) do
      if k ~= "Signature" then signed[k] = v end
    end
    local sts = core.v2_string_to_sign(req.method, signed)
    if core.v2_signature(secret, sts) ~= params.Signature then
      return fail("SignatureDoesNotMatch",
        "Specified signature is not matched with our calculation. server string to sign is:"
        .. mask(sts, params.SecurityToken))
    end
  end
  ok, err = check_token(token, params.SecurityToken)
  if not ok then return nil, err end
  ok, err = finish(st, params.SignatureNonce, params.Action)
  if not ok then return nil, err end
  return { version = "v2", action = params.Action, access_key_id = params.AccessKeyId,
    format = params.Format }
end

local function parse_authorization(h)
  local alg, rest = h:match("^%s*(%S+)%s+(.-)%s*$")
  if not alg then return nil end
  local out = { algorithm = alg }
  for part in rest:gmatch("[^,]+") do
    local k, v = part:match("^%s*([%w]+)=(.-)%s*$")
    if k then out[k] = v end
  end
  return out
end

local function verify_v3(st, req, query, headers, auth_header)
  local auth = parse_authorization(auth_header)
  if not auth or not auth.Credential or not auth.SignedHeaders or not auth.Signature then
    return fail("IncompleteSignature",
      "The request signature does not conform to Aliyun standards: the Authorization header must read "
      .. "'ACS3-HMAC-SHA256 Credential=...,SignedHeaders=...,Signature=...'.")
  end
  if auth.algorithm ~= "ACS3-HMAC-SHA256" then
    return fail("InvalidSignatureMethod", "Specified signature method is not supported (use ACS3-HMAC-SHA256).")
  end
  for _, name in ipairs(V3_HEADERS) do
    if headers[name] == nil or headers[name] == "" then
      if name == "x-acs-date" then return check_time(st, nil) end
      return fail("MissingParameter", "The request header \"%s\" that is mandatory for processing this "
        .. "request is not supplied.", name)
    end
  end
  local ok, err = check_version(headers["x-acs-version"])
  if not ok then return nil, err end
  ok, err = check_time(st, headers["x-acs-date"])
  if not ok then return nil, err end
  local secret, token = lookup_secret(st, auth.Credential)
  if not secret then
    return fail("InvalidAccessKeyId.NotFound", "Specified access key is not found.")
  end
  local signed_names, signed = {}, {}
  for name in auth.SignedHeaders:gmatch("[^;]+") do
    signed_names[name] = true
    signed[name] = headers[name] or ""
  end
  for _, name in ipairs(V3_HEADERS) do
    if not signed_names[name] then
      return fail("IncompleteSignature", "The request signature does not conform to Aliyun standards: "
        .. "header \"%s\" must be signed.", name)
    end
  end
  if not signed_names.host then
    return fail("IncompleteSignature", "The request signature does not conform to Aliyun standards: "
      .. "header \"host\" must be signed.")
  end
  if st.verify_signatures then
    local core = codec.require_core()
    local body_hash = core.sha256_hex(req.body or "")
    if headers["x-acs-content-sha256"]:lower() ~= body_hash then
      return fail("IncompleteSignature", "The request signature does not conform to Aliyun standards: "
        .. "x-acs-content-sha256 does not match the SHA-256 of the request body (server computed %s).", body_hash)
    end
    local cr, sh = core.v3_canonical_request(req.method, "/", query, signed, headers["x-acs-content-sha256"])
    local sts = core.v3_string_to_sign(cr)
    local sig = core.v3_signature(secret, sts)
    if sh ~= auth.SignedHeaders or sig ~= auth.Signature:lower() then
      local tok = headers["x-acs-security-token"]
      return fail("SignatureDoesNotMatch",
        "Specified signature is not matched with our calculation. server canonical request is:\n"
        .. mask(cr, tok) .. "\nserver string to sign is:" .. sts)
    end
  end
  ok, err = check_token(token, headers["x-acs-security-token"])
  if not ok then return nil, err end
  ok, err = finish(st, headers["x-acs-signature-nonce"], headers["x-acs-action"])
  if not ok then return nil, err end
  return { version = "v3", action = headers["x-acs-action"], access_key_id = auth.Credential }
end

-- Verify a request. query: params of the query string; params: query ∪ form
-- body. Returns auth info { version, action, access_key_id } or nil, err.
function M.verify(st, req, query, params)
  local headers = req.headers
  local authz = headers.authorization
  if authz and authz ~= "" then
    return verify_v3(st, req, query, headers, authz)
  end
  return verify_v2(st, req, params)
end

return M
