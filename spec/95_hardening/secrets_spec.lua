-- A broad workload with distinctive canary credentials (an AccessKeySecret
-- SECRET-CANARY-<random> and an STS token TOKEN-CANARY-<random>): both
-- signature versions, every action against the emulator (started with the
-- canary pair, an access log and a request log), error paths (wrong secret,
-- throttling retries, timeouts, TLS failure, non-JSON bodies), every logger
-- event, tostring of clients and errors, the fleet layer, credentials from the
-- environment and from a credentials file. The canaries must appear nowhere:
-- not in results, errors, events, tostring, the emulator's access log,
-- request log, stdout or stderr, nor any file the workload wrote. The C
-- core's prepare() output carries the token where the wire needs it, and
-- never the secret.
--
-- The canary values are written to build/test-logs/secret-canaries (or
-- $ECS_CANARY_FILE), so scripts/secrets-check.sh can grep every log of the
-- suite for them afterwards. No assertion message here quotes a canary.
local core = require "ecs.core"
local ecs = require "ecs"
local helper = require "helpers.emulator"
local testserver = require "helpers.testserver"
local S = require "95_hardening.support"

local SECRET = "SECRET-CANARY-" .. core.random_hex(8)
local TOKEN = "TOKEN-CANARY-" .. core.random_hex(8)
local WRONG = "SECRET-CANARY-WRONG-" .. core.random_hex(8)
local AKID = "LTAIcanary" .. core.random_hex(6)

