-- Spec helper: a small HTTP/1.1 test server in a child process, for the
-- real-libcurl specs. It counts what a client cannot fake: TCP connections
-- accepted, requests in flight at once, and the bytes of every request.
--
--   local testserver = require "helpers.testserver"
--   local srv = testserver.start { handler = [[
--     return function(req, ctx)              -- runs in the server process
--       return { status = 200, body = '{"RequestId":"r-1"}', delay = 0.05 }
--     end
--   ]] }
--   srv.url                  -- "http://127.0.0.1:<port>"
--   srv:events()             -- what happened so far (see below)
--   srv:stats()              -- { connections =, requests =, max_in_flight = }
--   srv:stop()
--
-- The handler is Lua source returning function(req, ctx) -> response.
-- req = { method, path, query, headers (lowercase names), body, conn (id),
-- n (request number), target (as on the request line: absolute through a
-- proxy) }; ctx = { core = ecs.core, cjson = cjson, state = {} }.
-- response = { status =, headers = { name = value }, body =, delay = s,
-- hang = true (never answer), close = true (close after answering) }.
--
-- Events (JSON lines in a file, read back by srv:events()):
--   { ev = "conn", conn = id }
--   { ev = "req", conn =, n =, method =, path =, query =, headers =, body =, in_flight = }
--   { ev = "resp", conn =, n =, status = }
-- A response is logged before it is written, so a client that has its answer
-- finds the event in the file.
--
-- The child runs the same interpreter as the specs, with the same
-- package.path/cpath, and exits when its stdin (a pipe held here) closes.
local cjson = require("cjson").new()
local emulator_helper = require "helpers.emulator"
local process = require "helpers.process"

local M = {}

