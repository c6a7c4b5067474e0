--- Signature diagnosis: on SignatureDoesNotMatch the service echoes the
-- string it signed ("server string to sign is:..."; V3 servers may also echo
-- the canonical request). We rebuild ours for the same nonce and time and
-- compare: equal strings mean a wrong AccessKeySecret; different ones mean a
-- canonicalization difference, reported with the first differing byte.
local core = require "ecs.core"
local common = require "ecs.credentials.common"

local type, tostring, pairs, math_max, math_min = type, tostring, pairs, math.max, math.min

local M = {}

-- both sides with secrets replaced by the same mark (the core itself may
-- already have put "<redacted>" where a secret was echoed)
local function clean(s, secrets)
  return (common.scrub(s, secrets):gsub("<redacted>", "****"))
end

--- parse(message) -> { sts =, canonical = } pieces echoed by the server, or nil
function M.parse(message)
  if type(message) ~= "string" then return nil end
  local sts = message:match("server string to sign is:%s*(.-)%s*$")
  if not sts or sts == "" then return nil end
  local cr = message:match("server canonical request is:\n(.-)\nserver string to sign is:")
  return { sts = sts, canonical = cr }
end

--- first_difference(a, b) -> byte offset (1-based) of the first difference, or nil when equal
function M.first_difference(a, b)
  if a == b then return nil end
  local n = math_min(#a, #b)
  for i = 1, n do
    if a:byte(i) ~= b:byte(i) then return i end
  end
  return n + 1
end

local function excerpt(s, at)
  local from = math_max(1, at - 24)
  local text = s:sub(from, at + 24)
  text = text:gsub("\n", "\\n")
  return (from > 1 and "..." or "") .. text .. (at + 24 < #s and "..." or "")
end

local function line_of(s, at)
  local line = 1
  for _ in s:sub(1, at - 1):gmatch("\n") do line = line + 1 end
  return line
end

--- compare(ours, theirs, what) -> diagnosis table
-- { kind = "secret" | "canonicalization", offset =, line =, ours =, server =, text = }
function M.compare(ours, theirs, what)
  local at = M.first_difference(ours, theirs)
  if not at then
    return { kind = "secret", text = "our " .. what .. " equals the server's, so the AccessKeySecret is wrong "
      .. "(it does not belong to this AccessKeyId)" }
  end
  local d = { kind = "canonicalization", offset = at, line = line_of(theirs, at),
              ours = excerpt(ours, at), server = excerpt(theirs, at) }
  d.text = ("our %s differs from the server's at byte %d%s: ours '%s', server '%s'"):format(what, at,
    what == "canonical request" and (" (line " .. d.line .. ")") or "", d.ours, d.server)
  return d
end

local function flat_of(req)
  local flat = {}
  local q = req.url and req.url:match("%?(.*)$")
  if q then for k, v in pairs(core.parse_query(q)) do flat[k] = v end end
  if req.body and req.body ~= "" then
    for k, v in pairs(core.parse_query(req.body)) do flat[k] = v end
  end
  return flat
end

local function v2(server, prepare, secrets)
  local enc = server.sts:match("^[^&]*&[^&]*&(.*)$")
  if not enc then return nil end
  local flat = core.parse_query(core.percent_decode(enc))
  local ts = core.parse_timestamp(flat.Timestamp or "")
  if not flat.SignatureNonce or not ts then return nil end
  local req = prepare { nonce = flat.SignatureNonce, timestamp = ts }
  if not req then return nil end
  local ours = flat_of(req)
  if ours.SignatureNonce ~= flat.SignatureNonce then return nil end
  ours.Signature = nil
  local sts = core.v2_string_to_sign(req.method, ours)
  return M.compare(clean(sts, secrets), clean(server.sts, secrets), "string to sign")
end

local function v3(server, prepare, secrets)
  local cr = server.canonical
  if not cr then return nil end
  local date = cr:match("\nx%-acs%-date:([^\n]*)")
  local nonce = cr:match("\nx%-acs%-signature%-nonce:([^\n]*)")
  local ts = date and core.parse_timestamp(date)
  if not ts or not nonce then return nil end
  local req = prepare { nonce = nonce, timestamp = ts }
  if not req or not req.headers or req.headers["x-acs-signature-nonce"] ~= nonce then return nil end
  local q = req.url and req.url:match("%?(.*)$")
  local ours = core.v3_canonical_request(req.method, req.path or "/", q and core.parse_query(q) or {},
                                         req.headers, req.headers["x-acs-content-sha256"] or "")
  return M.compare(clean(ours, secrets), clean(cr, secrets), "canonical request")
end

--- diagnose(err, prepare, secrets, version) -> diagnosis table or nil.
-- prepare(opts) returns our signed request for the same action and params
-- with the given nonce and timestamp; secrets are scrubbed from both sides.
function M.diagnose(err, prepare, secrets, version)
  local server = M.parse(err and err.message)
  if not server then return nil end
  local ok, d
  if version == "v2" or server.sts:match("^%u+&") then
    ok, d = pcall(v2, server, prepare, secrets)
  else
    ok, d = pcall(v3, server, prepare, secrets)
  end
  if ok and d then return d end
  return { kind = "unknown", text = "the server's answer does not show enough to compare (" ..
    tostring(ok and "no nonce/time in the echo" or d) .. ")" }
end

return M
