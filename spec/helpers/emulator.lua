-- Spec helper: start bin/ecs-emulator on a free loopback port, talk to its
-- admin endpoint, stop it. Also: free_port(), a tiny HTTP client, temp dirs
-- and a test CA with a server certificate for TLS specs.
--
--   local helper = require "helpers.emulator"
--   local emu = helper.start { args = { "--time-scale", "50" } }
--   emu.port, emu.url
--   local state = emu:admin("GET", "/_emulator/state")
--   local log = emu:requests("InvokeCommand")
--   emu:stop()
--
-- The emulator runs with --stdin-exit and its stdin is a pipe held by this
-- process, so it also exits when the test process ends in any way.
local socket = require "socket"
local cjson = require("cjson").new()
local process = require "helpers.process"

local helper = {}

local SOURCE = debug.getinfo(1, "S").source
local ROOT = (string.match(SOURCE, "^@(.*)/spec/helpers/[^/]*$")) or "."
helper.root = ROOT

local shell_quote = process.shell_quote
helper.shell_quote = shell_quote

local read_all = process.read_file
helper.read_file = read_all

--- A fresh temporary directory (removed by helper.rmdir or left in /tmp).
function helper.tmpdir()
  local p = io.popen("mktemp -d /tmp/ecs-spec.XXXXXX")
  local dir = p:read("*l")
  p:close()
  assert(dir and dir ~= "", "mktemp -d failed")
  return dir
end

function helper.rmdir(dir)
  if dir and string.match(dir, "^/tmp/ecs%-spec%.") then os.execute("rm -rf " .. shell_quote(dir)) end
end

--- A port that was free a moment ago on 127.0.0.1.
function helper.free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

--- Make a test CA and a server certificate for 127.0.0.1/localhost in dir.
-- Returns { ca = ca.pem, cert = server.pem, key = server.key, dir = dir }.
function helper.make_tls(dir)
  dir = dir or helper.tmpdir()
  local q = shell_quote
  local script = table.concat({
    "set -e", "cd " .. q(dir),
    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
      .. " -subj /CN=ecs-spec-ca -keyout ca.key -out ca.pem",
    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
      .. " -subj /CN=127.0.0.1 -keyout server.key -out server.csr",
    "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\n' > ext.cnf",
    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
      .. " -extfile ext.cnf -out server.pem",
  }, "\n")
  local ok = os.execute("( " .. script .. " ) >" .. q(dir .. "/openssl.log") .. " 2>&1")
  assert(ok == true or ok == 0, "openssl failed: " .. tostring(read_all(dir .. "/openssl.log")))
  return { ca = dir .. "/ca.pem", cert = dir .. "/server.pem", key = dir .. "/server.key", dir = dir }
end

-- ------------------------------------------------------------ HTTP client

local function parse_response(raw)
  local head_end = string.find(raw, "\r\n\r\n", 1, true)
  if not head_end then return nil, "incomplete response head" end
  local head = string.sub(raw, 1, head_end - 1)
  local status = tonumber(string.match(head, "^HTTP/1%.%d (%d%d%d)"))
  if not status then return nil, "bad status line" end
  local headers = {}
  for name, value in string.gmatch(head, "\r\n([^:\r\n]+):[ \t]*([^\r\n]*)") do
    headers[string.lower(name)] = value
  end
  local body = string.sub(raw, head_end + 4)
  local n = tonumber(headers["content-length"])
  if n and #body < n then return nil, "short body" end
  if n then body = string.sub(body, 1, n) end
  return status, headers, body
end