local SERVER = [=[
local socket = require "socket"
local cjson = require("cjson").new()
local core = require "ecs.core"
local handler_file, events_file = arg[1], arg[2]
local handler = assert(loadfile(handler_file))()
local log = assert(io.open(events_file, "a"))
local function event(t) log:write(cjson.encode(t), "\n"); log:flush() end

local listener = assert(socket.bind("127.0.0.1", 0))
listener:settimeout(0)
local _, port = listener:getsockname()
io.stdout:write("listening ", port, "\n")
io.stdout:flush()

local conns, nconn, nreq, in_flight = {}, 0, 0, 0
local timers = {}          -- { at =, conn =, data =, close =, n = }
local ctx = { core = core, cjson = cjson, state = {} }
local stdin = { getfd = function() return 0 end, dirty = function() return false end }

local REASON = { [200] = "OK", [400] = "Bad Request", [403] = "Forbidden", [404] = "Not Found",
                 [500] = "Internal Server Error", [503] = "Service Unavailable" }

local function close(c)
  if conns[c.sock] then
    conns[c.sock] = nil
    c.sock:close()
  end
end

local function respond(c, n, resp)
  local body = resp.body or ""
  local lines = { ("HTTP/1.1 %d %s"):format(resp.status, REASON[resp.status] or "Status"),
                  "Content-Length: " .. #body, "Date: " .. os.date("!%a, %d %b %Y %H:%M:%S GMT") }
  local has_type = false
  for k, v in pairs(resp.headers or {}) do
    lines[#lines + 1] = k .. ": " .. v
    if k:lower() == "content-type" then has_type = true end
  end
  if not has_type then lines[#lines + 1] = "Content-Type: application/json;charset=utf-8" end
  if resp.close then lines[#lines + 1] = "Connection: close" end
  local data = table.concat(lines, "\r\n") .. "\r\n\r\n" .. body
  timers[#timers + 1] = { at = socket.gettime() + (resp.delay or 0), conn = c, data = data,
                          close = resp.close, n = n, status = resp.status }
end

local function parse(c)
  while true do
    local e = c.buf:find("\r\n\r\n", 1, true)
    if not e then return end
    local head = c.buf:sub(1, e - 1)
    local headers = {}
    local method, target = head:match("^(%u+) (%S+) HTTP/1%.%d")
    for name, value in head:gmatch("\r\n([^:\r\n]+):[ \t]*([^\r\n]*)") do headers[name:lower()] = value end
    local len = tonumber(headers["content-length"] or "0")
    if #c.buf < e + 3 + len then return end
    local body = c.buf:sub(e + 4, e + 3 + len)
    c.buf = c.buf:sub(e + 4 + len)
    nreq = nreq + 1
    in_flight = in_flight + 1
    local absolute = target:match("^https?://[^/]*(/.*)$") -- absolute form: sent to a proxy
    local path, query = (absolute or target):match("^([^?]*)%??(.*)$")
    local req = { method = method, path = path, query = query, headers = headers, body = body,
                  conn = c.id, n = nreq, target = target }
    event { ev = "req", conn = c.id, n = nreq, method = method, path = path, query = query, headers = headers,
            body = body, in_flight = in_flight, target = target }
    local ok, resp = pcall(handler, req, ctx)
    if not ok then
      resp = { status = 500, body = cjson.encode { Code = "InternalError", Message = tostring(resp) } }
    end
    if not resp.hang then respond(c, nreq, resp) end
  end
end

while true do
  local recvt = { listener, stdin }
  for s in pairs(conns) do recvt[#recvt + 1] = s end
  local now = socket.gettime()
  local wait = 1
  for _, t in ipairs(timers) do
    if t.at - now < wait then wait = math.max(0, t.at - now) end
  end
  local readable = socket.select(recvt, nil, wait)
  for _, s in ipairs(readable or {}) do
    if s == listener then
      local client = listener:accept()
      while client do
        client:settimeout(0)
        client:setoption("tcp-nodelay", true)
        nconn = nconn + 1
        conns[client] = { sock = client, buf = "", id = nconn }
        event { ev = "conn", conn = nconn }
        client = listener:accept()
      end
    elseif s == stdin then
      if io.stdin:read(1) == nil then os.exit(0) end
    elseif conns[s] then
      local c = conns[s]
      local data, err, partial = s:receive(65536)
      data = data or partial
      if data and #data > 0 then
        c.buf = c.buf .. data
        parse(c)
      end
      if err == "closed" then close(c) end
    end
  end
  now = socket.gettime()
  local keep = {}
  for _, t in ipairs(timers) do
    if t.at <= now then
      in_flight = in_flight - 1
      event { ev = "resp", conn = t.conn.id, n = t.n, status = t.status }
      if conns[t.conn.sock] then
        t.conn.sock:settimeout(5)
        t.conn.sock:send(t.data)
        t.conn.sock:settimeout(0)
        if t.close then close(t.conn) end
      end
    else
      keep[#keep + 1] = t
    end
  end
  timers = keep
end
]=]

-- An ECS-like handler: checks the V3 Authorization or the V2 Signature with
-- the core's functions against the AccessKey pairs it knows, then answers by
-- action:  Hang -> never answers; Slow -> waits Delay seconds; Fail -> status
-- Status with body Body; anything else -> 200 with RequestId, InvokeId and
-- what it verified (Close also closes the connection; Size=N adds a Data
-- field of N bytes). FailTimes=N answers 503 to the first N requests with the
-- same ClientToken. A wrong signature gets 400 SignatureDoesNotMatch with
-- the server's string to sign in the message, as the real service does.
local ECS_HANDLER = [=[
local KEYS = %s
local DELAY = %s
return function(req, ctx)
  local core, cjson = ctx.core, ctx.cjson
  local function answer(status, t, extra)
    local h = { ["x-acs-request-id"] = t.RequestId }
    for k, v in pairs(extra or {}) do h[k] = v end
    return { status = status, headers = h, body = cjson.encode(t), delay = DELAY }
  end
  local rid = "req-" .. req.n
  local params = core.parse_query(req.body)
  local action, version, id, secret, sts, token
  local auth = req.headers.authorization
  if auth then
    version = "v3"
    action = req.headers["x-acs-action"]
    local signed, sig
    id, signed, sig = auth:match("^ACS3%%-HMAC%%-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=(%%x+)$")
    if not id then
      return answer(400, { Code = "IncompleteSignature", Message = "bad Authorization", RequestId = rid })
    end
    secret = KEYS[id]
    if not secret then return answer(404, { Code = "InvalidAccessKeyId.NotFound", Message = id, RequestId = rid }) end
    if core.sha256_hex(req.body) ~= req.headers["x-acs-content-sha256"] then
      return answer(400, { Code = "InvalidParameter.ContentSHA256", Message = "body hash", RequestId = rid })
    end
    local hs = {}
    for name in signed:gmatch("[^;]+") do hs[name] = req.headers[name] or "" end
    local cr = core.v3_canonical_request(req.method, req.path, core.parse_query(req.query), hs,
      req.headers["x-acs-content-sha256"])
    sts = core.v3_string_to_sign(cr)
    token = req.headers["x-acs-security-token"]
    if core.v3_signature(secret, sts) ~= sig then secret = nil end
  elseif params.Signature then
    version = "v2"
    action = params.Action
    id = params.AccessKeyId
    local sig = params.Signature
    params.Signature = nil
    sts = core.v2_string_to_sign(req.method, params)
    secret = KEYS[id]
    if not secret then
      return answer(404, { Code = "InvalidAccessKeyId.NotFound", Message = tostring(id), RequestId = rid })
    end
    token = params.SecurityToken
    if core.v2_signature(secret, sts) ~= sig then secret = nil end
  else
    return answer(400, { Code = "MissingParameter.Signature", Message = "no signature", RequestId = rid })
  end
  if not secret or params.ForceMismatch then
    local msg = "Specified signature is not matched with our calculation. server string to sign is:" .. sts
    if params.ForceMismatch and token then
      msg = msg .. " token:" .. token .. " encoded:" .. core.percent_encode(token)
    end
    return answer(400, { Code = "SignatureDoesNotMatch", Message = msg, RequestId = rid, HostId = "ecs.test" })
  end
  if params.FailTimes then
    local key = params.ClientToken or action
    local seen = (ctx.state[key] or 0) + 1
    ctx.state[key] = seen
    if seen <= tonumber(params.FailTimes) then
      return answer(503, { Code = "ServiceUnavailable", Message = "try again", RequestId = rid })
    end
  end
  if action == "Hang" then return { hang = true } end
  if action == "Fail" then
    return { status = tonumber(params.Status), body = params.Body or "", delay = DELAY,
             headers = { ["x-acs-request-id"] = rid, ["Retry-After"] = params.RetryAfter } }
  end
  local r = answer(200, { RequestId = rid, InvokeId = "t-" .. req.n, Action = action, Verified = version,
                          AccessKeyId = id, HasToken = token ~= nil, Echo = params.Echo, RegionId = params.RegionId,
                          Data = params.Size and string.rep("x", tonumber(params.Size)) or nil })
  if action == "Slow" then r.delay = tonumber(params.Delay) end
  if action == "Close" then r.close = true end
  return r
end
]=]

--- Lua source of the ECS-like handler. opts: keys = { id = secret } (default
-- testid/testsecret), delay = seconds before every answer.
function M.ecs_handler(opts)
  opts = opts or {}
  local keys = { "{" }
  for id, secret in pairs(opts.keys or { testid = "testsecret" }) do
    keys[#keys + 1] = ("[%q] = %q,"):format(id, secret)
  end
  keys[#keys + 1] = "}"
  return ECS_HANDLER:format(table.concat(keys, " "), tostring(opts.delay or 0))
end

local write = process.write_file

local Server = {}
Server.__index = Server

--- start{ handler = lua source } -> server
function M.start(opts)
  local dir = emulator_helper.tmpdir()
  local q = emulator_helper.shell_quote
  local script, handler, events = dir .. "/server.lua", dir .. "/handler.lua", dir .. "/events"
  write(script, process.lua_script(SERVER))
  write(handler, opts.handler)
  write(events, "")
  local out, err = dir .. "/stdout", dir .. "/stderr"
  local pipe = process.spawn(("%s %s %s %s"):format(process.interpreter(), q(script), q(handler), q(events)),
                             { stdout = out, stderr = err })
  local srv = setmetatable({ pipe = pipe, dir = dir, events_path = events, stderr_path = err }, Server)
  local port
  if not process.wait(srv, function() port = process.listening(out); return port end, 10, 0.005) then
    srv:stop()
    error("test server did not start: " .. tostring(emulator_helper.read_file(err)), 2)
  end
  srv.port = port
  srv.url = "http://127.0.0.1:" .. srv.port
  return srv
end

--- Events logged so far (list of tables, see above).
function Server:events()
  local list = {}
  for line in (emulator_helper.read_file(self.events_path) or ""):gmatch("[^\n]+") do
    list[#list + 1] = cjson.decode(line)
  end
  return list
end

--- Requests only.
function Server:requests()
  local list = {}
  for _, e in ipairs(self:events()) do
    if e.ev == "req" then list[#list + 1] = e end
  end
  return list
end

--- { connections =, requests =, max_in_flight = }
function Server:stats()
  local s = { connections = 0, requests = 0, max_in_flight = 0 }
  for _, e in ipairs(self:events()) do
    if e.ev == "conn" then s.connections = s.connections + 1 end
    if e.ev == "req" then
      s.requests = s.requests + 1
      if e.in_flight > s.max_in_flight then s.max_in_flight = e.in_flight end
    end
  end
  return s
end

--- Forget the events so far (counts start again from here).
function Server:reset()
  write(self.events_path, "")
end

--- What the server wrote on stderr (for failure messages).
function Server:stderr()
  return emulator_helper.read_file(self.stderr_path) or ""
end

function Server:stop()
  if not self.pipe then return end
  pcall(self.pipe.close, self.pipe)
  self.pipe = nil
  emulator_helper.rmdir(self.dir)
end

return M
