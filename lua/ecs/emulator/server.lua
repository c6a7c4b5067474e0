-- ecs.emulator.server: a loopback HTTP/1.1 host for the emulator's service.
--
-- Why this shape: lua-socket and lua-sec are Debian packages that exist for
-- every Lua the project supports (5.1-5.4, LuaJIT) and are already needed by
-- the suite, so the host adds no dependency. A single socket.select() loop
-- with one coroutine per connection serves many connections at once, lets a
-- response wait (`resp.delay`) without blocking anyone else, and stays plain
-- Lua that reads the same on every version. lua-http/cqueues or luv would
-- each be a new native dependency, and nginx would need a config file and a
-- writable prefix per run for something this small.
--
-- syntax: srv = server.new(service, opts); port = srv:listen(); srv:run()
local socket = require "socket"

local type, tostring, tonumber, pairs, ipairs = type, tostring, tonumber, pairs, ipairs
local pcall, error, setmetatable = pcall, error, setmetatable
local string_find, string_sub, string_lower, string_format = string.find, string.sub, string.lower, string.format
local string_match, string_gsub, string_gmatch = string.match, string.gsub, string.gmatch
local table_concat, table_remove = table.concat, table.remove
local co_create, co_resume, co_yield, co_status = coroutine.create, coroutine.resume, coroutine.yield,
  coroutine.status
local math_min, math_floor = math.min, math.floor
local gettime = socket.gettime

local M = {}

local MAX_HEAD = 64 * 1024
local CHUNK = 64 * 1024

local REASONS = {
  [100] = "Continue", [200] = "OK", [201] = "Created", [204] = "No Content",
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
  [405] = "Method Not Allowed", [408] = "Request Timeout", [409] = "Conflict",
  [413] = "Payload Too Large", [429] = "Too Many Requests", [431] = "Request Header Fields Too Large",
  [500] = "Internal Server Error", [501] = "Not Implemented", [502] = "Bad Gateway",
  [503] = "Service Unavailable", [504] = "Gateway Timeout", [505] = "HTTP Version Not Supported",
}

-- A minimal JSON string escape for the host's own error bodies.
local function json_string(s)
  s = string_gsub(tostring(s), '[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" end
    return string_format("\\u%04x", c:byte())
  end)
  return '"' .. s .. '"'
end

local function error_body(code, message)
  return '{"Code":' .. json_string(code) .. ',"Message":' .. json_string(message) ..
    ',"RequestId":"00000000-0000-0000-0000-000000000000","HostId":"emulator"}'
end

local Server = {}
Server.__index = Server

