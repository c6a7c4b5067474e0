-- The emulator's HTTP host (lua/ecs/emulator/server.lua, bin/ecs-emulator),
-- run as a real process on a free port, first against a small fake service
-- (so the host is tested on its own), then through the real emulator.
local socket = require "socket"
local cjson = require "cjson"
local helper = require "helpers.emulator"
local server = require "ecs.emulator.server"

-- A service that answers what it was asked; query parameters steer it:
-- delay=S, drop=1, fail=1 (raises), status=N, echo=1 (body returned as is).
local FAKE = [[
local cjson = require "cjson"
local M = {}
function M.new(opts)
  local svc = { count = 0, opts = opts }
  function svc:handle(req)
    self.count = self.count + 1
    local q = {}
    for k, v in string.gmatch(req.query, "([^&=]+)=([^&]*)") do q[k] = v end
    if req.path == "/_emulator/state" then
      return { status = 200, body = cjson.encode({ requests = self.count }) }
    elseif req.path == "/_emulator/options" then
      local o = {}
      for k, v in pairs(self.opts) do o[k] = v end
      return { status = 200, body = cjson.encode(o) }
    elseif req.path == "/_emulator/echo" then
      return { status = 200, body = cjson.encode({ got = cjson.decode(req.body), method = req.method }) }
    end
    if q.fail then error("boom in the service") end
    if q.drop then return { drop = true, delay = tonumber(q.delay) } end
    local body = q.echo and req.body or cjson.encode({
      method = req.method, path = req.path, query = req.query, body_len = #req.body,
      ctype = req.headers["content-type"], n = self.count,
    })
    return { status = tonumber(q.status) or 200, body = body, delay = tonumber(q.delay),
             headers = { ["x-acs-request-id"] = "fake-" .. self.count } }
  end
  return svc
end
return M
]]

-- The C core's client on url with the test credentials; extra overrides options.
local function core_client(url, extra)
  local cfg = { endpoint = url, region = "cn-hangzhou", access_key_id = "testid", access_key_secret = "testsecret" }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return require("ecs.core").new(cfg)
end

local function connect(port)
  local s = assert(socket.tcp())
  s:settimeout(5)
  assert(s:connect("127.0.0.1", port))
  return s
end

