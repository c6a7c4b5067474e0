--- HTTP/1.1 over one nginx cosocket: write a prepared request, read the
-- response (content-length, chunked, or until close), report whether the
-- connection may go back to the pool.
local pairs, tonumber, concat, lower, find, sub = pairs, tonumber, table.concat, string.lower, string.find, string.sub

local M = {}

M.MAX_BODY = 64 * 1024 * 1024

--- The request bytes for a prepared request (cl:prepare) with our own
-- Host, Content-Length, Connection and User-Agent headers.
function M.serialize(req, user_agent)
  local body = req.body or ""
  local out = { (req.method or "POST") .. " " .. (req.path or "/") .. " HTTP/1.1", "Host: " .. req.host }
  for name, value in pairs(req.headers or {}) do
    local n = lower(name)
    if n ~= "host" and n ~= "content-length" and n ~= "connection" and n ~= "user-agent" then
      out[#out + 1] = name .. ": " .. value
    end
  end
  out[#out + 1] = "User-Agent: " .. user_agent
  out[#out + 1] = "Content-Length: " .. #body
  out[#out + 1] = "Connection: keep-alive"
  return concat(out, "\r\n") .. "\r\n\r\n" .. body
end

-- status line and headers; nil, err, stage on failure
local function read_head(sock)
  local line, err = sock:receive("*l")
  if not line then return nil, err, "status" end
  local major, minor, status = line:match("^HTTP/(%d)%.(%d) (%d%d%d)")
  if not status then return nil, "bad status line", "status" end
  local headers = {}
  while true do
    local h
    h, err = sock:receive("*l")
    if not h then return nil, err, "headers" end
    if h == "" then break end
    local name, value = h:match("^([^:%s]+)%s*:%s*(.-)%s*$")
    if name then
      name = lower(name)
      local old = headers[name]
      headers[name] = old and (old .. ", " .. value) or value
    end
  end
  return { status = tonumber(status), version = tonumber(major) + tonumber(minor) / 10, headers = headers }
end

local function read_chunked(sock)
  local parts, total = {}, 0
  while true do
    local line, err = sock:receive("*l")
    if not line then return nil, err end
    local hex = line:match("^%s*(%x+)")
    local size = hex and tonumber(hex, 16)
    if not size then return nil, "bad chunk size line" end
    if size == 0 then
      repeat -- trailers up to the empty line
        line, err = sock:receive("*l")
        if not line then return nil, err end
      until line == ""
      return concat(parts)
    end
    total = total + size
    if total > M.MAX_BODY then return nil, "response body too large" end
    local data
    data, err = sock:receive(size)
    if not data then return nil, err end
    parts[#parts + 1] = data
    local crlf
    crlf, err = sock:receive(2)
    if crlf ~= "\r\n" then return nil, err or "bad chunk terminator" end
  end
end

local function wants_close(res)
  local conn = lower(res.headers.connection or "")
  if find(conn, "close", 1, true) then return true end
  if res.version < 1.1 then return not find(conn, "keep-alive", 1, true) end
  return false
end

--- read(sock) -> response { status, headers, body, keepalive } | nil, err, stage
-- stage: "status" (nothing of the answer was read), "headers" or "body".
function M.read(sock)
  local res, err, stage
  repeat
    res, err, stage = read_head(sock)
    if not res then return nil, err, stage end
  until res.status >= 200 or res.status == 101
  local h = res.headers
  local body
  local te = lower(h["transfer-encoding"] or "")
  if res.status == 204 or res.status == 304 then
    body = ""
  elseif te ~= "" and te ~= "identity" then
    if not find(te, "chunked", 1, true) then return nil, "unsupported transfer-encoding " .. te, "body" end
    body, err = read_chunked(sock)
  elseif h["content-length"] then
    local n = tonumber(h["content-length"])
    if not n or n < 0 or n ~= math.floor(n) then return nil, "bad content-length", "body" end
    if n > M.MAX_BODY then return nil, "response body too large", "body" end
    if n == 0 then body = "" else body, err = sock:receive(n) end
  else
    body, err = sock:receive("*a")
    res.keepalive = false
  end
  if not body then return nil, err, "body" end
  res.body = body
  if res.keepalive == nil then res.keepalive = not wants_close(res) end
  return res
end

--- Splits an endpoint URL: scheme, host, port (number), path prefix.
function M.parse_url(url)
  local scheme, rest = url:match("^(https?)://(.+)$")
  if not scheme then return nil, "endpoint must start with http:// or https://" end
  local authority = rest:match("^[^/]*")
  local host, port
  if sub(authority, 1, 1) == "[" then
    host, port = authority:match("^%[([^%]]+)%]:?(%d*)$")
  else
    host, port = authority:match("^([^:]+):?(%d*)$")
  end
  if not host or host == "" then return nil, "endpoint has no host" end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  if port < 1 or port > 65535 then return nil, "endpoint port out of range" end
  local path = sub(rest, #authority + 1)
  return { scheme = scheme, host = host, port = port, path = path ~= "" and path or "/",
           authority = authority }
end

return M