local function check_opts(opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error("server.new: opts must be a table, got " .. type(opts), 3) end
  local known = { host = true, port = true, tls = true, log = true, max_connections = true,
                  max_body = true, idle_timeout = true, request_timeout = true, stdin_exit = true,
                  on_error = true }
  for k in pairs(opts) do
    if not known[k] then error("server.new: unknown option '" .. tostring(k) .. "'", 3) end
  end
  if opts.port ~= nil and (type(opts.port) ~= "number" or opts.port < 0 or opts.port > 65535
      or opts.port ~= math_floor(opts.port)) then
    error("server.new: port must be an integer 0-65535, got " .. tostring(opts.port), 3)
  end
  if opts.tls ~= nil and (type(opts.tls) ~= "table" or type(opts.tls.cert) ~= "string"
      or type(opts.tls.key) ~= "string") then
    error("server.new: tls must be { cert = FILE, key = FILE }", 3)
  end
  return opts
end

--- Build a host for `service` (anything with service:handle(request) -> response).
function M.new(service, opts)
  if type(service) ~= "table" and type(service) ~= "userdata" then
    error("server.new: service must be an object with a handle method, got " .. type(service), 2)
  end
  if type(service.handle) ~= "function" then
    error("server.new: service has no handle method", 2)
  end
  opts = check_opts(opts)
  local self = setmetatable({
    service = service,
    host = opts.host or "127.0.0.1",
    port = opts.port or 0,
    tls = opts.tls,
    log = opts.log,                     -- file handle (or nil): access log
    on_error = opts.on_error,           -- function(msg) for internal errors (default: stderr)
    max_connections = opts.max_connections or 512,
    max_body = opts.max_body or 64 * 1024 * 1024,
    idle_timeout = opts.idle_timeout or 120,
    request_timeout = opts.request_timeout or 60,
    stdin_exit = opts.stdin_exit,
    waits = {},                         -- coroutine -> { sock =, kind = "r"|"w"|nil, at = deadline }
    conns = {},                         -- coroutine -> connection { sock =, buf = } (closed at stop)
    nconns = 0,
    stopping = false,
    stats = { connections = 0, requests = 0 },
  }, Server)
  return self
end

--- Bind and listen. Returns the port, or nil and a message.
function Server:listen()
  if self.tls then
    local ok, ssl = pcall(require, "ssl")
    if not ok then return nil, "TLS needs lua-sec (module 'ssl'): " .. tostring(ssl) end
    local ctx, err = ssl.newcontext {
      mode = "server", protocol = "any", key = self.tls.key, certificate = self.tls.cert,
      verify = "none", options = { "all", "no_sslv2", "no_sslv3" },
    }
    if not ctx then return nil, "cannot load TLS certificate/key: " .. tostring(err) end
    self.ssl, self.ssl_ctx = ssl, ctx
  end
  local ipv6 = string_find(self.host, ":", 1, true) and socket.tcp6
  local srv, err = (ipv6 or socket.tcp)()
  if not srv then return nil, "cannot create socket: " .. tostring(err) end
  srv:setoption("reuseaddr", true)
  local ok
  ok, err = srv:bind(self.host, self.port)
  if not ok then srv:close(); return nil, string_format("cannot bind %s:%s: %s", self.host, self.port, err) end
  ok, err = srv:listen(1024)
  if not ok then srv:close(); return nil, "cannot listen: " .. tostring(err) end
  srv:settimeout(0)
  self.listener = srv
  local _, port = srv:getsockname()
  self.port = tonumber(port)
  return self.port
end

--- Ask the loop to stop (it closes every socket and returns from run()).
function Server:stop()
  self.stopping = true
end

-- ---------------------------------------------------------------- scheduling

-- Wait until `sock` is readable ("r") or writable ("w"), or until `at`.
-- Returns true when ready, false on timeout.
local function wait(sock, kind, at)
  return co_yield(sock, kind, at)
end

local function sleep_until(at)
  co_yield(nil, nil, at)
end

function Server:report(msg)
  if self.on_error then return self.on_error(msg) end
  io.stderr:write("ecs-emulator: ", msg, "\n")
end

function Server:resume(co, ...)
  local ok, sock, kind, at = co_resume(co, ...)
  if not ok then
    self:report("connection handler failed: " .. tostring(sock))
  end
  if not ok or co_status(co) == "dead" then
    local conn = self.conns[co]
    if conn then
      conn.sock:close()
      self.conns[co] = nil
      self.nconns = self.nconns - 1
    end
    self.waits[co] = nil
    return
  end
  self.waits[co] = { sock = sock, kind = kind, at = at }
end

-- Resumes the coroutine waiting on sock s, if one still is (owner: sock -> coroutine).
function Server:wake(owner, s)
  local co = owner[s]
  if co and self.waits[co] and self.waits[co].sock == s then
    self.waits[co] = nil
    self:resume(co, true)
  end
end

function Server:accept_all()
  while self.nconns < self.max_connections do
    local client = self.listener:accept()
    if not client then return end
    client:settimeout(0)
    client:setoption("tcp-nodelay", true)
    local conn = { sock = client, buf = "" }
    local co = co_create(function() return self:serve(conn) end)
    self.conns[co] = conn
    self.nconns = self.nconns + 1
    self.stats.connections = self.stats.connections + 1
    self:resume(co)
  end
end

local function stdin_readable()
  local chunk = io.stdin:read(1)
  return chunk ~= nil
end

--- Run the loop until stop() (or, with stdin_exit, until stdin closes).
function Server:run()
  if not self.listener then
    local ok, err = self:listen()
    if not ok then return nil, err end
  end
  local stdin_watch = self.stdin_exit and { getfd = function() return 0 end, dirty = function() return false end }
  while not self.stopping do
    local recvt, sendt, owner = {}, {}, {}
    local now = gettime()
    local next_at = now + 1
    if self.nconns < self.max_connections then recvt[1] = self.listener end
    if stdin_watch then recvt[#recvt + 1] = stdin_watch end
    for co, w in pairs(self.waits) do
      if w.sock then
        owner[w.sock] = co
        if w.kind == "w" then sendt[#sendt + 1] = w.sock else recvt[#recvt + 1] = w.sock end
      end
      if w.at and w.at < next_at then next_at = w.at end
    end
    local timeout = next_at - now
    if timeout < 0 then timeout = 0 end
    local readable, writable = socket.select(recvt, sendt, timeout)
    for _, s in ipairs(readable or {}) do
      if s == self.listener then
        self:accept_all()
      elseif s == stdin_watch then
        if not stdin_readable() then self.stopping = true end
      else
        self:wake(owner, s)
      end
    end
    for _, s in ipairs(writable or {}) do self:wake(owner, s) end
    now = gettime()
    local due = {}
    for co, w in pairs(self.waits) do
      if w.at and w.at <= now then due[#due + 1] = co end
    end
    for _, co in ipairs(due) do
      if self.waits[co] then
        self.waits[co] = nil
        self:resume(co, false)
      end
    end
  end
  self:close_all()
  return true
end

function Server:close_all()
  for co, conn in pairs(self.conns) do
    conn.sock:close()
    self.conns[co] = nil
  end
  self.nconns = 0
  self.waits = {}
  if self.listener then self.listener:close(); self.listener = nil end
end

-- ------------------------------------------------------------------- I/O

-- Read more bytes into conn.buf. Returns true, or nil and "closed"/"timeout"/message.
local function fill(conn, at, max)
  local sock = conn.sock
  while true do
    local data, err, partial = sock:receive(max or CHUNK)
    local got = data or partial
    if got and #got > 0 then
      conn.buf = conn.buf .. got
      return true
    end
    if err == "timeout" or err == "wantread" then
      if not wait(sock, "r", at) then return nil, "timeout" end
    elseif err == "wantwrite" then
      if not wait(sock, "w", at) then return nil, "timeout" end
    else
      return nil, err or "closed"
    end
  end
end

local function write_all(conn, data, at)
  local sock, i, n = conn.sock, 1, #data
  while i <= n do
    local last, err, plast = sock:send(data, i)
    if last then
      i = last + 1
    else
      i = (plast or i - 1) + 1
      if err == "timeout" or err == "wantwrite" then
        if not wait(sock, "w", at) then return nil, "timeout" end
      elseif err == "wantread" then
        if not wait(sock, "r", at) then return nil, "timeout" end
      else
        return nil, err
      end
    end
  end
  return true
end

-- Take exactly n bytes (reading more as needed). Big bodies are gathered in a
-- list so that a few megabytes are not copied once per packet.
local function read_exact(conn, n, at)
  if #conn.buf >= n then
    local s = string_sub(conn.buf, 1, n)
    conn.buf = string_sub(conn.buf, n + 1)
    return s
  end
  local parts, have = { conn.buf }, #conn.buf
  conn.buf = ""
  while have < n do
    local ok, err = fill(conn, at, math_min(n - have, 1024 * 1024))
    if not ok then return nil, err end
    parts[#parts + 1] = conn.buf
    have = have + #conn.buf
    conn.buf = ""
  end
  local s = table_concat(parts)
  if have > n then
    conn.buf = string_sub(s, n + 1)
    s = string_sub(s, 1, n)
  end
  return s
end

local function read_line(conn, at, limit)
  while true do
    local e = string_find(conn.buf, "\n", 1, true)
    if e then
      local line = string_sub(conn.buf, 1, e - 1)
      conn.buf = string_sub(conn.buf, e + 1)
      return (string_gsub(line, "\r$", ""))
    end
    if #conn.buf > limit then return nil, "line too long" end
    local ok, err = fill(conn, at)
    if not ok then return nil, err end
  end
end

-- ---------------------------------------------------------------- parsing

local function bad(status, msg) return { bad = status, message = msg } end

local function has_token(value, token)
  if not value then return false end
  for t in string_gmatch(string_lower(value), "[^,%s]+") do
    if t == token then return true end
  end
  return false
end

local function parse_head(head)
  local lines = {}
  for line in string_gmatch(head, "([^\n]*)\n?") do
    lines[#lines + 1] = (string_gsub(line, "\r$", ""))
  end
  while #lines > 0 and lines[#lines] == "" do table_remove(lines) end
  local method, target, major, minor = string_match(lines[1] or "", "^(%u+) (%S+) HTTP/(%d)%.(%d)$")
  if not method then return bad(400, "malformed request line") end
  if major ~= "1" then return bad(505, "only HTTP/1.x is served") end
  local headers = {}
  for i = 2, #lines do
    local name, value = string_match(lines[i], "^([!#$%%&'*+%-.^_`|~%w]+):[ \t]*(.-)[ \t]*$")
    if not name then return bad(400, "malformed header line " .. (i - 1)) end
    name = string_lower(name)
    if headers[name] and name ~= "content-length" then
      headers[name] = headers[name] .. ", " .. value
    elseif headers[name] and headers[name] ~= value then
      return bad(400, "conflicting Content-Length headers")
    else
      headers[name] = value
    end
  end
  local path, query = target, ""
  local abs = string_match(target, "^[hH][tT][tT][pP][sS]?://[^/]*(.*)$")
  if abs then path = abs ~= "" and abs or "/" end
  local q = string_find(path, "?", 1, true)
  if q then
    query = string_sub(path, q + 1)
    path = string_sub(path, 1, q - 1)
  end
  if string_sub(path, 1, 1) ~= "/" and path ~= "*" then return bad(400, "malformed request target") end
  local keep
  if minor == "0" then keep = has_token(headers.connection, "keep-alive")
  else keep = not has_token(headers.connection, "close") end
  return { method = method, path = path, query = query, headers = headers, body = "",
           keep_alive = keep, http10 = (minor == "0") }
end

local function read_chunked(self, conn, at)
  local parts, total = {}, 0
  while true do
    local line, err = read_line(conn, at, 4096)
    if not line then return nil, err end
    local hex = string_match(line, "^%s*(%x+)%s*[;]?.-$")
    if not hex or #hex > 8 then return nil, "bad chunk size line" end
    local size = tonumber(hex, 16)
    if size == 0 then
      repeat -- trailer fields, ignored
        line, err = read_line(conn, at, MAX_HEAD)
        if not line then return nil, err end
      until line == ""
      return table_concat(parts)
    end
    total = total + size
    if total > self.max_body then return nil, "too large" end
    local data
    data, err = read_exact(conn, size, at)
    if not data then return nil, err end
    parts[#parts + 1] = data
    line, err = read_line(conn, at, 16)
    if line ~= "" then return nil, err or "missing CRLF after chunk" end
  end
end

-- Read one request. Returns the request table, or nil and a reason:
-- "closed" (peer went away cleanly between requests), "timeout", or a table
-- { bad = status, message = } for a malformed request.
function Server:read_request(conn)
  local at = gettime() + self.idle_timeout
  local head_end, body_start
  while true do
    local s, e = string_find(conn.buf, "\r?\n\r?\n")
    if s then head_end, body_start = s, e + 1; break end
    if #conn.buf > MAX_HEAD then return nil, bad(431, "request head larger than 64 KiB") end
    local ok, err = fill(conn, at)
    if not ok then return nil, err == "timeout" and "timeout" or "closed" end
    if #conn.buf > 0 then at = gettime() + self.request_timeout end
  end
  if head_end > MAX_HEAD then return nil, bad(431, "request head larger than 64 KiB") end
  -- tolerate stray empty lines before a request (RFC 9112 2.2)
  local head = string_gsub(string_sub(conn.buf, 1, head_end), "^[\r\n]+", "")
  conn.buf = string_sub(conn.buf, body_start)
  if head == "" then return self:read_request(conn) end
  local req = parse_head(head)
  if req.bad then return nil, req end
  local h = req.headers
  at = gettime() + self.request_timeout
  local te, cl = h["transfer-encoding"], h["content-length"]
  local chunked = false
  if te then
    if string_lower(string_match(te, "([^,%s]+)%s*$") or "") ~= "chunked" then
      return nil, bad(501, "unsupported Transfer-Encoding")
    end
    chunked = true
  elseif cl then
    if not string_match(cl, "^%d+$") or #cl > 15 then return nil, bad(400, "malformed Content-Length") end
    cl = tonumber(cl)
    if cl > self.max_body then return nil, bad(413, "request body larger than the limit") end
  end
  if (chunked or (cl and cl > 0)) and not req.http10 and h.expect
      and string_lower(h.expect) == "100-continue" and #conn.buf == 0 then
    local ok = write_all(conn, "HTTP/1.1 100 Continue\r\n\r\n", at)
    if not ok then return nil, "closed" end
  end
  if chunked then
    local body, err = read_chunked(self, conn, at)
    if not body then
      if err == "too large" then return nil, bad(413, "request body larger than the limit") end
      if err == "closed" or err == "timeout" then return nil, err end
      return nil, bad(400, "malformed chunked body: " .. tostring(err))
    end
    req.body = body
  elseif cl and cl > 0 then
    local body, err = read_exact(conn, cl, at)
    if not body then return nil, err end
    req.body = body
  end
  return req
end

-- --------------------------------------------------------------- responses

local function format_response(status, headers, body, keep_alive, head_only)
  local out = { "HTTP/1.1 " .. status .. " " .. (REASONS[status] or "Status") .. "\r\n" }
  local has_type, has_date = false, false
  local names = {}
  for name in pairs(headers) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local lname = string_lower(name)
    if lname ~= "content-length" and lname ~= "connection" and lname ~= "transfer-encoding" then
      if lname == "content-type" then has_type = true end
      if lname == "date" then has_date = true end
      local v = headers[name]
      if type(v) == "table" then
        for _, one in ipairs(v) do out[#out + 1] = name .. ": " .. tostring(one) .. "\r\n" end
      else
        out[#out + 1] = name .. ": " .. string_gsub(tostring(v), "[\r\n]", " ") .. "\r\n"
      end
    end
  end
  if not has_type and #body > 0 then out[#out + 1] = "Content-Type: application/json;charset=utf-8\r\n" end
  if not has_date then out[#out + 1] = os.date("!Date: %a, %d %b %Y %H:%M:%S GMT\r\n") end
  out[#out + 1] = "Content-Length: " .. #body .. "\r\n"
  out[#out + 1] = keep_alive and "Connection: keep-alive\r\n\r\n" or "Connection: close\r\n\r\n"
  if not head_only then out[#out + 1] = body end
  return table_concat(out)
end

local function request_action(req)
  local a = req.headers["x-acs-action"]
  if not a then
    a = string_match("&" .. req.query, "&Action=([%w%.%-_]+)")
      or string_match("&" .. req.body, "&Action=([%w%.%-_]+)")
  end
  return a or "-"
end

function Server:access_log(conn, req, status, nbytes, started, note)
  if not self.log then return end
  local code = "-"
  if status and status >= 400 and conn.last_body then
    code = string_match(conn.last_body, '"Code"%s*:%s*"([^"]+)"') or "-"
  end
  -- Only the path (never the query: a V2 GET carries its Signature there), the
  -- action and the response code are logged: no credential can appear here.
  self.log:write(string_format("%s %s %s %s %s %s %s %d %.1fms%s\n",
    os.date("!%Y-%m-%dT%H:%M:%SZ"), conn.peer or "-", req and req.method or "-",
    req and string_gsub(req.path, "%s", "_") or "-", req and request_action(req) or "-",
    status and tostring(status) or "-", code, nbytes or 0, (gettime() - started) * 1000, note or ""))
  self.log:flush()
end

function Server:call_service(req)
  local ok, resp = pcall(self.service.handle, self.service, {
    method = req.method, path = req.path, query = req.query, headers = req.headers, body = req.body,
  })
  if not ok then
    self:report("service error: " .. tostring(resp))
    return { status = 500, body = error_body("InternalError", "emulator error: " .. tostring(resp)) }
  end
  if type(resp) ~= "table" or (not resp.drop and type(resp.status) ~= "number") then
    self:report("service returned " .. type(resp) .. " without a numeric status")
    return { status = 500, body = error_body("InternalError", "emulator returned no status") }
  end
  return resp
end

-- Serve one connection: TLS handshake (if any), then requests until close.
function Server:serve(conn)
  local raw = conn.sock
  conn.peer = raw:getpeername()
  if self.ssl_ctx then
    -- wrap() moves the descriptor into the TLS object: from here on every
    -- wait and the final close go through it.
    local s, err = self.ssl.wrap(raw, self.ssl_ctx)
    if not s then self:report("TLS wrap failed: " .. tostring(err)); return end
    s:settimeout(0)
    conn.sock = s
    local at = gettime() + 10
    while true do
      local ok
      ok, err = s:dohandshake()
      if ok then break end
      if err == "wantread" or err == "timeout" then
        if not wait(s, "r", at) then return end
      elseif err == "wantwrite" then
        if not wait(s, "w", at) then return end
      else
        return -- a client that gave up or spoke no TLS: nothing to answer
      end
    end
  end
  while not self.stopping do
    local started = gettime()
    local req, err = self:read_request(conn)
    if not req then
      if type(err) == "table" then
        local body = error_body("BadRequest", err.message)
        conn.last_body = body
        write_all(conn, format_response(err.bad, {}, body, false), gettime() + 10)
        self:access_log(conn, nil, err.bad, #body, started, " " .. err.message)
      end
      return
    end
    self.stats.requests = self.stats.requests + 1
    local resp = self:call_service(req)
    local delay = tonumber(resp.delay)
    if delay and delay > 0 then sleep_until(gettime() + delay) end
    if resp.drop then
      self:access_log(conn, req, nil, 0, started, " dropped")
      return
    end
    local body = resp.body and tostring(resp.body) or ""
    local keep = req.keep_alive and not self.stopping
    local rh = resp.headers or {}
    if has_token(rh.connection or rh.Connection, "close") then keep = false end
    conn.last_body = body
    local ok = write_all(conn, format_response(math_floor(resp.status), rh, body, keep, req.method == "HEAD"),
      gettime() + self.request_timeout)
    self:access_log(conn, req, resp.status, #body, started, delay and delay > 0 and
      string_format(" delay=%.3fs", delay) or nil)
    if not ok or not keep then return end
  end
end

M.Server = Server
M._parse_head = parse_head
M._format_response = format_response
return M
