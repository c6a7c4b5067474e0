-- Endpoints, timeouts, TLS verification and proxies.
local ecs = require "ecs"
local endpoints = require "ecs.endpoints"
local helper = require "helpers.emulator"
local metadata_server = require "helpers.metadata_server"

local function url_of(cfg)
  local c = ecs.new(cfg)
  return c.url
end

describe("endpoints", function()
  it("uses the explicit endpoint first", function()
    assert.equals("http://127.0.0.1:8080", url_of { region = "cn-hangzhou", endpoint = "http://127.0.0.1:8080" })
    assert.equals("https://ecs.example.internal", url_of { region = "cn-hangzhou", endpoint = "ecs.example.internal" })
    assert.equals("https://h:9", url_of { endpoint = "https://h:9/" })
  end)

  it("builds the regional, VPC and central hosts", function()
    assert.equals("https://ecs.cn-hangzhou.aliyuncs.com", url_of { region = "cn-hangzhou" })
    assert.equals("https://ecs.eu-central-1.aliyuncs.com", url_of { region = "eu-central-1" })
    assert.equals("https://ecs-vpc.cn-shanghai.aliyuncs.com", url_of { region = "cn-shanghai", network = "vpc" })
    assert.equals("https://ecs.ap-southeast-1.aliyuncs.com", url_of { region = "ap-southeast-1", network = "public" })
    for _, r in ipairs { "cn-hangzhou-finance", "cn-shanghai-inner", "cn-north-2-gov-1", "cn-wuhan",
                         "cn-zhangbei", "cn-yushanfang", "rus-west-1-pop", "ap-northeast-2-pop",
                         "cn-beijing-finance-pop", "cn-hongkong-finance-pop" } do
      assert.equals("https://ecs.aliyuncs.com", url_of { region = r })
    end
  end)

  it("rejects bad regions and endpoints with a message naming the problem", function()
    assert.has_error(function() ecs.new { region = "cn hangzhou" } end,
      "ecs.new: bad option 'region': 'cn hangzhou' is not a region ID")
    assert.has_error(function() ecs.new { region = "cn-hangzhou/../x" } end)
    assert.has_error(function() ecs.new { region = ("a"):rep(65) } end)
    assert.has_error(function() ecs.new { region = "cn-hangzhou", network = "intranet" } end)
    assert.has_error(function() ecs.new { region = "cn-hangzhou", endpoint = "ftp://h" } end,
      "ecs.new: bad endpoint 'ftp://h': the scheme must be http or https")
    assert.has_error(function() ecs.new { region = "cn-hangzhou", endpoint = "http://h/api" } end,
      "ecs.new: bad endpoint 'http://h/api': RPC requests go to path /, give the endpoint without a path")
    assert.has_error(function() ecs.new { region = "cn-hangzhou", endpoint = "http://h x" } end)
    assert.has_error(function() ecs.new { region = "cn-hangzhou", endpoint = "http://" } end)
    local ok, msg = endpoints.resolve {}
    assert.is_nil(ok)
    assert.matches("no region", msg)
    assert.is_true(endpoints.valid_region("cn-hangzhou"))
    assert.is_false(endpoints.valid_region("cn.hangzhou"))
  end)

  it("does not touch the network at require time or in ecs.new", function()
    local fake = metadata_server.start()
    finally(function() fake:stop() end)
    package.loaded["ecs"] = nil
    local again = require "ecs"
    local c = again.new { region = "cn-hangzhou", endpoint = fake.url,
      credentials = { getenv = function() return nil end, home = "/nonexistent", metadata = { url = fake.url } } }
    assert.same({}, fake:log())
    assert.matches("ecs.client", tostring(c))
  end)
end)

