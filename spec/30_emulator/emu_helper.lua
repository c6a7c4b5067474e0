-- Helpers for the emulator service specs: a service on a fake clock, and
-- requests signed (V2 or V3) with the C core's functions.
local core = require "ecs.core"
local cjson = require "cjson"
local emulator = require "ecs.emulator"

local H = {}

H.T0 = 1795812000 -- 2026-11-27T20:40:00Z
H.core = core

-- A service with a fake clock. Returns svc, clock ({ t = epoch }).
function H.new(opts)
  opts = opts or {}
  local clock = { t = H.T0 }
  if opts.clock == nil then opts.clock = function() return clock.t end end
  return emulator.new(opts), clock
end

local nonce_n = 0
local function nonce()
  nonce_n = nonce_n + 1
  return "spec-nonce-" .. nonce_n .. "-" .. core.random_hex(8)
end

local function copy(t)
  local o = {}
  for k, v in pairs(t or {}) do o[k] = v end
  return o
end

-- A V2-signed request. o: method, id, secret, time (epoch), nonce,
-- in_query (params in the query string instead of a form body), host.
function H.v2_request(action, params, o)
  o = o or {}
  local method = o.method or "POST"
  local flat = core.flatten(params or {})
  flat.Action = action
  flat.Version = flat.Version or "2014-05-26"
  flat.Format = flat.Format or "JSON"
  flat.AccessKeyId = o.id or "testid"
  flat.SignatureMethod = "HMAC-SHA1"
  flat.SignatureVersion = "1.0"
  flat.SignatureNonce = o.nonce or nonce()
  flat.Timestamp = core.timestamp(math.floor(o.time or H.T0))
  local sts = core.v2_string_to_sign(method, flat)
  flat.Signature = core.v2_signature(o.secret or "testsecret", sts)
  local req = { method = method, path = "/", headers = { host = o.host or "127.0.0.1:8080" } }
  if o.in_query or method == "GET" then
    req.query, req.body = core.canonical_query(flat), ""
  else
    req.query = ""
    req.body = core.canonical_query(flat)
    req.headers["content-type"] = "application/x-www-form-urlencoded"
  end
  return req, sts
end

-- A V3-signed request (form body). o: id, secret, time, nonce, host, token.
function H.v3_request(action, params, o)
  o = o or {}
  local flat = core.flatten(params or {})
  local body = core.canonical_query(flat)
  local headers = {
    host = o.host or "127.0.0.1:8080",
    ["x-acs-action"] = action,
    ["x-acs-version"] = o.version or "2014-05-26",
    ["x-acs-date"] = core.timestamp(math.floor(o.time or H.T0)),
    ["x-acs-signature-nonce"] = o.nonce or nonce(),
    ["x-acs-content-sha256"] = core.sha256_hex(body),
    ["content-type"] = "application/x-www-form-urlencoded",
  }
  if o.token then headers["x-acs-security-token"] = o.token end
  local cr, signed = core.v3_canonical_request("POST", "/", {}, headers, headers["x-acs-content-sha256"])
  local sig = core.v3_signature(o.secret or "testsecret", core.v3_string_to_sign(cr))
  headers.authorization = "ACS3-HMAC-SHA256 Credential=" .. (o.id or "testid") .. ",SignedHeaders=" .. signed
    .. ",Signature=" .. sig
  headers.accept = "application/json"
  return { method = "POST", path = "/", query = "", headers = headers, body = body }
end

function H.decode(resp)
  if resp.body == nil or resp.body == "" then return nil end
  return cjson.decode(resp.body)
end

-- Sign (V2 by default, o.v3 for V3) at the fake clock's time and handle.
-- Returns status, decoded body, raw response.
function H.call(svc, clock, action, params, o)
  o = copy(o)
  o.time = o.time or clock.t
  local req = o.v3 and H.v3_request(action, params, o) or H.v2_request(action, params, o)
  local resp = svc:handle(req)
  return resp.status, H.decode(resp), resp
end

-- Call and assert success; returns the body.
function H.ok(svc, clock, action, params, o)
  local status, body = H.call(svc, clock, action, params, o)
  if status ~= 200 then
    error(action .. " failed: " .. tostring(status) .. " " .. tostring(body and body.Code) .. " "
      .. tostring(body and body.Message), 2)
  end
  return body
end

-- Call and return the error code and HTTP status (asserting it failed).
function H.err(svc, clock, action, params, o)
  local status, body = H.call(svc, clock, action, params, o)
  if status == 200 then error(action .. " unexpectedly succeeded", 2) end
  return body.Code, status, body
end

function H.plain_command(svc, clock, content, extra)
  local p = { RegionId = "cn-hangzhou", Name = "spec", Type = "RunShellScript", CommandContent = content,
    ContentEncoding = "PlainText" }
  for k, v in pairs(extra or {}) do p[k] = v end
  return H.ok(svc, clock, "CreateCommand", p).CommandId
end

function H.results(svc, clock, invoke_id, extra)
  local p = { RegionId = "cn-hangzhou", InvokeId = invoke_id, ContentEncoding = "PlainText", MaxResults = 50 }
  for k, v in pairs(extra or {}) do p[k] = v end
  local b = H.ok(svc, clock, "DescribeInvocationResults", p)
  local by = {}
  for _, r in ipairs(b.Invocation.InvocationResults.InvocationResult) do by[r.InstanceId] = r end
  return by, b
end

return H
