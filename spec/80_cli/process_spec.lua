-- bin/ecs as a real child process: help and usage errors, exit statuses,
-- --dry-run sends nothing and masks secrets (the emulator's request log
-- proves it), --json is exactly one document, plain lines off a terminal,
-- the emulator subcommand, and the library found from an installed tree.
local support = require "80_cli.support"
local helper = support.helper
local socket = require "socket"

local exec, argv = support.exec, support.argv

describe("bin/ecs (child process)", function()
  local emu

  setup(function() emu = support.start() end)
  teardown(function() if emu then emu:stop() end end)

  it("prints its help (exit 0) and a short help without traceback on a usage error (exit 2)", function()
    local r = exec { "--help" }
    assert.equal(0, r.code, r.err)
    assert.matches("usage: ecs <command>", r.out, 1, true)
    r = exec { "run", "-i", "i-1" }
    assert.equal(2, r.code)
    assert.equal("ecs run: no command to run\nusage: ecs run [options] TARGETS (COMMAND... | --file FILE)\n"
      .. "Try 'ecs run --help' for more.\n", r.err)
    assert.equal("", r.out)
    r = exec { "run", "--batch-size", "x" }
    assert.equal(2, r.code)
    assert.not_matches("traceback", r.err)
    r = exec { "--version" }
    assert.equal(0, r.code)
    assert.matches("^ecs %d+%.%d+", r.out)
  end)

  it("exit 0 on success, 1 on a failed instance, 3 on a service error", function()
    assert.equal(0, exec(argv(emu, { "run", "-i", "i-bp1emuweb01", "--poll", "0.05", "exit 0" })).code)
    assert.equal(1, exec(argv(emu, { "run", "-i", "i-bp1emuweb01", "--poll", "0.05", "exit 2" })).code)
    local r = exec(argv(emu, { "run", "-i", "i-bp1emuweb01", "exit 0" }),
      { env = { ALIBABA_CLOUD_ACCESS_KEY_ID = "testid", ALIBABA_CLOUD_ACCESS_KEY_SECRET = "nope-Secret" } })
    assert.equal(3, r.code)
    assert.matches("SignatureDoesNotMatch", r.err, 1, true)
    assert.not_matches("nope%-Secret", r.err .. r.out)
  end)

  it("off a terminal prints a plain line per instance as it finishes", function()
    local r = exec(argv(emu, { "run", "--tag", "app=web", "--tag", "env=prod", "--poll", "0.05", "echo", "hi" }))
    assert.equal(0, r.code, r.err)
    assert.equal("", r.err)
    assert.not_matches("\27", r.out)
    assert.not_matches("\r", r.out)
    local lines = {}
    for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    table.sort(lines)
    assert.equal("2/2 done in 00:00: 2 success", lines[1])
    assert.equal("i-bp1emuweb01 success Success exit=0 hi", lines[2])
    assert.equal("i-bp1emuweb02 success Success exit=0 hi", lines[3])
    assert.matches("^invocation t%-", lines[4])
  end)

  it("--json writes exactly one document on stdout and nothing else", function()
    local r = exec(argv(emu, { "run", "--json", "--tag", "env=prod", "--poll", "0.05", "echo hi" }))
    assert.equal(1, r.code)   -- db-02 is stopped and win-01 is Windows: skipped
    assert.equal("", r.err)
    local doc = support.json(r.out)
    assert.equal(1, doc.exit_status)
    assert.equal(4, doc.counts.success)
    assert.equal(2, doc.counts.skipped)
    assert.equal(1, select(2, r.out:gsub("\n", "")))
  end)

  describe("--dry-run", function()
    local ENV = { ALIBABA_CLOUD_ACCESS_KEY_ID = "testid", ALIBABA_CLOUD_ACCESS_KEY_SECRET = "testsecret",
                  ALIBABA_CLOUD_SECURITY_TOKEN = "Tok-Sec-123/+=" }

    local function no_secret(text)
      assert.not_matches("testsecret", text, 1, true)
      assert.not_matches("Tok-Sec-123", text, 1, true)
      assert.not_matches("Tok%2DSec", text, 1, true)
      assert.not_matches("Signature=%x%x%x%x", text)
      assert.not_matches("Signature=[^*\"&]", text)
    end

    it("shows targets, batches and a signed request with secrets masked, and sends nothing (v3)", function()
      emu:admin("DELETE", "/_emulator/requests")
      local r = exec({ "run", "--region", support.REGION, "--endpoint", emu.url, "--dry-run", "--signature", "v3",
                       "-i", "i-a,i-b,i-c", "--batch-size", "2", "echo hi" }, { env = ENV })
      assert.equal(0, r.code, r.err)
      assert.matches("dry run: nothing is sent\n", r.out, 1, true)
      assert.matches("batches: 2 of at most 2\n  batch 1: i-a, i-b\n  batch 2: i-c\n", r.out, 1, true)
      assert.matches("authorization: ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=", r.out, 1, true)
      assert.matches("x-acs-security-token: ****", r.out, 1, true)
      assert.matches("InstanceId.1=i-a&InstanceId.2=i-b&RegionId=cn-hangzhou", r.out, 1, true)
      no_secret(r.out .. r.err)
      assert.same({}, support.requests(emu))
    end)

    it("masks the V2 body's Signature and SecurityToken, in --json too, and sends nothing", function()
      emu:admin("DELETE", "/_emulator/requests")
      local r = exec(argv(emu, { "run", "--dry-run", "--signature", "v2", "--json", "--tag", "env=prod", "echo hi" }),
        { env = ENV })
      assert.equal(0, r.code, r.err)
      assert.equal("", r.err)
      local doc = support.json(r.out)
      assert.is_true(doc.dry_run)
      assert.is_false(doc.sent)
      assert.equal("resolved at run time", doc.selection)
      assert.equal("prod", doc.targets.tags.env)
      assert.matches("&SecurityToken=****&", doc.request.body, 1, true)
      assert.matches("&Signature=****$", doc.request.body)
      no_secret(r.out)
      r = exec(argv(emu, { "invoke", "--dry-run", "--signature", "v2", "-i", "i-bp1emuweb01", "-p", "a=b", "c-123" }),
        { env = ENV })
      assert.equal(0, r.code, r.err)
      assert.matches("action: InvokeCommand", r.out, 1, true)
      assert.matches("CommandId=c-123", r.out, 1, true)
      no_secret(r.out)
      assert.same({}, support.requests(emu))
    end)
  end)

  it("`ecs emulator` starts the bundled emulator with the arguments passed through", function()
    local dir = helper.tmpdir()
    local cmd = "cd " .. helper.shell_quote(support.ROOT) .. " && exec " .. support.LUA .. " bin/ecs emulator"
      .. " --port 0 --stdin-exit --time-scale 7 > " .. helper.shell_quote(dir .. "/out") .. " 2>&1"
    local pipe = assert(io.popen(cmd, "w"))
    local port
    local deadline = socket.gettime() + 10
    repeat
      socket.sleep(0.01)
      port = (helper.read_file(dir .. "/out") or ""):match("^listening (%d+)\n")
    until port or socket.gettime() > deadline
    assert.truthy(port, helper.read_file(dir .. "/out"))
    local ok, res = pcall(function()
      local r = exec { "instances", "--region", "cn-shanghai", "--endpoint", "http://127.0.0.1:" .. port,
                       "--name", "game-*", "--json" }
      return r
    end)
    pipe:close()   -- --stdin-exit: the emulator ends with its input
    helper.rmdir(dir)
    assert.is_true(ok, tostring(res))
    assert.equal(0, res.code, res.err)
    local doc = support.json(res.out)
    assert.equal(2, #doc.eligible)
    assert.equal("i-uf6emugame03", doc.skipped[1].InstanceId)
  end)

  it("finds the library from an installed tree (package paths) when no checkout is next to it", function()
    local dir = helper.tmpdir()
    os.execute("mkdir -p " .. dir .. "/bin && cp " .. support.BIN .. " " .. dir .. "/bin/ecs")
    local root = support.ROOT
    local function run(paths)
      local out = dir .. "/out"
      local cmd = ("cd %s && env %s %s %s/bin/ecs schedule 'rate(5m)' --json > %s 2>&1; echo $?"):format(
        helper.shell_quote(dir), paths, support.LUA, dir, out)
      local p = io.popen(cmd)
      local code = tonumber(p:read("*a"))
      p:close()
      return code, helper.read_file(out)
    end
    local code, out = run(("LUA_PATH=%s LUA_CPATH=%s"):format(
      helper.shell_quote(root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;;"),
      helper.shell_quote(root .. "/build/?.so;;")))
    assert.equal(0, code, out)
    assert.is_true(support.json(out).valid)
    code, out = run("LUA_PATH=" .. helper.shell_quote(dir .. "/?.lua"))
    assert.equal(70, code)
    assert.matches("^ecs: cannot load the ecs library", out)
    helper.rmdir(dir)
  end)
end)