-- Read one response from a blocking socket (Content-Length framing).
local function read_response(s)
  local lines = {}
  while true do
    local line, err = s:receive("*l")
    if not line then return nil, err end
    if line == "" then break end
    lines[#lines + 1] = line
  end
  local status = tonumber(string.match(lines[1], "^HTTP/1%.1 (%d+)"))
  local headers = {}
  for i = 2, #lines do
    local k, v = string.match(lines[i], "^([^:]+):%s*(.*)$")
    headers[string.lower(k)] = v
  end
  local body = ""
  local n = tonumber(headers["content-length"] or "0")
  if n > 0 then body = assert(s:receive(n)) end
  return status, headers, body
end

local function get(path, extra)
  return "GET " .. path .. " HTTP/1.1\r\nHost: x\r\n" .. (extra or "") .. "\r\n"
end

describe("emulator server host", function()
  local dir, fake, emu

  setup(function()
    dir = helper.tmpdir()
    fake = dir .. "/fake_service.lua"
    local f = assert(io.open(fake, "w"))
    f:write(FAKE)
    f:close()
    emu = helper.start { args = { "--service", fake, "--log", dir .. "/access.log" } }
  end)

  teardown(function()
    if emu then emu:stop() end
    helper.rmdir(dir)
  end)

  it("prints exactly 'listening <port>' as its first line", function()
    assert.is_true(emu.port > 0 and emu.port < 65536)
    assert.are.equal("listening " .. emu.port .. "\n", helper.read_file(emu.stdout_path))
    assert.are.equal("http://127.0.0.1:" .. emu.port, emu.url)
  end)

  it("serves several requests on one kept-alive connection, pipelined too", function()
    local s = connect(emu.port)
    local seen = {}
    for i = 1, 3 do
      assert(s:send(get("/k" .. i)))
      local status, headers, body = read_response(s)
      assert.are.equal(200, status)
      assert.are.equal("keep-alive", headers.connection)
      assert.are.equal("/k" .. i, cjson.decode(body).path)
      seen[#seen + 1] = cjson.decode(body).n
    end
    assert.is_true(seen[1] < seen[2] and seen[2] < seen[3])
    -- two requests in one packet
    assert(s:send(get("/p1") .. get("/p2")))
    local _, _, b1 = read_response(s)
    local _, _, b2 = read_response(s)
    assert.are.equal("/p1", cjson.decode(b1).path)
    assert.are.equal("/p2", cjson.decode(b2).path)
    s:close()
  end)

  it("honours Connection: close and HTTP/1.0 defaults", function()
    local s = connect(emu.port)
    assert(s:send(get("/c", "Connection: close\r\n")))
    local status, headers = read_response(s)
    assert.are.equal(200, status)
    assert.are.equal("close", headers.connection)
    local data, err = s:receive(1)
    assert.is_nil(data)
    assert.are.equal("closed", err)
    s:close()
    s = connect(emu.port)
    assert(s:send("GET /old HTTP/1.0\r\n\r\n"))
    status, headers = read_response(s)
    assert.are.equal(200, status)
    assert.are.equal("close", headers.connection)
    s:close()
  end)

  it("passes method, path, query, lowercase headers and body to the service", function()
    local status, headers, body = emu:request("POST", "/a/b?x=1&y=2", "Action=Hi",
      { ["Content-Type"] = "application/x-www-form-urlencoded" })
    assert.are.equal(200, status)
    local got = cjson.decode(body)
    assert.are.same({ method = "POST", path = "/a/b", query = "x=1&y=2", body_len = 9,
                      ctype = "application/x-www-form-urlencoded", n = got.n }, got)
    assert.are.equal(string.format("fake-%d", got.n), headers["x-acs-request-id"])
    assert.is_truthy(headers.date)
  end)

  it("accepts chunked request bodies and Expect: 100-continue", function()
    local s = connect(emu.port)
    assert(s:send("POST /ch?echo=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      .. "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n"))
    local status, _, body = read_response(s)
    assert.are.equal(200, status)
    assert.are.equal("hello, world", body)
    assert(s:send("POST /ex?echo=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"))
    local interim = s:receive("*l")
    assert.are.equal("HTTP/1.1 100 Continue", interim)
    assert.are.equal("", s:receive("*l"))
    assert(s:send("body"))
    status, _, body = read_response(s)
    assert.are.equal(200, status)
    assert.are.equal("body", body)
    s:close()
  end)

  it("carries a body of several megabytes both ways", function()
    local parts = {}
    for i = 1, 4 * 1024 do parts[i] = string.format("%8d", i) .. string.rep(".", 1015) .. "\n" end
    local big = table.concat(parts)
    assert.are.equal(4 * 1024 * 1024, #big)
    local status, _, body = emu:request("POST", "/big?echo=1", big)
    assert.are.equal(200, status)
    assert.is_true(body == big, "echoed body differs (" .. #body .. " bytes)")
  end)

  it("answers 64 clients at once, concurrently", function()
    local n, d = 64, 0.3
    local socks, pending, results = {}, {}, {}
    local t0 = socket.gettime()
    for i = 1, n do
      local s = connect(emu.port)
      assert(s:send(get("/c64?delay=" .. d .. "&id=" .. i)))
      socks[i] = s
      pending[s] = i
    end
    local deadline = t0 + 15
    while next(pending) and socket.gettime() < deadline do
      local list = {}
      for s in pairs(pending) do list[#list + 1] = s end
      local ready = socket.select(list, nil, 1)
      for _, s in ipairs(ready) do
        local status, _, body = read_response(s)
        results[pending[s]] = { status = status, body = body }
        pending[s] = nil
      end
    end
    local elapsed = socket.gettime() - t0
    for i = 1, n do
      socks[i]:close()
      assert.is_truthy(results[i], "client " .. i .. " got no answer")
      assert.are.equal(200, results[i].status)
      assert.are.equal("delay=" .. d .. "&id=" .. i, cjson.decode(results[i].body).query)
    end
    -- served one after another this would take n * d = 19.2 s
    assert.is_true(elapsed < 4, "64 delayed requests took " .. elapsed .. " s")
  end)

  it("delays one response without blocking the others", function()
    local n, d = 50, 0.4
    local socks = {}
    local t0 = socket.gettime()
    for i = 1, n do
      socks[i] = connect(emu.port)
      assert(socks[i]:send(get("/slow?delay=" .. d)))
    end
    -- an undelayed request on the side is answered at once
    local t1 = socket.gettime()
    local status = emu:request("GET", "/fast")
    local fast = socket.gettime() - t1
    assert.are.equal(200, status)
    assert.is_true(fast < d / 2, "undelayed request waited " .. fast .. " s")
    for i = 1, n do
      assert.are.equal(200, (read_response(socks[i])))
      socks[i]:close()
    end
    local elapsed = socket.gettime() - t0
    assert.is_true(elapsed >= d * 0.9, "delay not applied: " .. elapsed)
    assert.is_true(elapsed < d * 5, n .. " requests delayed " .. d .. " s took " .. elapsed .. " s")
  end)

  it("closes the connection without a reply when the service says drop", function()
    local s = connect(emu.port)
    assert(s:send(get("/d?drop=1")))
    local data, err, partial = s:receive("*a")
    s:close()
    assert.are.equal("", data or partial)
    assert.is_true(data == "" or err == "closed")
    -- a delayed drop waits first
    local t0 = socket.gettime()
    s = connect(emu.port)
    assert(s:send(get("/d?drop=1&delay=0.2")))
    data, err, partial = s:receive("*a")
    s:close()
    assert.are.equal("", data or partial)
    assert.is_true(data == "" or err == "closed")
    assert.is_true(socket.gettime() - t0 >= 0.18)
    assert.are.equal(200, (emu:request("GET", "/after-drop")))
  end)

  it("answers malformed requests with 400 and keeps serving", function()
    local bad = {
      { "GARBAGE\r\n\r\n", 400 },
      { "GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400 },
      { "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400 },
      { "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400 },
      { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400 },
      { "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501 },
      { "GET / HTTP/2.0\r\n\r\n", 505 },
      { "GET / HTTP/1.1\r\nX: " .. string.rep("a", 70000) .. "\r\n\r\n", 431 },
    }
    for _, case in ipairs(bad) do
      local s = connect(emu.port)
      s:send(case[1])
      local status, headers, body = read_response(s)
      s:close()
      assert.are.equal(case[2], status, case[1]:sub(1, 40))
      assert.are.equal("close", headers.connection)
      assert.are.equal("BadRequest", cjson.decode(body).Code)
    end
    assert.are.equal(200, (emu:request("GET", "/still-there")))
  end)

  it("survives clients that vanish mid-request and a failing service", function()
    local s = connect(emu.port)
    s:send("POST / HTTP/1.1\r\nHost: x\r\nCont")
    s:close()
    s = connect(emu.port)
    s:send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nonly a little")
    s:close()
    s = connect(emu.port)
    s:send(get("/slow?delay=0.2"))
    s:close()                        -- gone before the delayed answer
    local status, _, body = emu:request("GET", "/x?fail=1")
    assert.are.equal(500, status)
    assert.are.equal("InternalError", cjson.decode(body).Code)
    assert.is_truthy(cjson.decode(body).Message:find("boom in the service", 1, true))
    socket.sleep(0.3)
    assert.are.equal(200, (emu:request("GET", "/still-there")))
  end)

  it("serves the admin endpoint through emu:admin", function()
    local before = emu:admin("GET", "/_emulator/state")
    assert.are.equal("number", type(before.requests))
    local got, status = emu:admin("POST", "/_emulator/echo", { faults = { { kind = "throttle", count = 2 } } })
    assert.are.equal(200, status)
    assert.are.same({ method = "POST", got = { faults = { { kind = "throttle", count = 2 } } } }, got)
    local after = emu:admin("GET", "/_emulator/state")
    assert.are.equal(before.requests + 2, after.requests)
  end)

  it("writes an access log without query strings or secrets", function()
    emu:request("GET", "/?Action=DescribeInstances&Signature=SECRETSIG&AccessKeyId=testid")
    emu:request("POST", "/", "Action=InvokeCommand&Signature=SECRETSIG")
    local log = helper.read_file(dir .. "/access.log")
    assert.is_truthy(log:find(" GET / DescribeInstances 200 ", 1, true))
    assert.is_truthy(log:find(" POST / InvokeCommand 200 ", 1, true))
    assert.is_truthy(log:find(" dropped", 1, true))
    assert.is_nil(log:find("SECRETSIG", 1, true))
    assert.is_nil(log:find("testsecret", 1, true))
  end)

  it("passes its command-line options to the service", function()
    local faults = dir .. "/faults.json"
    local f = assert(io.open(faults, "w"))
    f:write('{"throttle":{"first":3}}')
    f:close()
    local fleet = dir .. "/fleet.json"
    f = assert(io.open(fleet, "w"))
    f:write("[]")
    f:close()
    local e = helper.start { args = { "--service", fake, "--credentials", "alice:s3cret", "--credentials=bob:x:y",
      "--credentials", "STS.carol:c-secret:c/token+==", "--time-scale", "50", "--no-timestamp-check",
      "--quota", "7", "--faults", faults, "--seed", "42", "--fleet", fleet, "--clock-offset", "-3600.5" } }
    local o = e:admin("GET", "/_emulator/options")
    e:stop()
    assert.are.same({ testid = "testsecret", alice = "s3cret", bob = { secret = "x", security_token = "y" },
      ["STS.carol"] = { secret = "c-secret", security_token = "c/token+==" } }, o.credentials)
    assert.are.equal(-3600.5, o.clock_offset)
    assert.are.equal(50, o.time_scale)
    assert.are.equal(false, o.check_timestamp)
    assert.are.same({ daily_invocations = 7 }, o.quota)
    assert.are.same({ throttle = { first = 3 } }, o.faults)
    assert.are.equal(42, o.seed)
    assert.are.equal(fleet, o.fleet)
    -- faults as inline JSON
    e = helper.start { args = { "--service", fake, "--faults", '[{"kind":"drop"}]' } }
    o = e:admin("GET", "/_emulator/options")
    e:stop()
    assert.are.same({ { kind = "drop" } }, o.faults)
    assert.are.equal(true, o.check_timestamp)
    assert.is_nil(o.clock_offset)
  end)

  it("rejects bad options with a message and prints --help", function()
    local lua = "lua5.4 " .. helper.shell_quote(helper.root .. "/bin/ecs-emulator")
    local function run(args)
      local p = io.popen(lua .. " " .. args .. " 2>&1 </dev/null; echo \"rc=$?\"")
      local out = p:read("*a")
      p:close()
      return out
    end
    local out = run("--help")
    assert.is_truthy(out:find("--port N", 1, true))
    assert.is_truthy(out:find("rc=0", 1, true))
    for args, msg in pairs({
      ["--bogus"] = "unknown option '--bogus'",
      ["--port"] = "--port needs a value",
      ["--port abc"] = "--port needs a number",
      ["--tls-cert x.pem"] = "--tls-cert and --tls-key go together",
      ["--faults '{not json'"] = "--faults",
      ["--fleet /nonexistent.json"] = "cannot read --fleet file",
      ["--credentials nocolon"] = "--credentials needs ID:SECRET",
      ["--credentials id:secret:"] = "--credentials id: the SecurityToken after the second ':' is empty",
      ["--credentials id::token"] = "--credentials needs ID:SECRET or ID:SECRET:TOKEN (none of them empty)",
      ["--credentials id:"] = "--credentials needs ID:SECRET",
      ["--clock-offset"] = "--clock-offset needs a value",
      ["--clock-offset 1h"] = "--clock-offset needs a number, got '1h'",
      ["--clock-offset 1e999"] = "--clock-offset needs a finite number of seconds",
    }) do
      out = run(args)
      assert.is_truthy(out:find(msg, 1, true), args .. " -> " .. out)
      assert.is_truthy(out:find("rc=2", 1, true), args .. " -> " .. out)
    end
  end)

  it("exits when stdin closes with --stdin-exit, and stops on SIGTERM", function()
    local cmd = "timeout 5 sh -c 'sleep 0.3 | lua5.4 " .. helper.shell_quote(helper.root .. "/bin/ecs-emulator")
      .. " --service " .. helper.shell_quote(fake) .. " --stdin-exit >/dev/null 2>&1'; echo rc=$?"
    local t0 = socket.gettime()
    local p = io.popen(cmd)
    local out = p:read("*a")
    p:close()
    assert.are.equal("rc=0\n", out)
    assert.is_true(socket.gettime() - t0 < 3)
    local e = helper.start { args = { "--service", fake } }
    local port = e.port
    assert.are.equal(200, (e:request("GET", "/")))
    e:stop()
    local s = socket.tcp()
    s:settimeout(1)
    assert.is_nil(s:connect("127.0.0.1", port))
    s:close()
    assert.is_nil(e.pipe)
    e:stop() -- twice is harmless
  end)

  describe("with the C core's libcurl client", function()
    local function client() return core_client(emu.url) end

    it("keeps one connection alive across sequential requests", function()
      local cl = client()
      for i = 1, 10 do
        local resp = assert(cl:send { method = "POST", url = emu.url .. "/seq" .. i, headers = {},
                                      body = "Action=X" })
        assert.are.equal(200, resp.status)
        assert.are.equal("/seq" .. i, cjson.decode(resp.body).path)
      end
      assert.are.same({ requests = 10, connections = 1 }, cl:stats())
      cl:close()
    end)

    it("answers a batch of 64 concurrent transfers", function()
      local cl = client()
      local reqs = {}
      for i = 1, 64 do
        reqs[i] = { method = "GET", url = emu.url .. "/b?delay=0.3&i=" .. i, headers = {}, body = "" }
      end
      local t0 = socket.gettime()
      local out = cl:send_batch(reqs, { concurrency = 64 })
      local elapsed = socket.gettime() - t0
      assert.are.equal(64, #out)
      for i = 1, 64 do
        assert.are.equal(200, out[i].status, tostring(out[i]))
        assert.are.equal("delay=0.3&i=" .. i, cjson.decode(out[i].body).query)
      end
      assert.is_true(elapsed < 4, "64 concurrent delayed transfers took " .. elapsed .. " s")
      assert.is_true(cl:stats().connections <= 64)
      cl:close()
    end)

    it("sees a dropped connection as a network error", function()
      local cl = client()
      local resp, err = cl:send { method = "GET", url = emu.url .. "/d?drop=1", headers = {}, body = "" }
      assert.is_nil(resp)
      assert.is_truthy(tostring(err.code):find("^Network%."), tostring(err))
      cl:close()
    end)
  end)

  describe("with TLS", function()
    local tls, temu

    setup(function()
      tls = helper.make_tls()
      temu = helper.start { args = { "--service", fake }, tls = tls }
    end)

    teardown(function()
      if temu then temu:stop() end
      if tls then helper.rmdir(tls.dir) end
    end)

    it("serves HTTPS with the given certificate, verified against the test CA", function()
      assert.are.equal("https://127.0.0.1:" .. temu.port, temu.url)
      local ssl = require "ssl"
      local raw = connect(temu.port)
      local s = assert(ssl.wrap(raw, { mode = "client", protocol = "any", verify = "peer", cafile = tls.ca }))
      s:settimeout(5)
      assert(s:dohandshake())
      for i = 1, 2 do -- keep-alive over TLS
        assert(s:send(get("/tls" .. i)))
        local status, _, body = read_response(s)
        assert.are.equal(200, status)
        assert.are.equal("/tls" .. i, cjson.decode(body).path)
      end
      s:close()
      assert.are.equal("number", type(temu:admin("GET", "/_emulator/state").requests))
    end)

    it("is verified by the C core's libcurl client with the test CA", function()
      local core = require "ecs.core"
      local cl = core.new { endpoint = temu.url, ca_file = tls.ca, access_key_id = "testid",
                            access_key_secret = "testsecret" }
      for i = 1, 3 do
        local resp = assert(cl:send { method = "GET", url = temu.url .. "/curl" .. i, headers = {}, body = "" })
        assert.are.equal(200, resp.status)
        assert.are.equal("/curl" .. i, cjson.decode(resp.body).path)
      end
      assert.are.equal(1, cl:stats().connections)
      cl:close()
      local strict = core.new { endpoint = temu.url, access_key_id = "testid", access_key_secret = "testsecret" }
      local resp, err = strict:send { method = "GET", url = temu.url .. "/x", headers = {}, body = "" }
      strict:close()
      assert.is_nil(resp)
      assert.are.equal("Network.TLS", err.code)
    end)

    it("survives a plain-HTTP client on the TLS port and a verify failure", function()
      local s = connect(temu.port)
      s:send(get("/plain"))
      s:receive("*a")
      s:close()
      local ssl = require "ssl"
      local raw = connect(temu.port)
      local c = assert(ssl.wrap(raw, { mode = "client", protocol = "any", verify = "peer",
                                       cafile = tls.cert }))
      c:settimeout(5)
      assert.is_falsy((c:dohandshake()))
      c:close()
      local status = temu:request("GET", "/after")
      assert.are.equal(200, status)
    end)

    it("refuses to start with a missing key file, naming the problem", function()
      assert.has_error(function()
        helper.start { args = { "--service", fake }, tls = { cert = tls.cert, key = tls.dir .. "/nope.key" } }
      end)
    end)
  end)
end)

describe("emulator server module", function()
  it("parses request heads", function()
    local r = server._parse_head("POST http://h:1/p?a=b HTTP/1.1\r\nX-A: 1\r\nx-a:  2 \r\nHost: h")
    assert.are.equal("/p", r.path)
    assert.are.equal("a=b", r.query)
    assert.are.equal("1, 2", r.headers["x-a"])
    assert.is_true(r.keep_alive)
    assert.are.equal(400, server._parse_head("get / HTTP/1.1").bad)
    assert.are.equal(400, server._parse_head("GET noslash HTTP/1.1").bad)
  end)

  it("formats responses with framing headers of its own", function()
    local text = server._format_response(201, { ["Content-Length"] = "999", ["x-a"] = "b\r\nInjected: 1" },
      "abc", false)
    assert.is_truthy(text:find("^HTTP/1%.1 201 Created\r\n"))
    assert.is_truthy(text:find("\r\nContent-Length: 3\r\n", 1, true))
    assert.is_nil(text:find("999", 1, true))
    assert.is_nil(text:find("\r\nInjected", 1, true))
    assert.is_truthy(text:find("\r\nConnection: close\r\n\r\nabc$"))
  end)

  it("checks its arguments", function()
    assert.has_error(function() server.new(nil) end,
      "server.new: service must be an object with a handle method, got nil")
    assert.has_error(function() server.new({}) end, "server.new: service has no handle method")
    local svc = { handle = function() end }
    assert.has_error(function() server.new(svc, { prot = 1 }) end, "server.new: unknown option 'prot'")
    assert.has_error(function() server.new(svc, { port = 70000 }) end)
    assert.has_error(function() server.new(svc, { tls = { cert = "x" } }) end,
      "server.new: tls must be { cert = FILE, key = FILE }")
  end)

  it("listens on a free port and reports a taken one", function()
    local svc = { handle = function() return { status = 200 } end }
    local a = server.new(svc)
    local port = assert(a:listen())
    assert.is_true(port > 0)
    local b = server.new(svc, { port = port })
    local ok, err = b:listen()
    assert.is_nil(ok)
    assert.is_truthy(err:find("cannot bind 127.0.0.1:" .. port, 1, true))
    a:close_all()
    local free = helper.free_port()
    local s = assert(socket.bind("127.0.0.1", free))
    s:close()
  end)
end)

describe("emulator host serving the real service", function()
  local core = require "ecs.core"
  local dir, emu

  setup(function()
    dir = helper.tmpdir()
    emu = helper.start { args = { "--log", dir .. "/access.log", "--time-scale", "50" } }
  end)

  teardown(function()
    if emu then emu:stop() end
    helper.rmdir(dir)
  end)

  before_each(function()
    emu:admin("DELETE", "/_emulator/faults")
  end)

  local function client(extra) return core_client(emu.url, extra) end

  it("answers requests signed with V3 and with V2", function()
    for _, v in ipairs({ "v3", "v2" }) do
      local cl = client { signature_version = v }
      local res, err = cl:call("DescribeInstances", { MaxResults = 100 })
      cl:close()
      assert.is_truthy(res, v .. ": " .. tostring(err))
      assert.is_true(#res.Instances.Instance >= 10)
      assert.are.equal("string", type(res.RequestId))
    end
  end)

  it("passes the service's signature errors through with their status", function()
    local cl = client { access_key_secret = "not-the-secret" }
    local res, err = cl:call("DescribeInstances", {})
    cl:close()
    assert.is_nil(res)
    assert.are.equal("SignatureDoesNotMatch", err.code)
    assert.are.equal(400, err.http_status)
    assert.is_nil(tostring(err):find("not-the-secret", 1, true))
  end)

  it("answers 64 concurrent signed calls, each once", function()
    local before = emu:admin("GET", "/_emulator/counters")
    local cl = client()
    local calls = {}
    for i = 1, 64 do calls[i] = { "DescribeCloudAssistantStatus", { InstanceId = { "i-bp1emuweb01" } } } end
    local t0 = socket.gettime()
    local out = cl:call_batch(calls, { concurrency = 64 })
    local elapsed = socket.gettime() - t0
    cl:close()
    local ids = {}
    for i = 1, 64 do
      local res, err = out[i][1], out[i][2]
      assert.is_truthy(res, tostring(err))
      local st = res.InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus[1]
      assert.are.equal("i-bp1emuweb01", st.InstanceId)
      ids[res.RequestId] = true
    end
    local n = 0
    for _ in pairs(ids) do n = n + 1 end
    assert.are.equal(64, n)
    local after = emu:admin("GET", "/_emulator/counters")
    assert.are.equal((before.calls.DescribeCloudAssistantStatus or 0) + 64, after.calls.DescribeCloudAssistantStatus)
    assert.is_true(elapsed < 10, "64 calls took " .. elapsed .. " s")
  end)

  it("holds delayed answers without blocking other connections", function()
    emu:admin("POST", "/_emulator/faults", { { kind = "delay", delay = 0.5, action = "DescribeRegions" } })
    local cl = client()
    local calls = {}
    for i = 1, 20 do calls[i] = { "DescribeRegions", {} } end
    local t0 = socket.gettime()
    local out = cl:call_batch(calls, { concurrency = 20 })
    local elapsed = socket.gettime() - t0
    cl:close()
    for i = 1, 20 do assert.is_truthy(out[i][1], tostring(out[i][2])) end
    assert.is_true(elapsed >= 0.45, "delay not applied: " .. elapsed)
    assert.is_true(elapsed < 0.5 * 20 / 4, "20 delayed calls took " .. elapsed .. " s")
  end)

  it("drops connections before and after the action, and keeps serving", function()
    emu:admin("POST", "/_emulator/faults", { { kind = "drop_after", action = "CreateCommand", first = 1 },
                                            { kind = "drop_before", action = "DescribeInstances", first = 1 } })
    local cl = client()
    local res, err = cl:call("CreateCommand", { Name = "dropped", Type = "RunShellScript",
                                                CommandContent = core.base64_encode("echo hi") })
    assert.is_nil(res)
    assert.is_truthy(tostring(err.code):find("^Network%."), tostring(err))
    local state = emu:admin("GET", "/_emulator/state")
    local found = false
    for _, c in ipairs(state.commands) do if c.Name == "dropped" then found = true end end
    assert.is_true(found, "drop_after: the command should exist")
    res, err = cl:call("DescribeInstances", {})
    assert.is_nil(res)
    assert.is_truthy(tostring(err.code):find("^Network%."), tostring(err))
    res, err = cl:call("DescribeInstances", {})
    assert.is_truthy(res, tostring(err))
    cl:close()
  end)

  it("resets its state through the admin endpoint", function()
    local cl = client()
    assert(cl:call("CreateCommand", { Name = "to-reset", Type = "RunShellScript",
                                      CommandContent = core.base64_encode("echo hi") }))
    cl:close()
    assert.is_true(#emu:admin("GET", "/_emulator/state").commands >= 1)
    local ok, status = emu:admin("POST", "/_emulator/reset")
    assert.are.equal(200, status)
    assert.are.same({ ok = true }, ok)
    assert.are.equal(0, #emu:admin("GET", "/_emulator/state").commands)
  end)

  it("answers IdempotentProcessing to a same-token retry while the first answer is delayed", function()
    local cl = client()
    local cmd = assert(cl:call("CreateCommand", { Name = "busy", Type = "RunShellScript",
                                                  CommandContent = core.base64_encode("echo busy") })).CommandId
    local before = emu:admin("GET", "/_emulator/counters").invocations
    emu:admin("POST", "/_emulator/faults", { { kind = "delay", delay = 1, action = "InvokeCommand", first = 1 } })
    local params = { CommandId = cmd, InstanceId = { "i-bp1emuweb01" }, ClientToken = "server-busy-1" }
    local t0 = socket.gettime()
    local out = cl:call_batch({ { "InvokeCommand", params }, { "InvokeCommand", params } }, { concurrency = 2 })
    local elapsed = socket.gettime() - t0
    local ok, busy = {}, {}
    for i = 1, 2 do
      if out[i][1] then ok[#ok + 1] = out[i][1] else busy[#busy + 1] = out[i][2] end
    end
    assert.are.equal(1, #ok, "one answer expected: " .. tostring(busy[2] or busy[1]))
    assert.are.equal(1, #busy)
    assert.are.equal("IdempotentProcessing", busy[1].code)
    assert.are.equal(403, busy[1].http_status)
    assert.is_true(elapsed >= 0.95, "the first answer was not delayed: " .. elapsed)
    -- after the first answer, the token replays it
    local again, err = cl:call("InvokeCommand", params)
    assert.is_truthy(again, tostring(err))
    assert.are.equal(ok[1].InvokeId, again.InvokeId)
    assert.are.equal(before + 1, emu:admin("GET", "/_emulator/counters").invocations)
    cl:close()
  end)

  it("lets the ecs client that gave up waiting retry through IdempotentProcessing to one invocation", function()
    local ecs = require "ecs"
    local c = ecs.new { region = "cn-hangzhou", endpoint = emu.url, access_key_id = "testid",
                        access_key_secret = "testsecret", timeout = 0.4,
                        retry = { attempts = 10, base_delay = 0.1, max_delay = 0.3 } }
    local cmd = assert(c:create_command { Name = "patient", Type = "RunShellScript",
                                          CommandContent = core.base64_encode("echo once") }).CommandId
    local before = emu:admin("GET", "/_emulator/counters").invocations
    emu:admin("DELETE", "/_emulator/requests")
    emu:admin("POST", "/_emulator/faults", { { kind = "delay", delay = 1.2, action = "InvokeCommand", first = 1 } })
    local res, err = c:invoke_command { CommandId = cmd, InstanceId = { "i-bp1emuweb01" } }
    assert.is_truthy(res, tostring(err))
    assert.are.equal(before + 1, emu:admin("GET", "/_emulator/counters").invocations)
    local log = emu:admin("GET", "/_emulator/requests?action=InvokeCommand").requests
    local token, processing = log[1].params.ClientToken, 0
    assert.are.equal("delay", log[1].fault)
    for _, e in ipairs(log) do
      assert.are.equal(token, e.params.ClientToken)
      if e.code == "IdempotentProcessing" then processing = processing + 1 end
    end
    assert.is_true(processing >= 1, "no retry met the request in flight")
    assert.are.equal(200, log[#log].status)
    local state = emu:admin("GET", "/_emulator/state")
    assert.are.equal(res.InvokeId, state.invocations[#state.invocations].InvokeId)
  end)

  it("answers empty admin lists as JSON arrays", function()
    local status, _, body = emu:request("DELETE", "/_emulator/faults")
    assert.are.equal(200, status)
    assert.are.equal('{"rules":[]}', body)
    status, _, body = emu:request("GET", "/_emulator/faults")
    assert.are.equal(200, status)
    assert.are.equal('{"rules":[]}', body)
    emu:admin("DELETE", "/_emulator/requests")
    status, _, body = emu:request("GET", "/_emulator/requests")
    assert.are.equal(200, status)
    assert.are.equal('{"requests":[]}', body)
    _, _, body = emu:request("GET", "/_emulator/state")
    assert.truthy(body:find('"faults":[]', 1, true), body:sub(1, 200))
  end)

  it("logs each API call by action, without signatures or secrets", function()
    for _, v in ipairs({ "v3", "v2" }) do
      local cl = client { signature_version = v }
      assert(cl:call("DescribeRegions", {}))
      cl:close()
    end
    local log = helper.read_file(dir .. "/access.log")
    local _, n = log:gsub(" POST / DescribeRegions 200 ", "")
    assert.is_true(n >= 2)
    assert.is_truthy(log:find(" SignatureDoesNotMatch ", 1, true))
    assert.is_truthy(log:find(" dropped", 1, true))
    for _, secret in ipairs({ "testsecret", "not-the-secret", "Signature=", "ACS3-HMAC-SHA256" }) do
      assert.is_nil(log:find(secret, 1, true), secret)
    end
  end)
end)

describe("emulator launcher with --clock-offset and STS credentials", function()
  local core = require "ecs.core"
  local emu

  setup(function()
    emu = helper.start { args = { "--clock-offset", "3600", "--credentials", "STS.emu:sts-secret:sts/token+1==" } }
  end)

  teardown(function()
    if emu then emu:stop() end
  end)

  local function client(extra) return core_client(emu.url, extra) end

  it("runs its clock the given offset ahead: Date header, timestamp check, admin clock", function()
    local status, headers = emu:request("GET", "/_emulator/clock")
    assert.are.equal(200, status)
    local date = core.parse_http_date(headers.date)
    assert.is_true(math.abs(date - (socket.gettime() + 3600)) <= 2, headers.date)
    local clk = emu:admin("GET", "/_emulator/clock")
    assert.are.equal(3600, clk.offset)
    assert.is_true(math.abs(clk.wall - socket.gettime() - 3600) <= 2)
    for _, v in ipairs { "v3", "v2" } do
      local cl = client { signature_version = v }
      local res, err = cl:call("DescribeRegions", {}, { nonce = "skew-" .. v })
      assert.is_nil(res)
      assert.are.equal("InvalidTimeStamp.Expired", err.code, v)
      cl:set_time_offset(3600)
      res, err = cl:call("DescribeRegions", {})
      assert.is_truthy(res, v .. ": " .. tostring(err))
      cl:close()
    end
  end)

  it("accepts an STS pair only with its SecurityToken (V2 and V3)", function()
    local base = { access_key_id = "STS.emu", access_key_secret = "sts-secret" }
    for _, v in ipairs { "v3", "v2" } do
      local function call(token)
        local cfg = { signature_version = v, security_token = token }
        for k, x in pairs(base) do cfg[k] = x end
        local cl = client(cfg)
        cl:set_time_offset(3600)
        local res, err = cl:call("DescribeRegions", {})
        cl:close()
        return res, err
      end
      local res, err = call("sts/token+1==")
      assert.is_truthy(res, v .. ": " .. tostring(err))
      res, err = call(nil)
      assert.is_nil(res)
      assert.are.equal("InvalidSecurityToken.Malformed", err.code, v)
      assert.are.equal(400, err.http_status)
      res, err = call("sts/token+2==")
      assert.is_nil(res)
      assert.are.equal("InvalidSecurityToken.MismatchWithAccessKey", err.code, v)
      assert.are.equal(400, err.http_status)
      assert.is_nil(tostring(err):find("sts/token", 1, true))
    end
    -- the default pair needs no token
    local cl = client()
    cl:set_time_offset(3600)
    assert.is_truthy(cl:call("DescribeRegions", {}))
    cl:close()
  end)

  it("changes the offset at run time through the admin endpoint", function()
    local clk, status = emu:admin("POST", "/_emulator/clock", { offset = 0 })
    assert.are.equal(200, status)
    assert.are.equal(0, clk.offset)
    local cl = client()
    local res, err = cl:call("DescribeRegions", {})
    cl:close()
    assert.is_truthy(res, tostring(err))
    local _, headers = emu:request("GET", "/_emulator/clock")
    assert.is_true(math.abs(core.parse_http_date(headers.date) - socket.gettime()) <= 2, headers.date)
    emu:admin("POST", "/_emulator/clock", { offset = 3600 })
  end)
end)

describe("make demo (scripts/demo.sh, examples/quickstart.lua)", function()
  local function run(cmd)
    local p = io.popen(cmd .. " 2>&1; echo \"rc=$?\"")
    local out = p:read("*a")
    p:close()
    return out
  end

  it("runs the quickstart against a fresh emulator and stops it", function()
    local out = run("bash " .. helper.shell_quote(helper.root .. "/scripts/demo.sh"))
    assert.is_truthy(out:find("rc=0\n", 1, true), out)
    for _, want in ipairs({ "Step 1/5", "DescribeInstances", "DescribeCloudAssistantStatus", "CreateCommand",
                            "InvokeCommand", "DescribeInvocationResults", "DeleteCommand",
                            "InvalidInstance.NotMatch", "Not eligible", "instance is Stopped, not Running",
                            "Demo finished" }) do
      assert.is_truthy(out:find(want, 1, true), "missing '" .. want .. "' in:\n" .. out)
    end
    -- every eligible instance printed Success, exit code 0 and its decoded output
    local ok_rows = 0
    for id in out:gmatch("\n  (i%-%w+) +Success +0 +Hello from i%-%w+\n") do
      ok_rows = ok_rows + 1
      assert.is_truthy(out:find("Hello from " .. id, 1, true))
    end
    assert.is_true(ok_rows >= 3, out)
    local port = tonumber(out:match("listening on 127%.0%.0%.1:(%d+)"))
    local s = socket.tcp()
    s:settimeout(1)
    assert.is_nil(s:connect("127.0.0.1", port), "the emulator is still running")
    s:close()
  end)

  describe("the quickstart", function()
    local emu
    local function quickstart(endpoint)
      return run("cd " .. helper.shell_quote(helper.root) .. " && env -u ALIBABA_CLOUD_SECURITY_TOKEN"
        .. " ECS_ENDPOINT=" .. helper.shell_quote(endpoint or "")
        .. " ALIBABA_CLOUD_ACCESS_KEY_ID=testid ALIBABA_CLOUD_ACCESS_KEY_SECRET=testsecret"
        .. " LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/?.so;;'"
        .. " lua5.4 examples/quickstart.lua")
    end

    before_each(function() emu = helper.start { args = { "--time-scale", "50" } } end)
    after_each(function() emu:stop() end)

    it("exits non-zero with a readable line when no instance can run the script", function()
      local _, status = emu:admin("POST", "/_emulator/fleet", { instances = {
        { InstanceId = "i-only-stopped", RegionId = "cn-hangzhou", Status = "Stopped" } } })
      assert.are.equal(200, status)
      local out = quickstart(emu.url)
      assert.is_truthy(out:find("FAILED: select_instances: no instance is Running", 1, true), out)
      assert.is_truthy(out:find("rc=1\n", 1, true), out)
    end)

    it("exits non-zero when a call fails", function()
      emu:admin("POST", "/_emulator/faults", { { kind = "error500", action = "DeleteCommand" } })
      local out = quickstart(emu.url)
      assert.is_truthy(out:find("FAILED: DeleteCommand: DeleteCommand: InternalError", 1, true), out)
      assert.is_truthy(out:find("rc=1\n", 1, true), out)
    end)

    it("refuses to start without ECS_ENDPOINT", function()
      local out = quickstart(nil)
      assert.is_truthy(out:find("set ECS_ENDPOINT", 1, true), out)
      assert.is_truthy(out:find("rc=2\n", 1, true), out)
    end)
  end)
end)
