--- Shared pieces of the credential providers: the credentials object (its
-- tostring never shows the secret or the token), file reading, JSON, the
-- HTTP helper used for the metadata service and STS.
local core = require "ecs.core"
local errors = require "ecs.errors"

local type, tostring, setmetatable, io_open = type, tostring, setmetatable, io.open

local M = {}

local function mask_id(id)
  if type(id) ~= "string" then return "-" end
  if #id <= 8 then return "****" end
  return id:sub(1, 4) .. "****"
end
M.mask_id = mask_id

local Creds = {}
Creds.__index = Creds
Creds.__tostring = function(c)
  return ("ecs.credentials(source=%s, access_key_id=%s, token=%s, expiration=%s)"):format(
    tostring(c.source), mask_id(c.access_key_id), c.security_token and "yes" or "no",
    c.expiration and core.timestamp(c.expiration) or "none")
end

function M.nonempty(s)
  return type(s) == "string" and s ~= ""
end

--- make(id, secret, token, expiration, source) -> credentials object
function M.make(id, secret, token, expiration, source)
  return setmetatable({ access_key_id = id, access_key_secret = secret,
    security_token = M.nonempty(token) and token or nil, expiration = expiration, source = source }, Creds)
end

function M.is_true(v)
  return v == "true" or v == "TRUE" or v == "True" or v == "1"
end

function M.fail(code, message)
  return nil, errors.new { code = code, message = message }
end

--- read_file(path) -> text | nil, reason
function M.read_file(path)
  local f, err = io_open(path, "rb")
  if not f then return nil, tostring(err) end
  local s = f:read("*a")
  f:close()
  return s
end

local cjson
function M.json_decode(text)
  cjson = cjson or require("cjson.safe").new()
  local v, err = cjson.decode(text)
  if v == nil then return nil, tostring(err) end
  return v
end

--- The default HTTP function: request { method, url, headers, body,
-- timeout, connect_timeout } -> response { status, headers, body } | nil, err.
-- One C client (kept-alive connection) per base URL and timeouts.
function M.http_client()
  local clients = {}
  return function(req)
    local base = req.url:match("^(https?://[^/]+)")
    if not base then return M.fail("Credentials.BadURL", "not an http(s) URL: " .. tostring(req.url)) end
    local key = base .. "|" .. tostring(req.connect_timeout) .. "|" .. tostring(req.timeout)
    local c = clients[key]
    if not c then
      c = core.new { endpoint = base, connect_timeout = req.connect_timeout or 1, timeout = req.timeout or 1 }
      clients[key] = c
    end
    return c:send { method = req.method, url = req.url, headers = req.headers or {}, body = req.body }
  end
end

local function plain(s)
  return (s:gsub("%p", "%%%0"))
end

--- scrub(text, secrets) -> text with every secret (raw, percent-encoded once
-- and twice) replaced by "****". Secrets shorter than 4 bytes are left alone.
function M.scrub(text, secrets)
  if type(text) ~= "string" then return text end
  for i = 1, #secrets do
    local s = secrets[i]
    if type(s) == "string" and #s >= 4 then
      local once = core.percent_encode(s)
      local twice = core.percent_encode(once)
      text = text:gsub(plain(twice), "****"):gsub(plain(once), "****"):gsub(plain(s), "****")
    end
  end
  return text
end

--- Epoch seconds from an ISO 8601 UTC time, or nil.
function M.parse_time(s)
  if type(s) ~= "string" then return nil end
  return core.parse_timestamp(s)
end

return M