local CANARIES = { SECRET, TOKEN, WRONG }
local FORMS = {}
for _, c in ipairs(CANARIES) do
  FORMS[#FORMS + 1] = c
  FORMS[#FORMS + 1] = core.percent_encode(c)
  FORMS[#FORMS + 1] = core.base64_encode(c)
  FORMS[#FORMS + 1] = c:sub(1, 14) .. c:sub(-16) -- the random part with its prefix
end

local function write_canaries()
  local path = os.getenv("ECS_CANARY_FILE") or (helper.root .. "/build/test-logs/secret-canaries")
  os.execute("mkdir -p " .. helper.shell_quote(path:match("^(.*)/[^/]*$") or "."))
  local f = io.open(path, "ab")
  if f then
    for _, c in ipairs(CANARIES) do f:write(c, "\n") end
    f:close()
  end
  return path
end

-- every string reachable from v (keys, values, tostring of objects)
local function strings(v, out, seen)
  out, seen = out or {}, seen or {}
  local tv = type(v)
  if tv == "table" then
    if seen[v] then return out end
    seen[v] = true
    for k, x in pairs(v) do
      strings(k, out, seen)
      strings(x, out, seen)
    end
    local mt = getmetatable(v)
    if mt and mt.__tostring then out[#out + 1] = tostring(v) end
  elseif tv == "string" then
    out[#out + 1] = v
  elseif v ~= nil then
    out[#out + 1] = tostring(v)
  end
  return out
end

-- which canary form occurs in v (nil when none); never returns the value itself
local function leak(v)
  local text = table.concat(strings(v), "\n")
  for i, f in ipairs(FORMS) do
    if text:find(f, 1, true) then return "canary form #" .. i end
  end
  return nil
end

local function assert_clean(v, what)
  local l = leak(v)
  assert(l == nil, what .. " contains a secret (" .. tostring(l) .. ")")
end

local function assert_no_signature(v, what)
  local text = table.concat(strings(v), "\n")
  assert(not text:find("Signature=", 1, true), what .. " contains a Signature")
  assert(not text:lower():find("authorization", 1, true), what .. " contains an Authorization header")
end

describe("secrets", function()
  local emu, tls_emu, pki, events, seen_values, logdir
  local canary_file = write_canaries()

  local function logger(ev)
    events[#events + 1] = S.snapshot(ev)
  end

  -- results, errors and their tostring, kept to be searched at the end
  local function keep(...)
    local n = select("#", ...)
    for i = 1, n do
      local v = select(i, ...)
      seen_values[#seen_values + 1] = v
      if type(v) == "table" and getmetatable(v) and getmetatable(v).__tostring then
        seen_values[#seen_values + 1] = tostring(v)
      end
    end
    return ...
  end

  -- extra keys set to false are left out of the config
  local function client(extra)
    local cfg = { region = "cn-hangzhou", endpoint = emu.url, access_key_id = AKID, access_key_secret = SECRET,
                  security_token = TOKEN, logger = logger,
                  retry = { attempts = 3, base_delay = 0.01, max_delay = 0.02 },
                  sleep = function() end }
    for k, v in pairs(extra or {}) do
      if v == false and k ~= "retry" then cfg[k] = nil else cfg[k] = v end
    end
    local c = ecs.new(cfg)
    keep(tostring(c))
    return c
  end

  setup(function()
    events, seen_values = {}, {}
    logdir = helper.tmpdir()
    emu = helper.start { args = { "--credentials", AKID .. ":" .. SECRET .. ":" .. TOKEN, "--log",
                                  logdir .. "/access.log", "--time-scale", "200" } }
  end)

  teardown(function()
    if emu then emu:stop() end
    if tls_emu then tls_emu:stop() end
    if pki then helper.rmdir(pki.dir) end
    helper.rmdir(logdir)
  end)

  it("the search finds a canary however it is hidden (nested, percent-encoded, Base64, in tostring)", function()
    assert.is_nil(leak { a = { "clean", 1, true } })
    assert.is_truthy(leak { a = { b = "x" .. SECRET .. "y" } })
    assert.is_truthy(leak { [TOKEN] = 1 })
    assert.is_truthy(leak("p=" .. core.percent_encode(TOKEN)))
    assert.is_truthy(leak("b=" .. core.base64_encode(SECRET)))
    assert.is_truthy(leak(setmetatable({}, { __tostring = function() return WRONG end })))
  end)

  it("the canaries are written for scripts/secrets-check.sh", function()
    local text = helper.read_file(canary_file) or ""
    assert.is_truthy(text:find(SECRET, 1, true), "the canary file lacks the secret")
    assert.is_truthy(text:find(TOKEN, 1, true), "the canary file lacks the token")
  end)

  it("every action, both signature versions, batches: results, errors, events and tostring are clean", function()
    for _, version in ipairs { "v3", "v2" } do
      local c = client { signature_version = version }
      local inst = keep(c:describe_instances { RegionId = "cn-hangzhou" })
      assert.is_table(inst, "DescribeInstances failed")
      local ids = {}
      for _, i in ipairs(inst.Instances.Instance) do
        if i.Status == "Running" then ids[#ids + 1] = i.InstanceId end
      end
      ids = { ids[1], ids[2] }
      local cmd = keep(c:create_command { Name = "canary-" .. version, Type = "RunShellScript",
                                          CommandContent = core.base64_encode("echo {{name}}"),
                                          EnableParameter = true })
      assert.is_table(cmd, "CreateCommand failed")
      local inv = keep(c:invoke_command { CommandId = cmd.CommandId, InstanceId = ids, Parameters = { name = "x" } })
      assert.is_table(inv, "InvokeCommand failed")
      keep(c:describe_invocations { InvokeId = inv.InvokeId })
      keep(c:describe_invocation_results { InvokeId = inv.InvokeId })
      keep(c:stop_invocation { InvokeId = inv.InvokeId, InstanceId = ids })
      keep(c:modify_command { CommandId = cmd.CommandId, Description = "changed" })
      keep(c:describe_commands { CommandId = cmd.CommandId })
      local run = keep(c:run_command { Type = "RunShellScript", CommandContent = "echo hi", InstanceId = ids })
      assert.is_table(run, "RunCommand failed")
      local file = keep(c:send_file { Name = "f.txt", TargetDir = "/tmp", Content = "hello", InstanceId = ids })
      keep(c:describe_send_file_results { InvokeId = file and file.InvokeId })
      keep(c:describe_cloud_assistant_status { InstanceId = ids })
      keep(c:delete_command { CommandId = cmd.CommandId })
      keep(c:call("DescribeRegions", {}))
      for _, pair in ipairs(c:call_batch({ { "DescribeInstances", {} }, { "DescribeCommands", {} },
                                           { "DescribeInvocations", {} } }, { concurrency = 3 })) do
        keep(pair[1], pair[2])
      end
      keep(c:stats())
      keep(c:prepare("DescribeRegions", {}) and "prepared")
      keep(c:invoke_command { CommandId = "c-does-not-exist", InstanceId = ids })
      c:close()
    end
    assert.is_true(#events > 20)
    assert_clean(seen_values, "results, errors and tostring")
    assert_clean(events, "logger events")
    assert_no_signature(events, "logger events")
  end)

  it("error paths: wrong secret, throttling retries, timeout, non-JSON bodies, a refusing port", function()
    -- wrong secret: SignatureDoesNotMatch with its diagnosis
    for _, version in ipairs { "v3", "v2" } do
      local c = client { signature_version = version, access_key_secret = WRONG }
      local res, err = keep(c:describe_instances {})
      assert.is_nil(res)
      assert.are.equal("SignatureDoesNotMatch", err.code)
      assert.are.equal("secret", err.diagnosis and err.diagnosis.kind, "no secret diagnosis")
      assert_no_signature(err, "SignatureDoesNotMatch error")
    end
    -- throttled twice, then answered
    emu:admin("POST", "/_emulator/faults", { { kind = "throttle", first = 2, retry_after = 10 } })
    local c = client()
    local res = keep(c:describe_instances {})
    assert.is_table(res, "the throttled call did not succeed after retries")
    local retries = 0
    for _, ev in ipairs(events) do
      if ev.event == "retry" then retries = retries + 1 end
    end
    assert.is_true(retries >= 2)
    -- read timeout
    emu:admin("POST", "/_emulator/faults", { { kind = "delay", delay = 3, first = 1 } })
    local tc = client { timeout = { connect = 1, read = 0.3 }, retry = false }
    local _, terr = keep(tc:describe_instances {})
    assert.are.equal("Network.Timeout", terr.code)
    emu:admin("DELETE", "/_emulator/faults")
    -- a refusing port
    local dead = client { endpoint = "http://127.0.0.1:" .. helper.free_port(), retry = { attempts = 2 } }
    local _, derr = keep(dead:describe_instances {})
    assert.are.equal("Network.ConnectFailed", derr.code)
    -- non-JSON bodies, 200 and 500
    local srv = testserver.start { handler = [[
      return function(req)
        if req.n % 2 == 1 then return { status = 200, body = "<html>not json</html>" } end
        return { status = 500, body = "Internal failure, plain text" }
      end
    ]] }
    local nc = client { endpoint = srv.url, retry = false }
    local _, e1 = keep(nc:describe_instances {})
    local _, e2 = keep(nc:describe_instances {})
    srv:stop()
    assert.are.equal("Response.NotJSON", e1.code)
    assert.is_truthy(e2.code)
    assert_clean(seen_values, "errors of the failure paths")
    assert_clean(events, "logger events of the failure paths")
    assert_no_signature(events, "logger events of the failure paths")
  end)

  it("TLS: verification is on by default (an unknown CA fails), off only when asked, and that is logged", function()
    pki = helper.make_tls()
    tls_emu = helper.start { tls = { cert = pki.cert, key = pki.key },
                             args = { "--credentials", AKID .. ":" .. SECRET .. ":" .. TOKEN } }
    local default = client { endpoint = tls_emu.url, retry = false }
    assert.is_true(default.config.tls.verify)
    local _, err = keep(default:describe_instances {})
    assert.are.equal("Network.TLS", err.code)
    local cl = core.new { endpoint = tls_emu.url, access_key_id = AKID, access_key_secret = SECRET }
    local _, cerr = keep(cl:call("DescribeInstances", { RegionId = "cn-hangzhou" }))
    cl:close()
    assert.are.equal("Network.TLS", cerr.code)
    local with_ca = client { endpoint = tls_emu.url, tls = { ca_file = pki.ca } }
    assert.is_true(with_ca.config.tls.verify)
    assert.is_table(keep(with_ca:describe_instances {}))
    local n = #events
    local off = client { endpoint = tls_emu.url, tls = { verify = false } }
    local warned = false
    for i = n + 1, #events do
      local ev = events[i]
      if ev.event == "warning" and tostring(ev.message):find("verification is switched off", 1, true) then
        warned = true
      end
    end
    assert.is_true(warned, "switching TLS verification off logged no warning event")
    assert.is_table(keep(off:describe_instances {}))
    assert_clean(seen_values, "TLS results and errors")
    assert_clean(events, "TLS events")
  end)

  it("the fleet layer: select, invoke, wait, results", function()
    local c = client()
    local sel = keep(c:select_instances { targets = { tags = { env = "prod" } }, command_type = "RunShellScript" })
    assert.is_table(sel, "select_instances failed")
    local report = keep(c:invoke_fleet { CommandContent = "echo hi", Type = "RunShellScript",
                                         targets = { InstanceId = sel.eligible }, poll = 0.05 })
    assert.is_table(report, "invoke_fleet failed")
    keep(c:invocation_quota())
    assert_clean(seen_values, "fleet results")
    assert_clean(events, "fleet events")
  end)

  it("credentials from the environment and from a credentials file", function()
    local dir = helper.tmpdir()
    local file = dir .. "/credentials"
    local f = assert(io.open(file, "wb"))
    f:write("[default]\ntype = access_key\naccess_key_id = ", AKID, "\naccess_key_secret = ", SECRET,
      "\nsecurity_token = ", TOKEN, "\n")
    f:close()
    local env = { ALIBABA_CLOUD_ACCESS_KEY_ID = AKID, ALIBABA_CLOUD_ACCESS_KEY_SECRET = SECRET,
                  ALIBABA_CLOUD_SECURITY_TOKEN = TOKEN }
    local from_env = client { access_key_id = false, access_key_secret = false, security_token = false,
                              credentials = { getenv = function(k) return env[k] end,
                                              sources = { "environment" } } }
    assert.is_table(keep(from_env:describe_instances {}), "call with environment credentials failed")
    local from_file = client { access_key_id = false, access_key_secret = false, security_token = false,
                               credentials = { credentials_file = file, sources = { "profile" },
                                               getenv = function() return nil end } }
    assert.is_table(keep(from_file:describe_instances {}), "call with file credentials failed")
    keep(tostring(from_env), tostring(from_file), from_env.credentials.source, from_file.credentials.source)
    helper.rmdir(dir)
    assert_clean(seen_values, "results and tostring with env/file credentials")
    assert_clean(events, "events with env/file credentials")
  end)

  it("a child process with environment credentials and no logger writes nothing secret on stdout or stderr", function()
    local rc, out, err = S.run_child(([[
      local ecs = require "ecs"
      local c = ecs.new { region = "cn-hangzhou", endpoint = %q, tls = { verify = false }, retry = false }
      print(tostring(c))
      local res, e = c:describe_instances {}
      print(res and res.RequestId, e and tostring(e))
      local bad = ecs.new { region = "cn-hangzhou", endpoint = %q, retry = false,
                            access_key_id = os.getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), access_key_secret = "wrong" }
      local _, e2 = bad:describe_instances {}
      print(tostring(e2))
      io.stderr:write(tostring(e2), "\n")
    ]]):format(emu.url, emu.url),
      ("ALIBABA_CLOUD_ACCESS_KEY_ID=%s ALIBABA_CLOUD_ACCESS_KEY_SECRET=%s ALIBABA_CLOUD_SECURITY_TOKEN=%s "
        .. "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"):format(AKID, SECRET, TOKEN))
    assert.are.equal(0, rc, "the child failed")
    assert.is_truthy(out:find("SignatureDoesNotMatch", 1, true))
    assert.is_truthy(err:find("TLS certificate verification is switched off", 1, true),
      "no warning on stderr when verification is off without a logger")
    assert_clean(out, "child stdout")
    assert_clean(err, "child stderr")
  end)

  it("the C core's prepare() output has the token only where the wire needs it, and never the secret", function()
    for _, version in ipairs { "v3", "v2" } do
      local cl = core.new { endpoint = emu.url, region = "cn-hangzhou", access_key_id = AKID,
                            access_key_secret = SECRET, security_token = TOKEN, signature_version = version }
      local req = cl:prepare("DescribeInstances", {})
      keep(tostring(cl))
      cl:close()
      local where = {}
      for k, v in pairs(req.headers) do
        if v:find(TOKEN, 1, true) then where[#where + 1] = "header " .. k:lower() end
        assert(not v:find(SECRET, 1, true), version .. " prepare(): the secret is in header " .. k)
      end
      local form = core.parse_query(req.body)
      for k, v in pairs(form) do
        if v:find(TOKEN, 1, true) then where[#where + 1] = "param " .. k end
      end
      assert(not req.body:find(SECRET, 1, true) and not req.url:find(SECRET, 1, true),
        version .. " prepare(): the secret is in the body or URL")
      table.sort(where)
      if version == "v3" then
        assert.are.same({ "header x-acs-security-token" }, where)
        assert.is_truthy(req.headers.Authorization or req.headers.authorization)
      else
        assert.are.same({ "param SecurityToken" }, where)
        assert.is_truthy(form.Signature)
      end
    end
  end)

  it("the emulator's request log, access log, stdout and stderr, and the files it wrote are clean", function()
    local log = emu:admin("GET", "/_emulator/requests")
    assert.is_true(#(log.requests or log) > 20)
    assert_clean(log, "the emulator's request log")
    local out, err = helper.read_file(emu.stdout_path), helper.read_file(emu.stderr_path)
    assert.is_truthy(out and out:find("listening", 1, true), "the emulator's stdout was not read")
    emu:stop()
    local access = helper.read_file(logdir .. "/access.log")
    assert.is_truthy(access and #access > 0, "no access log was written")
    assert_clean(access, "the emulator's access log")
    assert_clean(out, "the emulator's stdout")
    assert_clean(err or "", "the emulator's stderr")
    -- every file written in the log directory
    local p = io.popen("find " .. helper.shell_quote(logdir) .. " -type f")
    for path in p:lines() do assert_clean(helper.read_file(path) or "", "file " .. path) end
    p:close()
  end)
end)
