-- The cosocket HTTP pieces and the phase check without nginx: a scripted
-- socket stands in for ngx.socket.tcp, a table for the ngx global.
local http = require "ecs.ngx.http"
local phase = require "ecs.ngx.phase"
local transport = require "ecs.transport.ngx"

-- a socket whose receive() serves `data` the way cosockets do
local function fake_sock(data)
  local pos = 1
  local s = {}
  function s.receive(_, p)
    if p == "*l" then
      local nl = data:find("\n", pos, true)
      if not nl then
        local rest = data:sub(pos); pos = #data + 1
        return nil, "closed", rest
      end
      local line = data:sub(pos, nl - 1):gsub("\r$", "")
      pos = nl + 1
      return line
    elseif p == "*a" then
      local rest = data:sub(pos); pos = #data + 1
      return rest
    else
      if pos + p - 1 > #data then
        local rest = data:sub(pos); pos = #data + 1
        return nil, "closed", rest
      end
      local out = data:sub(pos, pos + p - 1)
      pos = pos + p
      return out
    end
  end
  return s
end

describe("ecs.ngx.http", function()
  it("parses endpoint URLs", function()
    local host = "ecs.cn-hangzhou.aliyuncs.com"
    assert.are.same({ scheme = "https", host = host, port = 443, path = "/", authority = host },
                    http.parse_url("https://" .. host))
    local u = http.parse_url("http://127.0.0.1:8080/latest/meta-data?x=1")
    assert.are.equal(8080, u.port)
    assert.are.equal("/latest/meta-data?x=1", u.path)
    assert.are.equal("127.0.0.1:8080", u.authority)
    assert.are.equal("::1", http.parse_url("http://[::1]:9/").host)
    assert.are.same({ nil, "endpoint must start with http:// or https://" }, { http.parse_url("ftp://x") })
    assert.are.same({ nil, "endpoint port out of range" }, { http.parse_url("http://h:70000") })
  end)

  it("serializes a prepared request with our own framing headers", function()
    local text = http.serialize({ method = "POST", path = "/", host = "h:1", body = "a=b",
      headers = { host = "evil", ["content-length"] = "99", ["x-acs-action"] = "DescribeRegions" } }, "ua/1")
    assert.matches("^POST / HTTP/1%.1\r\nHost: h:1\r\n", text)
    assert.matches("\r\nx%-acs%-action: DescribeRegions\r\n", text)
    assert.matches("\r\nContent%-Length: 3\r\n", text)
    assert.matches("\r\nConnection: keep%-alive\r\n", text)
    assert.matches("\r\nUser%-Agent: ua/1\r\n", text)
    assert.matches("\r\n\r\na=b$", text)
    assert.is_nil(text:find("evil", 1, true))
    assert.is_nil(text:find("99", 1, true))
  end)

  it("reads a content-length answer and keeps HTTP/1.1 connections", function()
    local r = http.read(fake_sock("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhelloEXTRA"))
    assert.are.equal(200, r.status)
    assert.are.equal("hello", r.body)
    assert.are.equal("1, 2", r.headers["x-a"])
    assert.is_true(r.keepalive)
  end)

  it("reads chunked answers with extensions and trailers", function()
    local r = http.read(fake_sock("HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n"
      .. "4;ext=1\r\n{\"Co\r\n6\r\nde\":1}\r\n0\r\nX-T: y\r\n\r\n"))
    assert.are.equal(400, r.status)
    assert.are.equal('{"Code":1}', r.body)
    assert.is_true(r.keepalive)
  end)

  it("reads to the end without a length and then drops the connection", function()
    local r = http.read(fake_sock("HTTP/1.0 200 OK\r\n\r\nall of it"))
    assert.are.equal("all of it", r.body)
    assert.is_false(r.keepalive)
    r = http.read(fake_sock("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))
    assert.are.equal("", r.body)
    assert.is_false(r.keepalive)
  end)

  it("skips 100 Continue", function()
    local r = http.read(fake_sock("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"))
    assert.are.equal(204, r.status)
    assert.are.equal("", r.body)
  end)

  it("reports where a broken answer failed", function()
    assert.are.same({ nil, "closed", "status" }, { http.read(fake_sock("")) })
    assert.are.same({ nil, "bad status line", "status" }, { http.read(fake_sock("SMTP ready\r\n")) })
    assert.are.same({ nil, "closed", "body" },
      { http.read(fake_sock("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")) })
    assert.are.same({ nil, "bad chunk size line", "body" },
      { http.read(fake_sock("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")) })
    assert.are.same({ nil, "bad content-length", "body" },
      { http.read(fake_sock("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")) })
  end)
end)

describe("ecs.ngx.phase", function()
  local saved
  before_each(function() saved = rawget(_G, "ngx") end)
  after_each(function() rawset(_G, "ngx", saved) end)

  it("says outside nginx that the ngx transport needs nginx", function()
    rawset(_G, "ngx", nil)
    local ok, err = phase.check("InvokeCommand")
    assert.is_nil(ok)
    assert.are.equal("Ngx.NotInNginx", err.code)
    assert.matches('transport = "curl"', err.message, 1, true)
  end)

  it("refuses every phase that cannot yield, naming it, and allows the others", function()
    local current
    rawset(_G, "ngx", { get_phase = function() return current end })
    for _, p in ipairs { "init", "init_worker", "set", "header_filter", "body_filter", "log", "balancer",
                         "exit_worker", "ssl_session_store" } do
      current = p
      local ok, err = phase.check("InvokeCommand")
      assert.is_nil(ok)
      assert.are.equal("Ngx.PhaseNotYieldable", err.code)
      assert.are.equal(p, err.phase)
      assert.is_false(err.retryable)
      assert.matches("'" .. p .. "' phase", err.message, 1, true)
      assert.matches("ngx.timer.at", err.message, 1, true)
      assert.matches("^InvokeCommand: Ngx.PhaseNotYieldable: cannot send", tostring(err))
    end
    for _, p in ipairs { "rewrite", "access", "content", "timer", "ssl_cert" } do
      current = p
      assert.is_true(phase.check("InvokeCommand"))
    end
  end)

  it("the transport returns the phase error instead of touching a socket", function()
    rawset(_G, "ngx", { get_phase = function() return "init_worker" end,
                        socket = { tcp = function() error("must not be called") end } })
    local t = transport.new({ tls = { verify = true }, timeout = { connect = 1, read = 1 },
                              signature_version = "v3", region = "cn-hangzhou" }, "http://127.0.0.1:1")
    local res, err = t:call("DescribeRegions", {})
    assert.is_nil(res)
    assert.are.equal("Ngx.PhaseNotYieldable", err.code)
    local list = t:call_batch({ { "DescribeRegions", {} }, { "DescribeRegions", {} } })
    assert.are.equal(2, #list)
    assert.are.equal("Ngx.PhaseNotYieldable", list[2][2].code)
    assert.are.equal(0, t:stats().requests)
  end)

  it("sends through the socket, decodes, pools, and runs a batch inline where threads are unavailable", function()
    local sent, pooled, opened = {}, 0, 0
    rawset(_G, "ngx", {
      get_phase = function() return "content" end,
      thread = { spawn = function() error("API disabled in the current context") end },
      socket = { tcp = function()
        local s = fake_sock('HTTP/1.1 200 OK\r\nContent-Length: 18\r\n\r\n{"RequestId":"r1"}')
        function s.settimeouts() end
        function s.connect(_, host, port, o)
          opened = opened + 1
          assert.are.equal("127.0.0.1", host)
          assert.are.equal(9, port)
          assert.are.equal("ecs:http://127.0.0.1:9/verify/127.0.0.1", o.pool)
          return true
        end
        function s.getreusedtimes() return 0 end
        function s.send(_, b) sent[#sent + 1] = b; return #b end
        function s.setkeepalive() pooled = pooled + 1; return true end
        function s.close() end
        return s
      end },
    })
    local logged = {}
    local t = transport.new({ tls = { verify = true, ca_file = "/x.pem" }, timeout = { connect = 1, read = 1 },
                              signature_version = "v3", region = "cn-hangzhou" }, "http://127.0.0.1:9",
                            { log = function(_, ev) logged[#logged + 1] = ev end })
    assert.matches("tls.ca_file", logged[1].message, 1, true)
    t:set_credentials { access_key_id = "testid", access_key_secret = "testsecret" }
    local res = assert(t:call("DescribeRegions", {}))
    assert.are.equal("r1", res.RequestId)
    assert.matches("^POST / HTTP/1%.1\r\nHost: 127%.0%.0%.1:9\r\n", sent[1])
    assert.matches("\r\nx%-acs%-action: DescribeRegions\r\n", sent[1])
    assert.matches("\r\n\r\nRegionId=cn%-hangzhou$", sent[1])
    assert.is_nil(sent[1]:find("testsecret", 1, true))
    local list = t:call_batch({ { "DescribeRegions", {} }, { "DescribeRegions", {} }, { "DescribeRegions", {} } },
                              { concurrency = 2 })
    assert.are.equal(3, #list)
    for i = 1, 3 do assert.are.equal("r1", list[i][1].RequestId) end
    assert.are.same({ requests = 4, connections = 4, reused = 0, in_flight = 0, max_in_flight = 1 }, t:stats())
    assert.are.equal(4, pooled)
    assert.are.equal(4, opened)
  end)

  it("replaces a pooled connection the server had closed, once, and reports a closed fresh one", function()
    local sockets = 0
    local answers = { "", 'HTTP/1.1 200 OK\r\nContent-Length: 18\r\n\r\n{"RequestId":"r2"}', "", "" }
    rawset(_G, "ngx", { get_phase = function() return "timer" end, socket = { tcp = function()
      sockets = sockets + 1
      local n = sockets
      local s = fake_sock(answers[n])
      function s.settimeouts() end
      function s.connect() return true end
      function s.getreusedtimes() return (n == 1 or n == 3) and 3 or 0 end
      function s.send(_, b) return #b end
      function s.setkeepalive() return true end
      function s.close() end
      return s
    end } })
    local t = transport.new({ tls = { verify = true }, timeout = { connect = 1, read = 1 },
                              signature_version = "v2", region = "cn-hangzhou" }, "http://127.0.0.1:9")
    t:set_credentials { access_key_id = "testid", access_key_secret = "testsecret" }
    assert.are.equal("r2", assert(t:call("DescribeRegions", {})).RequestId)
    assert.are.equal(2, sockets)
    local res, err = t:call("DescribeRegions", {})
    assert.is_nil(res)
    assert.are.equal("Network.EmptyReply", err.code)
    assert.is_true(err.retryable)
    assert.are.equal(4, sockets)
    local st = t:stats()
    assert.are.equal(2, st.requests)
    assert.are.equal(2, st.connections)
    assert.are.equal(2, st.reused)
  end)

  it("validates the ngx option table", function()
    local cfg = { tls = { verify = true }, timeout = { connect = 1, read = 1 } }
    cfg.ngx = { pool = 3 }
    assert.has_error(function() transport.new(cfg, "http://h") end,
      "ecs.new: bad option 'ngx': unknown option 'pool'")
    cfg.ngx = { pool_size = 0 }
    assert.has_error(function() transport.new(cfg, "http://h") end,
      "ecs.new: bad option 'ngx': 'pool_size' must be a positive number")
    cfg.ngx = nil
    assert.has_error(function() transport.new(cfg, "gopher://h") end,
      "ecs.new: bad endpoint 'gopher://h': endpoint must start with http:// or https://")
  end)
end)