--- One request on a fresh connection (Connection: close).
-- opts: port (required), host, method, path, headers, body, tls (table: verify none), timeout
-- Returns status, headers, body; or nil, message.
function helper.http(opts)
  local sock = socket.tcp()
  sock:settimeout(opts.timeout or 10)
  local ok, err = sock:connect(opts.host or "127.0.0.1", opts.port)
  if not ok then sock:close(); return nil, "connect: " .. tostring(err) end
  if opts.tls then
    local ssl = require "ssl"
    local conn, werr = ssl.wrap(sock, { mode = "client", protocol = "any", verify = "none",
                                       cafile = type(opts.tls) == "table" and opts.tls.ca or nil })
    if not conn then sock:close(); return nil, "tls: " .. tostring(werr) end
    conn:settimeout(opts.timeout or 10)
    ok, err = conn:dohandshake()
    if not ok then conn:close(); return nil, "tls handshake: " .. tostring(err) end
    sock = conn
  end
  local body = opts.body or ""
  local lines = { string.format("%s %s HTTP/1.1", opts.method or "GET", opts.path or "/"),
                  "Host: 127.0.0.1:" .. opts.port, "Connection: close",
                  "Content-Length: " .. #body }
  for k, v in pairs(opts.headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  ok, err = sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. body)
  if not ok then sock:close(); return nil, "send: " .. tostring(err) end
  local data, rerr, partial = sock:receive("*a")
  sock:close()
  data = data or partial
  if not data or data == "" then return nil, "no response: " .. tostring(rerr) end
  return parse_response(data)
end
helper.parse_response = parse_response

-- ---------------------------------------------------------------- emulator

local Emu = {}
Emu.__index = Emu

-- emulators not yet stopped, stopped at exit by a finalizer (the sentinel,
-- kept on the helper table so it lives as long as the module)
local running
running, helper.stop_all, helper._sentinel = process.registry(function(emu) emu:stop() end)

--- Start the emulator. opts:
--   args   list of extra command-line arguments
--   tls    { cert =, key = } (adds --tls-cert/--tls-key; url becomes https)
--   lua    interpreter (default env ECS_EMULATOR_LUA or "lua5.4")
--   env    { NAME = value } for the child
--   script launcher (default bin/ecs-emulator of this checkout)
--   timeout seconds to wait for the listening line (default 10)
function helper.start(opts)
  opts = opts or {}
  local dir = helper.tmpdir()
  local argv = { opts.lua or os.getenv("ECS_EMULATOR_LUA") or "lua5.4",
                 opts.script or (ROOT .. "/bin/ecs-emulator"), "--port", "0", "--stdin-exit" }
  if opts.tls then
    argv[#argv + 1] = "--tls-cert"; argv[#argv + 1] = opts.tls.cert
    argv[#argv + 1] = "--tls-key"; argv[#argv + 1] = opts.tls.key
  end
  for _, a in ipairs(opts.args or {}) do argv[#argv + 1] = a end
  local quoted = {}
  for i, a in ipairs(argv) do quoted[i] = shell_quote(a) end
  local out, err, pidf = dir .. "/stdout", dir .. "/stderr", dir .. "/pid"
  local pipe = process.spawn(table.concat(quoted, " "), { pidfile = pidf, stdout = out, stderr = err, env = opts.env })
  local emu = setmetatable({ pipe = pipe, dir = dir, stdout_path = out, stderr_path = err, pidfile = pidf,
                             tls = opts.tls }, Emu)
  running[emu] = true
  local port
  if not process.wait(emu, function() port = process.listening(out); return port end, opts.timeout or 10, 0.005) then
    local why = read_all(err) or ""
    local line = read_all(out)
    emu:stop()
    error("emulator did not start: " .. (why ~= "" and why or "no listening line (stdout: "
      .. tostring(line) .. ")"), 2)
  end
  emu.port = port
  emu.pid = emu.pid or tonumber(read_all(pidf) or "")
  emu.host = "127.0.0.1"
  emu.url = (opts.tls and "https" or "http") .. "://127.0.0.1:" .. emu.port
  emu.endpoint = emu.url
  return emu
end

--- Raw request: status, headers, body (or nil, message).
function Emu:request(method, path, body, headers)
  return helper.http { port = self.port, method = method, path = path, body = body,
                       headers = headers, tls = self.tls and { ca = self.tls.ca } or nil }
end

--- Admin call: body (a table) is sent as JSON; returns the decoded JSON
-- (or the raw text when it is not JSON), the status and the headers.
-- Raises when the emulator cannot be reached.
function Emu:admin(method, path, body)
  local text
  if type(body) == "table" then text = cjson.encode(body) else text = body end
  local status, headers, resp = self:request(method, path, text,
    text and { ["Content-Type"] = "application/json" } or nil)
  if not status then error("emulator admin " .. method .. " " .. path .. ": " .. tostring(headers), 2) end
  local ok, decoded = pcall(cjson.decode, resp)
  if ok then return decoded, status, headers end
  return resp, status, headers
end

--- The emulator's request log (list of { action, version, params, ... }),
-- only the requests of one action when given.
function Emu:requests(action)
  return self:admin("GET", "/_emulator/requests" .. (action and ("?action=" .. action) or "")).requests
end

--- Text the emulator wrote on stderr so far (for failure messages).
function Emu:stderr()
  return read_all(self.stderr_path) or ""
end

--- Stop the emulator and wait for it to exit. Safe to call twice.
function Emu:stop()
  if not self.pipe then return end
  if self.pid then os.execute("kill " .. math.floor(self.pid) .. " 2>/dev/null") end
  pcall(self.pipe.close, self.pipe) -- closes its stdin too, then waits for it
  self.pipe = nil
  running[self] = nil
  helper.rmdir(self.dir)
end

return helper
