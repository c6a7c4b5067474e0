-- Spec helper: a real nginx with the Lua module on a free loopback port and
-- a temporary prefix, running the ecs Lua code from this checkout and the C
-- core built for LuaJIT (build-jit/). Also starts examples/openresty/run.sh.
--
--   local nginx = require "helpers.nginx"
--   local ng = nginx.start { server = "location /t { content_by_lua_block { ... } }",
--                            env = { ECS_ENDPOINT = emu.url } }
--   local status, headers, body = ng:request("GET", "/t")
--   ng:error_log(); ng:stop()
local socket = require "socket"
local emu = require "helpers.emulator"
local process = require "helpers.process"

local M = {}

local ROOT = emu.root
M.root = ROOT
M.MODULES = os.getenv("NGINX_MODULES") or "/usr/lib/nginx/modules"
local q = emu.shell_quote
local read_file = emu.read_file

local built = false

--- Builds build-jit/ecs/core.so (the C core for LuaJIT) unless done already
-- in this process; raises with the build log on failure.
function M.build()
  if built then return end
  local log = os.tmpname()
  -- configure only a fresh tree, so the options the test script chose stay
  local cmd = ("cd %s && { test -f build-jit/CMakeCache.txt || cmake -S . -B build-jit -DECS_LUA=jit"
    .. " -DECS_TESTS=OFF; } >%s 2>&1 && cmake --build build-jit >>%s 2>&1"):format(q(ROOT), q(log), q(log))
  local ok = os.execute(cmd)
  local out = read_file(log) or ""
  os.remove(log)
  assert(ok == true or ok == 0, "building the C core for LuaJIT failed:\n" .. out)
  built = true
end

local Nginx = {}
Nginx.__index = Nginx

local process_alive = process.alive
local running
running, M.stop_all, M._sentinel = process.registry(function(ng) ng:stop() end)

local function can_connect(port)
  local s = socket.tcp()
  s:settimeout(0.2)
  local ok = s:connect("127.0.0.1", port)
  s:close()
  return ok ~= nil
end

local TEMPLATE = [[
load_module %s/ndk_http_module.so;
load_module %s/ngx_http_lua_module.so;
daemon off;
worker_processes %d;
error_log logs/error.log info;
pid logs/nginx.pid;
%s
%s
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path tmp/body;
  proxy_temp_path tmp/proxy;
  fastcgi_temp_path tmp/fastcgi;
  uwsgi_temp_path tmp/uwsgi;
  scgi_temp_path tmp/scgi;
  lua_package_path "%s/lua/?.lua;%s/lua/?/init.lua;%s/spec/?.lua;%s/examples/openresty/?.lua;;";
  lua_package_cpath "%s/build-jit/?.so;;";
  %s
  server {
    listen 127.0.0.1:%d;
    default_type text/plain;
    location = /_up { return 200 "up\n"; }
    %s
  }
}
]]

local function wait_ready(self, port, timeout)
  if not process.wait(self, function() return can_connect(port) end, timeout or 10, 0.01) then
    local why = self:error_log() .. (read_file(self.dir .. "/stderr") or "")
    self:stop()
    error("nginx did not start: " .. why, 3)
  end
  return true
end

local function spawn(self, cmd, env)
  self.pidfile = self.dir .. "/launcher.pid"
  self.pipe = process.spawn(cmd, { pidfile = self.pidfile, stdout = self.dir .. "/stdout",
                                   stderr = self.dir .. "/stderr", env = env })
  running[self] = true
end

local root_user
--- Whether this process runs as root (nginx then needs `user root;`).
function M.is_root()
  if root_user == nil then
    local f = io.popen("id -u")
    local uid = f and f:read("*l")
    if f then f:close() end
    root_user = uid == "0"
  end
  return root_user
end

