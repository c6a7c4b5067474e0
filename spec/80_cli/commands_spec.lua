-- Every subcommand against the emulator, in-process (cli.main with captured
-- output): text and --json output, exit statuses.
local support = require "80_cli.support"
local ecs = require "ecs"

local main, argv = support.main, support.argv

local function fast(list)
  list[#list + 1] = "--poll"
  list[#list + 1] = "0.05"
  return list
end

describe("ecs (in-process) against the emulator", function()
  local emu

  setup(function() emu = support.start() end)
  teardown(function() if emu then emu:stop() end end)

  describe("instances", function()
    it("lists eligible and skipped instances with reasons", function()
      local r = main(argv(emu, { "instances", "--tag", "env=prod" }))
      assert.equal(0, r.code, r.err)
      assert.matches("i%-bp1emuweb01%s+web%-01%s+Running%s+linux%s+eligible", r.out)
      assert.matches("i%-bp1emudb02%s+db%-02%s+Stopped%s+linux%s+skipped: not_running", r.out)
      assert.matches("5 eligible, 1 skipped in cn%-hangzhou", r.out)
    end)

    it("--json gives the selection as one document; --type checks the OS", function()
      local r = main(argv(emu, { "instances", "--tag", "env=prod", "--type", "powershell", "--json" }))
      assert.equal(0, r.code, r.err)
      assert.equal("", r.err)
      local doc = support.json(r.out)
      assert.equal(1, #doc.eligible)
      assert.equal("i-bp1emuwin01", doc.eligible[1].InstanceId)
      assert.equal("windows", doc.eligible[1].OSType)
      local reasons = {}
      for _, s in ipairs(doc.skipped) do reasons[s.InstanceId] = s.reason end
      assert.equal("os_mismatch", reasons["i-bp1emuweb01"])
      assert.equal("not_running", reasons["i-bp1emudb02"])
      assert.same({ eligible = 1, skipped = 5 }, doc.counts)
    end)

    it("--frequency skips agents too old for the schedule", function()
      local r = main(argv(emu, { "instances", "--json", "--tag", "app=db", "--frequency", "rate(5m)" }))
      assert.equal(0, r.code, r.err)
      local reasons = {}
      for _, x in ipairs(support.json(r.out).skipped) do reasons[x.InstanceId] = x.reason end
      assert.equal("agent_too_old", reasons["i-bp1emudb01"])
    end)

    it("needs targets (exit 2)", function()
      local r = main(argv(emu, { "instances" }))
      assert.equal(2, r.code)
      assert.matches("^ecs instances: no targets", r.err)
      assert.matches("usage: ecs instances", r.err, 1, true)
    end)
  end)

  describe("run", function()
    it("runs on the given instances and prints a line per instance (exit 0)", function()
      local r = main(fast(argv(emu, { "run", "-i", "i-bp1emuweb01,i-bp1emuweb02", "echo", "hi" })))
      assert.equal(0, r.code, r.err)
      assert.matches("i%-bp1emuweb01 success Success exit=0 hi\n", r.out)
      assert.matches("i%-bp1emuweb02 success Success exit=0 hi\n", r.out)
      assert.matches("invocation t%-%x+: 2 instances", r.out)
      assert.matches("2/2 done in %d%d:%d%d: 2 success\n$", r.out)
    end)

    it("--json prints the report as one document and nothing on stderr", function()
      local r = main(fast(argv(emu, { "run", "--json", "-t", "i-bp1emuweb01", "-t", "i-bp1emucache01",
                                      "echo out-{{x}}" })))
      assert.equal(0, r.code, r.err)
      assert.equal("", r.err)
      local doc = support.json(r.out)
      assert.equal("run", doc.command)
      assert.equal("RunCommand", doc.action)
      assert.equal(0, doc.exit_status)
      assert.equal(2, doc.counts.success)
      assert.equal(2, #doc.results)
      for _, res in ipairs(doc.results) do
        assert.equal("out-{{x}}\n", res.output)
        assert.equal(0, res.exit_code)
        assert.equal("success", res.class)
        assert.equal(doc.invocations[1].InvokeId, res.InvokeId)
      end
      assert.same({}, doc.skipped)
      assert.equal(require("cjson").null, doc.stopped)
    end)

    it("signs with V3 by default and V2 with --signature v2", function()
      for _, v in ipairs { "v3", "v2" } do
        emu:admin("DELETE", "/_emulator/requests")
        local list = argv(emu, { "run", "-i", "i-bp1emuweb01", "exit 0" })
        if v == "v2" then list[#list + 1] = "--signature=v2" end
        local r = main(fast(list))
        assert.equal(0, r.code, r.err)
        local reqs = support.requests(emu, "RunCommand")
        assert.equal(1, #reqs)
        assert.equal(v, reqs[1].version)
      end
    end)

    it("with --frequency creates a scheduled task and returns without waiting", function()
      local r = main(argv(emu, { "run", "--json", "-i", "i-bp1emuweb01", "--frequency", "rate(5m)", "echo tick" }))
      assert.equal(0, r.code, r.err)
      local doc = support.json(r.out)
      assert.equal(1, #doc.invocations)
      assert.same({}, doc.results)
      local reqs = support.requests(emu, "RunCommand")
      assert.equal("rate(5m)", reqs[#reqs].params.Frequency)
      assert.equal(0, main(argv(emu, { "stop", doc.invocations[1].InvokeId })).code)
    end)

    it("runs PowerShell on Windows instances with --type powershell", function()
      local r = main(fast(argv(emu, { "run", "--json", "--type", "powershell", "--tag", "app=iis",
                                      "Write-Output 'hello windows'" })))
      assert.equal(1, r.code)   -- win-02's agent is offline: skipped
      local doc = support.json(r.out)
      assert.equal("hello windows\n", doc.results[1].output)
      assert.equal("i-bp1emuwin01", doc.results[1].InstanceId)
      assert.equal("agent_offline", doc.skipped[1].reason)
    end)

    it("exits 1 when an instance fails, with its exit code and output", function()
      local r = main(fast(argv(emu, { "run", "--json", "-i", "i-bp1emuweb01", "echo bad\nexit 3" })))
      assert.equal(1, r.code)
      local doc = support.json(r.out)
      assert.equal(1, doc.exit_status)
      assert.equal("failed", doc.results[1].class)
      assert.equal(3, doc.results[1].exit_code)
      assert.equal("bad\n", doc.results[1].output)
    end)

    it("exits 1 when targeted instances are skipped, 0 with --allow-skipped", function()
      local r = main(fast(argv(emu, { "run", "--tag", "env=prod", "--tag", "app=db", "echo", "x" })))
      assert.equal(1, r.code)
      assert.matches("skipped i%-bp1emudb02: not_running", r.out)
      assert.matches("i%-bp1emudb01 success", r.out)
      r = main(fast(argv(emu, { "run", "--tag", "env=prod", "--tag", "app=db", "--allow-skipped", "echo", "x" })))
      assert.equal(0, r.code, r.out .. r.err)
    end)

    it("stops launching batches past --max-errors", function()
      local r = main(fast(argv(emu, { "run", "--json", "--batch-size", "1", "--max-errors", "0",
        "-i", "i-bp1emuweb01,i-bp1emuweb02,i-bp1emuweb03", "exit 1" })))
      assert.equal(1, r.code)
      local doc = support.json(r.out)
      assert.equal(1, #doc.invocations)
      assert.same({ "i-bp1emuweb02", "i-bp1emuweb03" }, doc.not_launched)
      assert.matches("^max_errors", doc.stopped)
    end)

    it("reads the command from --file and from standard input", function()
      local dir = support.helper.tmpdir()
      local path = dir .. "/script.sh"
      local f = assert(io.open(path, "w"))
      f:write("echo from-file\nexit 0\n")
      f:close()
      local r = main(fast(argv(emu, { "run", "--json", "-i", "i-bp1emuweb01", "--file", path })))
      assert.equal(0, r.code, r.err)
      assert.equal("from-file\n", support.json(r.out).results[1].output)
      local stdin = { read = function() return "echo from-stdin\n" end }
      r = main(fast(argv(emu, { "run", "--json", "-i", "i-bp1emuweb01", "-f", "-" })), { stdin = stdin })
      assert.equal("from-stdin\n", support.json(r.out).results[1].output)
      support.helper.rmdir(dir)
    end)

    it("refuses bad command lines with a short help (exit 2), before sending anything", function()
      local before = #support.requests(emu)
      local cases = {
        { { "run", "-i", "i-1" }, "no command to run" },
        { { "run", "echo", "x" }, "no targets" },
        { { "run", "-i", "i-1", "--max-errors", "lots", "x" }, "%-%-max%-errors: expected a count or a percentage" },
        { { "run", "-i", "i-1", "--batch-size", "101", "x" }, "%-%-batch%-size: expected a whole number" },
        { { "run", "-i", "i-1", "--type", "zsh", "x" }, "%-%-type: 'zsh' is not one of" },
        { { "run", "-i", "i-1", "--file", "/nonexistent/x", "x" }, "give the command as arguments or with %-%-file" },
        { { "run", "-i", "i-1", "--file", "/nonexistent/x" }, "%-%-file: cannot read" },
        { { "run", "--tag", "env", "x" }, "%-%-tag: expected KEY=VALUE" },
      }
      for _, c in ipairs(cases) do
        local r = main(argv(emu, c[1]))
        assert.equal(2, r.code, table.concat(c[1], " "))
        assert.matches("^ecs run: " .. c[2], r.err)
        assert.matches("Try 'ecs run %-%-help' for more", r.err)
        assert.not_matches("traceback", r.err)
        assert.equal("", r.out)
      end
      assert.equal(before, #support.requests(emu))
    end)

    it("with --json a usage error still prints one document on stdout", function()
      local r = main(argv(emu, { "run", "--json", "-i", "i-1", "--batch-size", "0", "x" }))
      assert.equal(2, r.code)
      local doc = support.json(r.out)
      assert.equal("run", doc.command)
      assert.equal(2, doc.exit_status)
      assert.matches("^%-%-batch%-size: expected a whole number", doc.error)
      assert.matches("^ecs run: %-%-batch%-size", r.err)
    end)
  end)

  describe("invoke, wait, results, stop", function()
    local command_id

    setup(function()
      local c = ecs.new { region = support.REGION, endpoint = emu.url, access_key_id = "testid",
                          access_key_secret = "testsecret", signature_version = "v2" }
      local res = assert(c:call("CreateCommand", { RegionId = support.REGION, Name = "greet",
        Type = "RunShellScript", CommandContent = require("ecs.core").base64_encode("echo hello {{name}}\nexit 0"),
        EnableParameter = true }))
      command_id = res.CommandId
    end)

    it("invoke runs a saved command with parameters and waits", function()
      local r = main(fast(argv(emu, { "invoke", "--json", "-i", "i-bp1emuweb01", "--param", "name=world",
                                      command_id })))
      assert.equal(0, r.code, r.err)
      local doc = support.json(r.out)
      assert.equal("InvokeCommand", doc.action)
      assert.equal(command_id, doc.CommandId)
      assert.equal("hello world\n", doc.results[1].output)
    end)

    it("invoke with --frequency creates the task without waiting; stop ends it", function()
      local r = main(argv(emu, { "invoke", "--json", "-i", "i-bp1emuweb01", "--param", "name=x",
                                 "--frequency", "rate(5m)", command_id }))
      assert.equal(0, r.code, r.err)
      local doc = support.json(r.out)
      assert.equal(1, #doc.invocations)
      assert.same({}, doc.results)
      local id = doc.invocations[1].InvokeId
      r = main(argv(emu, { "stop", id }))
      assert.equal(0, r.code, r.err)
      assert.matches("stop requested for " .. id, r.out, 1, true)
      local stops = support.requests(emu, "StopInvocation")
      assert.equal(id, stops[#stops].params.InvokeId)
    end)

    it("invoke of a command that does not exist is a service error (exit 3)", function()
      local r = main(argv(emu, { "invoke", "-i", "i-bp1emuweb01", "c-doesnotexist" }))
      assert.equal(3, r.code)
      assert.matches("InvalidCmdId.NotFound", r.err, 1, true)
      r = main(argv(emu, { "invoke", "--json", "-i", "i-bp1emuweb01", "c-doesnotexist" }))
      assert.equal(3, support.json(r.out).exit_status)
    end)

    it("wait follows a --no-wait run to the end; results and stop report on it", function()
      local r = main(argv(emu, { "run", "--json", "--no-wait", "-i", "i-bp1emuweb01,i-bp1emuweb02",
                                 "echo start\nsleep 1000\necho never" }))
      assert.equal(0, r.code, r.err)
      local id = support.json(r.out).invocations[1].InvokeId
      -- running: results exits 1 and shows the output so far
      local deadline = os.time() + 5
      repeat
        r = main(argv(emu, { "results", "--json", id }))
      until support.json(r.out).results[1].status == "Running" or os.time() > deadline
      local doc = support.json(r.out)
      assert.equal(1, r.code)
      assert.is_false(doc.complete)
      assert.equal("start\n", doc.results[1].output)
      assert.equal(2, doc.counts.running)
      -- stop one instance, then wait for both
      r = main(argv(emu, { "stop", "--json", "-i", "i-bp1emuweb02", id }))
      assert.equal(0, r.code)
      assert.is_true(support.json(r.out).stopped)
      r = main(argv(emu, { "stop", id }))
      assert.equal(0, r.code)
      r = main(fast(argv(emu, { "wait", id })), { tty = true })
      assert.equal(1, r.code)
      assert.matches("i%-bp1emuweb01%s+cancelled%s+Terminated%s+137%s+start", r.out)
      assert.matches("2/2 done in %d%d:%d%d: 2 cancelled", r.out)
      assert.matches("\r\27%[K2/2 done  success 0", r.err)
      r = main(argv(emu, { "results", "--full", id }))
      assert.matches("== i%-bp1emuweb02 cancelled Terminated exit=137\nstart\n", r.out)
      r = main(fast(argv(emu, { "wait", "--json", id })))
      doc = support.json(r.out)
      assert.equal(2, doc.counts.cancelled)
      assert.equal(1, doc.exit_status)
    end)

    it("wait exits 0 when every instance succeeded", function()
      local r = main(argv(emu, { "run", "--no-wait", "-i", "i-bp1emuweb03", "echo ok" }))
      assert.equal(0, r.code, r.err)
      local id = r.out:match("^invocation (t%-%x+): 1 instance\n")
      assert.truthy(id, r.out)
      assert.matches("started 1 invocation without waiting; `ecs wait " .. id .. "` follows one\n", r.out, 1, true)
      r = main(fast(argv(emu, { "wait", "--json", id })))
      assert.equal(0, r.code, r.err)
      assert.equal("ok\n", support.json(r.out).results[1].output)
      r = main(argv(emu, { "results", id }))
      assert.equal(0, r.code)
      assert.matches("i%-bp1emuweb03%s+success%s+Success%s+0%s+ok", r.out)
    end)

    it("wait, results and stop need one INVOKE_ID (exit 2)", function()
      for _, name in ipairs { "wait", "results", "stop" } do
        local r = main(argv(emu, { name }))
        assert.equal(2, r.code)
        assert.matches("^ecs " .. name .. ": missing INVOKE_ID", r.err)
        r = main(argv(emu, { name, "t-1", "t-2" }))
        assert.equal(2, r.code)
      end
    end)
  end)

  describe("service errors", function()
    it("a wrong secret is exit 3 and the secret appears nowhere", function()
      local env = { ALIBABA_CLOUD_ACCESS_KEY_ID = "testid", ALIBABA_CLOUD_ACCESS_KEY_SECRET = "wrong-Secret-42" }
      local r = main(argv(emu, { "run", "-i", "i-bp1emuweb01", "echo x" }), { env = env })
      assert.equal(3, r.code)
      assert.matches("SignatureDoesNotMatch", r.err, 1, true)
      assert.not_matches("wrong%-Secret%-42", r.err .. r.out)
      r = main(argv(emu, { "instances", "--json", "--all" }), { env = env })
      assert.equal(3, r.code)
      local doc = support.json(r.out)
      assert.equal("SignatureDoesNotMatch", doc.code)
      assert.not_matches("wrong%-Secret%-42", r.out)
    end)

    it("--profile picks a section of the shared credentials file", function()
      local dir = support.helper.tmpdir()
      os.execute("mkdir -p " .. dir .. "/.alibabacloud")
      local f = assert(io.open(dir .. "/.alibabacloud/credentials", "w"))
      f:write("[default]\naccess_key_id = testid\naccess_key_secret = wrong\n\n"
        .. "[emu]\naccess_key_id = testid\naccess_key_secret = testsecret\n")
      f:close()
      local env = { HOME = dir, ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true" }
      local r = main(argv(emu, { "instances", "--json", "-i", "i-bp1emuweb01" }), { env = env })
      assert.equal(3, r.code)
      r = main(argv(emu, { "instances", "--json", "--profile", "emu", "-i", "i-bp1emuweb01" }), { env = env })
      assert.equal(0, r.code, r.out)
      assert.equal("i-bp1emuweb01", support.json(r.out).eligible[1].InstanceId)
      env.ALIBABA_CLOUD_PROFILE = "emu"
      assert.equal(0, main(argv(emu, { "instances", "-i", "i-bp1emuweb01" }), { env = env }).code)
      support.helper.rmdir(dir)
    end)

    it("no credentials is exit 3; no region is a usage error", function()
      local r = main(argv(emu, { "stop", "t-1" }), { env = { ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true" } })
      assert.equal(3, r.code)
      assert.matches("Credentials", r.err, 1, true)
      r = main({ "stop", "--endpoint", emu.url, "t-1" })
      assert.equal(2, r.code)
      assert.matches("no region: give %-%-region or set ALIBABA_CLOUD_REGION_ID", r.err)
      r = main({ "stop", "--endpoint", emu.url, "t-1" }, { env = { ALIBABA_CLOUD_REGION_ID = "cn-shanghai",
        ALIBABA_CLOUD_ACCESS_KEY_ID = "testid", ALIBABA_CLOUD_ACCESS_KEY_SECRET = "testsecret" } })
      assert.equal(3, r.code)
      assert.matches("InvalidInvokeId", r.err, 1, true)
    end)
  end)
end)

describe("a generated fleet of 250 instances", function()
  local emu
  setup(function()
    emu = support.start()
    local res, st = emu:admin("POST", "/_emulator/fleet", { generate = { count = 250, regions = { "cn-hangzhou" },
      running = 1, offline = 0, windows = 0, seed = 7 } })
    assert.equal(200, st, tostring(res and res.error))
  end)
  teardown(function() if emu then emu:stop() end end)

  it("run fans out in batches of at most 100; results reads every page of an invocation", function()
    local r = main(fast(argv(emu, { "run", "--json", "--all", "--concurrency", "2", "echo n {{ACS::InstanceId}}" })))
    assert.equal(0, r.code, r.err)
    local doc = support.json(r.out)
    assert.equal(250, doc.counts.success)
    assert.equal(3, #doc.invocations)
    local sizes = {}
    for i, inv in ipairs(doc.invocations) do sizes[i] = #inv.InstanceId end
    table.sort(sizes)
    assert.same({ 50, 100, 100 }, sizes)
    local big
    for _, inv in ipairs(doc.invocations) do if #inv.InstanceId == 100 then big = inv end end
    emu:admin("DELETE", "/_emulator/requests")
    r = main(argv(emu, { "results", "--json", big.InvokeId }))
    assert.equal(0, r.code, r.err)
    local pages = support.requests(emu, "DescribeInvocationResults")
    assert.equal(2, #pages)
    assert.is_nil(pages[1].params.NextToken)
    assert.truthy(pages[2].params.NextToken)
    local res = support.json(r.out)
    assert.equal(100, #res.results)
    assert.equal(100, res.counts.success)
    local ids = {}
    for _, x in ipairs(res.results) do ids[x.InstanceId] = true end
    for _, id in ipairs(big.InstanceId) do assert.is_true(ids[id], id) end
  end)
end)

describe("the service's daily quota", function()
  it("a batch the service refuses (Invocation.ExceedQuota) is a service error (exit 3)", function()
    local emu = support.start(support.SCALE, { "--quota", "1" })
    local ok, err = pcall(function()
      local r = main(fast(argv(emu, { "run", "-i", "i-bp1emuweb01", "exit 0" })))
      assert.equal(0, r.code, r.err)
      r = main(fast(argv(emu, { "run", "-i", "i-bp1emuweb01", "exit 0" })))
      assert.equal(3, r.code)
      assert.matches("Invocation.ExceedQuota", r.err, 1, true)
      assert.matches("stopped early: quota", r.out, 1, true)
      r = main(fast(argv(emu, { "run", "--json", "-i", "i-bp1emuweb01", "exit 0" })))
      local doc = support.json(r.out)
      assert.equal(3, doc.exit_status)
      assert.equal("Invocation.ExceedQuota", doc.failed_calls[1].code)
      assert.equal("infra", doc.results[1].class)
    end)
    emu:stop()
    assert(ok, err)
  end)
end)

describe("ecs schedule", function()
  local FROM = "1772870400"   -- 2026-03-07 08:00 UTC

  it("reads a valid expression and lists the next fire times in the zone", function()
    local r = main { "schedule", "0 30 2 * * ? America/Los_Angeles", "--next", "3", "--from", FROM }
    assert.equal(0, r.code, r.err)
    assert.matches("^valid: at 02:30:00, every day %(America/Los_Angeles%)\n", r.out)
    assert.matches("next 3:\n  2026%-03%-07T10:30:00Z  2026%-03%-07 02:30:00 America/Los_Angeles\n"
      .. "  2026%-03%-08T10:00:00Z  2026%-03%-08 03:00:00 America/Los_Angeles\n", r.out)
  end)

  it("a cron without zone runs in --zone (default GMT+8:00)", function()
    local r = main { "schedule", "--json", "0 0 9 * * ?", "-n", "1", "--from", FROM }
    local doc = support.json(r.out)
    assert.equal("2026-03-08T01:00:00Z", doc.next[1].utc)
    assert.equal("GMT+8:00", doc.display_zone)
    r = main { "schedule", "--json", "0 0 9 * * ?", "-n", "1", "--from", FROM, "--zone", "Europe/Berlin" }
    doc = support.json(r.out)
    assert.equal("2026-03-08T08:00:00Z", doc.next[1].utc)
    assert.equal("2026-03-08 09:00:00", doc.next[1]["local"])
  end)

  it("--json gives the reading, features, agent version and warnings", function()
    local r = main { "schedule", "--json", "rate(5m)", "--from", FROM, "-n", "2" }
    assert.equal(0, r.code)
    local doc = support.json(r.out)
    assert.is_true(doc.valid)
    assert.equal("every 5 minutes", doc.description)
    assert.same({ "rate" }, doc.features)
    assert.equal("2.2.3.282", doc.min_agent.linux)
    assert.equal(2, #doc.next)
    assert.equal(tonumber(FROM) + 300, doc.next[1].epoch)
  end)

  it("a refused expression prints why and exits 1", function()
    local r = main { "schedule", "0 0 2 * * 8" }
    assert.equal(1, r.code)
    assert.equal("refused: day-of-week: '8' is out of range 1-7 (1 = Monday)\n", r.err)
    r = main { "schedule", "--json", "rate(30s)" }
    assert.equal(1, r.code)
    local doc = support.json(r.out)
    assert.is_false(doc.valid)
    assert.matches("rate", doc.error)
    r = main { "schedule", "rate(5m)", "--timeout", "600" }
    assert.equal(1, r.code)
  end)

  it("usage errors: no expression, a bad zone, a service option", function()
    assert.equal(2, main({ "schedule" }).code)
    local r = main { "schedule", "rate(5m)", "--zone", "Mars/Base" }
    assert.equal(2, r.code)
    assert.matches("^ecs schedule: %-%-zone:", r.err)
    assert.equal(2, main({ "schedule", "rate(5m)", "--region", "cn-hangzhou" }).code)
  end)
end)

describe("ecs top level", function()
  it("--help lists every command; no command prints the help and exits 2", function()
    local r = main { "--help" }
    assert.equal(0, r.code)
    assert.matches("Commands:", r.out, 1, true)
    r = main {}
    assert.equal(2, r.code)
    assert.matches("usage: ecs <command>", r.out, 1, true)
  end)

  it("an unknown command or an option first is a usage error", function()
    local r = main { "frobnicate" }
    assert.equal(2, r.code)
    assert.matches("^ecs: unknown command 'frobnicate'", r.err)
    r = main { "--region", "x" }
    assert.equal(2, r.code)
    assert.matches("give a command before options", r.err, 1, true)
  end)

  it("help <command> and <command> --help print the same text", function()
    for _, n in ipairs(require("ecs.cli").ORDER) do
      local a = main { "help", n }
      if n ~= "emulator" then assert.equal(a.out, main({ n, "--help" }).out) end
      assert.equal(0, a.code)
      assert.matches("usage: ecs " .. n, a.out, 1, true)
    end
  end)

  it("an internal fault is reported without a traceback (exit 70)", function()
    local cli = require "ecs.cli"
    local out, err = {}, {}
    local code = cli.main({ "schedule", "rate(5m)" }, {
      stdout = { write = function() error("disk full") end },
      stderr = { write = function(_, s) err[#err + 1] = s end },
      getenv = function() return nil end,
    })
    assert.equal(70, code)
    assert.matches("^ecs: internal error: .*disk full\n$", table.concat(err))
    assert.same({}, out)
  end)
end)
