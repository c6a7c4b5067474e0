--- A plain HTTP request over a cosocket, in the shape the credential chain
-- expects (metadata service, STS): http(req) -> { status, headers, body } |
-- nil, err. Inside nginx this replaces the libcurl helper, so refreshing
-- credentials never blocks a worker.
local errors = require "ecs.errors"
local phase = require "ecs.ngx.phase"
local http = require "ecs.ngx.http"

local tostring, math_floor = tostring, math.floor

local M = {}

local function fail(code, message, sent)
  return nil, errors.new { code = code, message = message, retryable = true, sent = sent }
end

--- http{ method, url, headers, body, timeout, connect_timeout, verify } ->
-- response { status, headers, body } | nil, err. timeout values in seconds
-- (default 1, as for the metadata service); verify defaults to true.
function M.http(req)
  local ok, perr = phase.check("HTTP " .. tostring(req.method or "GET"))
  if not ok then return nil, perr end
  local u, msg = http.parse_url(tostring(req.url))
  if not u then return fail("Credentials.BadURL", tostring(req.url) .. ": " .. msg, false) end
  local ngx = phase.ngx()
  local sock = ngx.socket.tcp()
  local ct = math_floor((req.connect_timeout or 1) * 1000)
  local rt = math_floor((req.timeout or 1) * 1000)
  sock:settimeouts(ct, rt, rt)
  local cerr
  ok, cerr = sock:connect(u.host, u.port)
  if not ok then
    return fail(cerr == "timeout" and "Network.Timeout" or "Network.ConnectFailed",
      "connect to " .. u.authority .. " failed: " .. tostring(cerr), false)
  end
  if u.scheme == "https" and sock:getreusedtimes() == 0 then
    ok, cerr = sock:sslhandshake(false, u.host, req.verify ~= false)
    if not ok then
      sock:close()
      return nil, errors.new { code = "Network.TLS", retryable = false, sent = false,
        message = "TLS handshake with " .. u.host .. " failed: " .. tostring(cerr) }
    end
  end
  local bytes = http.serialize({ method = req.method or "GET", path = u.path, host = u.authority,
                                 headers = req.headers, body = req.body }, "aliyun-ecs-lua (openresty)")
  ok, cerr = sock:send(bytes)
  if not ok then
    sock:close()
    return fail("Network.SendFailed", "sending to " .. u.authority .. " failed: " .. tostring(cerr), false)
  end
  local res, rerr, stage = http.read(sock)
  if not res then
    sock:close()
    return fail(rerr == "timeout" and "Network.Timeout" or "Network.ReceiveFailed",
      "reading the answer from " .. u.authority .. " failed (" .. tostring(stage) .. "): " .. tostring(rerr), true)
  end
  if res.keepalive then
    if not sock:setkeepalive(60000) then sock:close() end
  else
    sock:close()
  end
  return { status = res.status, headers = res.headers, body = res.body }
end

return M