describe("timeouts", function()
  local emu
  setup(function() emu = helper.start {} end)
  teardown(function() emu:stop() end)

  local function client(cfg)
    local c = { region = "cn-hangzhou", endpoint = emu.url, access_key_id = "testid", access_key_secret = "testsecret",
                signature_version = "v2" }
    for k, v in pairs(cfg or {}) do c[k] = v end
    return ecs.new(c)
  end

  it("defaults to 5 s connect and 10 s read", function()
    assert.same({ connect = 5, read = 10 }, client().config.timeout)
    assert.same({ connect = 5, read = 30 }, client({ timeout = 30 }).config.timeout)
    assert.same({ connect = 2, read = 10 }, client({ timeout = { connect = 2 } }).config.timeout)
    assert.has_error(function() client { timeout = { read = -1 } } end)
    assert.has_error(function() client { timeout = { write = 1 } } end)
    assert.has_error(function() client():describe_instances({}, { timeout = "fast" }) end,
      "ecs: DescribeInstances: call option 'timeout' must be a number of seconds between 0 and 86400")
  end)

  it("a slow answer times out under the client's read timeout, and the retry succeeds", function()
    emu:admin("POST", "/_emulator/faults", { { kind = "delay", delay = 3, first = 1 } })
    local c = client { timeout = { read = 0.3 } }
    local t0 = require("socket").gettime()
    local _, err = c:describe_instances({}, { retry = false })
    assert.equals("Network.Timeout", err.code)
    assert.is_true(require("socket").gettime() - t0 < 2)
    emu:admin("POST", "/_emulator/faults", { { kind = "delay", delay = 3, first = 1 } })
    local res, e2 = c:describe_instances({}, { retry = { attempts = 2, base_delay = 0.001, max_delay = 0.001 } })
    assert.is_nil(e2)
    assert.is_number(res.TotalCount)
  end)

  it("a call's timeout overrides the client's", function()
    emu:admin("POST", "/_emulator/faults", { { kind = "delay", delay = 3, first = 1 } })
    local c = client()
    local t0 = require("socket").gettime()
    local _, err = c:describe_instances({}, { retry = false, timeout = 0.3 })
    assert.equals("Network.Timeout", err.code)
    assert.is_true(require("socket").gettime() - t0 < 2)
  end)
end)

describe("TLS and proxies", function()
  it("switching verification off is explicit and logged once", function()
    local events = {}
    local c = ecs.new { region = "cn-hangzhou", endpoint = "https://127.0.0.1:9", access_key_id = "a",
                        access_key_secret = "b", tls = { verify = false }, retry = false,
                        logger = function(ev) events[#events + 1] = ev end }
    c:describe_instances {}
    c:describe_instances {}
    local warnings = 0
    for _, ev in ipairs(events) do
      if ev.event == "warning" and ev.message:find("TLS certificate verification is switched off", 1, true) then
        warnings = warnings + 1
      end
    end
    assert.equals(1, warnings)
    assert.has_error(function() ecs.new { region = "cn-hangzhou", tls = { verify = "no" } } end)
    assert.has_error(function() ecs.new { region = "cn-hangzhou", tls = { insecure = true } } end)
  end)

  it("sends through the proxy option, and goes direct for no_proxy hosts", function()
    local fake = metadata_server.start()
    finally(function() fake:stop() end)
    local port = helper.free_port() -- nothing listens here: only the proxy can answer
    local cfg = { region = "cn-hangzhou", endpoint = "http://127.0.0.1:" .. port, access_key_id = "testid",
                  access_key_secret = "testsecret", signature_version = "v2", proxy = fake.url, retry = false }
    local res, err = ecs.new(cfg):describe_instances {}
    assert.is_nil(err)
    assert.is_number(res.TotalCount)
    local log = fake:log()
    assert.equals(1, #log)
    assert.equals("127.0.0.1:" .. port, log[1].host)
    cfg.no_proxy = "127.0.0.1"
    local _, e2 = ecs.new(cfg):describe_instances {}
    assert.equals("Network.ConnectFailed", e2.code)
    assert.equals(1, #fake:log())
  end)

  it("honours http_proxy and NO_PROXY from the environment as curl does", function()
    local fake = metadata_server.start()
    finally(function() fake:stop() end)
    local port = helper.free_port()
    local script = table.concat({
      "package.path = 'lua/?.lua;lua/?/init.lua;' .. package.path",
      "package.cpath = 'build/?.so;' .. package.cpath",
      "local c = require('ecs').new { region = 'cn-hangzhou', endpoint = 'http://127.0.0.1:" .. port .. "',",
      "  access_key_id = 'testid', access_key_secret = 'testsecret', signature_version = 'v2', retry = false }",
      "local res, err = c:describe_instances {}",
      "io.write(res and 'ok' or tostring(err.code))" }, "\n")
    local function run(env)
      local cmd = "cd " .. helper.shell_quote(helper.root)
        .. " && env -u HTTP_PROXY -u HTTPS_PROXY -u https_proxy -u no_proxy -u ALL_PROXY -u all_proxy "
        .. env .. " lua5.4 -e " .. helper.shell_quote(script)
      local p = io.popen(cmd)
      local out = p:read("*a")
      p:close()
      return out
    end
    assert.equals("ok", run("http_proxy=" .. fake.url .. " NO_PROXY="))
    assert.equals("127.0.0.1:" .. port, fake:log()[1].host)
    assert.equals("Network.ConnectFailed", run("http_proxy=" .. fake.url .. " NO_PROXY=127.0.0.1"))
    assert.equals(1, #fake:log())
  end)
end)