--- Start nginx. opts: main (main-context directives), http (http-context
-- directives), server (locations), workers (default 1), env ({ NAME = value }, also declared with
-- nginx's `env` directive so Lua sees them), timeout.
function M.start(opts)
  opts = opts or {}
  M.build()
  local dir = emu.tmpdir()
  os.execute("mkdir -p " .. q(dir .. "/logs") .. " " .. q(dir .. "/tmp") .. " " .. q(dir .. "/conf")
    .. " && chmod 755 " .. q(dir))
  local port = emu.free_port()
  local envs = {}
  for k in pairs(opts.env or {}) do envs[#envs + 1] = "env " .. k .. ";" end
  local main = opts.main or ""
  if M.is_root() then
    -- nginx started as root runs its workers as nobody, who may not be able to
    -- read lua/ in a checkout under a private folder (such as /root)
    main = "user root;\n" .. main
  end
  local conf = TEMPLATE:format(M.MODULES, M.MODULES, opts.workers or 1, table.concat(envs, "\n"), main,
    ROOT, ROOT, ROOT, ROOT, ROOT, opts.http or "", port, opts.server or "")
  local f = assert(io.open(dir .. "/conf/nginx.conf", "w"))
  f:write(conf)
  f:close()
  local self = setmetatable({ dir = dir, port = port, prefix = dir }, Nginx)
  spawn(self, ("nginx -p %s -e %s -c %s"):format(q(dir .. "/"), q(dir .. "/logs/error.log"),
    q(dir .. "/conf/nginx.conf")), opts.env)
  wait_ready(self, port, opts.timeout)
  self.url = "http://127.0.0.1:" .. port
  return self
end

--- Start examples/openresty/run.sh PORT (PORT 0) with env; reads the
-- "listening <port>" line it prints first.
function M.run_example(opts)
  opts = opts or {}
  M.build()
  local dir = emu.tmpdir()
  local self = setmetatable({ dir = dir, prefix = dir .. "/nginx" }, Nginx)
  local env = { ECS_NGINX_PREFIX = self.prefix }
  for k, v in pairs(opts.env or {}) do env[k] = v end
  spawn(self, q(ROOT .. "/examples/openresty/run.sh") .. " 0", env)
  local port, out
  if not process.wait(self, function()
    port, out = process.listening(dir .. "/stdout")
    return port
  end, opts.timeout or 30, 0.02) then
    local why = (read_file(dir .. "/stderr") or "") .. self:error_log()
    self:stop()
    error("run.sh did not start: " .. why, 2)
  end
  self.port = port
  self.first_line = out:match("^[^\n]*")
  self.url = "http://127.0.0.1:" .. self.port
  return self
end

--- nginx's error log so far.
function Nginx:error_log()
  return read_file(self.prefix .. "/logs/error.log") or ""
end

-- body of a chunked answer
local function dechunk(s)
  local out, pos = {}, 1
  while true do
    local size, after = s:match("^(%x+)[^\r\n]*\r\n()", pos)
    if not size then return s end
    size = tonumber(size, 16)
    if size == 0 then return table.concat(out) end
    out[#out + 1] = s:sub(after, after + size - 1)
    pos = after + size + 2
  end
end

local function parse(raw)
  local status, headers, body = emu.parse_response(raw or "")
  if status and (headers["transfer-encoding"] or ""):find("chunked", 1, true) then body = dechunk(body) end
  return status, headers, body
end

--- One request on a fresh connection: status, headers, body (or nil, msg).
function Nginx:request(method, path, body, headers, timeout)
  local status, h, b = emu.http { port = self.port, method = method, path = path, body = body,
                                  headers = headers, timeout = timeout or 30 }
  if status and (h["transfer-encoding"] or ""):find("chunked", 1, true) then b = dechunk(b) end
  return status, h, b
end

--- n requests sent at once on n connections; returns the list of
-- { status =, body = } and the seconds from the first send to the last answer.
function Nginx:concurrent(n, method, path, body)
  local socks = {}
  local t0 = socket.gettime()
  for i = 1, n do
    local s = socket.tcp()
    s:settimeout(30)
    assert(s:connect("127.0.0.1", self.port))
    body = body or ""
    assert(s:send(("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s")
      :format(method, path, #body, body)))
    socks[i] = s
  end
  local out = {}
  for i = 1, n do
    local raw, _, partial = socks[i]:receive("*a")
    socks[i]:close()
    local status, _, rbody = parse(raw or partial)
    out[i] = { status = status, body = rbody }
  end
  return out, socket.gettime() - t0
end

--- Stop nginx (and, for run.sh, its emulator) and wait. Safe to call twice.
function Nginx:stop()
  if not self.pipe then return end
  self.pid = self.pid or tonumber(read_file(self.pidfile) or "")
  if self.pid then os.execute("kill -TERM " .. math.floor(self.pid) .. " 2>/dev/null") end
  pcall(self.pipe.close, self.pipe)
  self.pipe = nil
  -- whatever nginx master is left under this prefix (run.sh forwards the signal)
  local npid = tonumber(read_file(self.prefix .. "/logs/nginx.pid") or "")
  if npid and process_alive(npid) then
    os.execute("kill -TERM " .. math.floor(npid) .. " 2>/dev/null")
    local deadline = socket.gettime() + 5
    while process_alive(npid) and socket.gettime() < deadline do socket.sleep(0.01) end
  end
  running[self] = nil
end

--- Remove the temporary prefix (after stop; keep it to read logs on failure).
function Nginx:cleanup()
  self:stop()
  if os.getenv("ECS_SPEC_KEEP") then
    io.stderr:write("nginx prefix kept: ", self.prefix, "\n")
    return
  end
  emu.rmdir(self.dir)
end

return M
