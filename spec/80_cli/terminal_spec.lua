-- Live progress under a real pseudo-terminal (`script` from util-linux /
-- bsdutils), and Ctrl-C (a real SIGINT) during a run: StopInvocation for
-- every invocation started, said on stderr, exit 130.
local support = require "80_cli.support"
local helper = support.helper
local socket = require "socket"

local q = helper.shell_quote

-- The screen a terminal shows for a byte stream: CR, LF and ESC[K (erase to
-- the end of the line) are the controls the progress line uses.
local function screen(raw)
  local lines, cur, col = {}, {}, 1
  local i = 1
  while i <= #raw do
    local c = raw:sub(i, i)
    if c == "\r" then
      col = 1
    elseif c == "\n" then
      lines[#lines + 1] = table.concat(cur)
      cur, col = {}, 1
    elseif c == "\27" then
      local seq = raw:match("^%[[%d;]*%a", i + 1)
      assert(seq, "unknown escape sequence at " .. i)
      if seq == "[K" then
        for k = #cur, col, -1 do cur[k] = nil end
      else
        error("unexpected escape sequence " .. seq)
      end
      i = i + #seq
    else
      cur[col] = c
      col = col + 1
    end
    i = i + 1
  end
  if #cur > 0 then lines[#lines + 1] = table.concat(cur) end
  return lines
end

local function in_pty(argv, redirect)
  local dir = helper.tmpdir()
  local words = {}
  for i, a in ipairs(argv) do words[i] = q(a) end
  local inner = "cd " .. q(support.ROOT) .. " && env -u ECS_CLI_TTY COLUMNS=100 ALIBABA_CLOUD_ACCESS_KEY_ID=testid "
    .. "ALIBABA_CLOUD_ACCESS_KEY_SECRET=testsecret " .. support.LUA .. " bin/ecs " .. table.concat(words, " ")
    .. (redirect and (" > " .. q(dir .. "/stdout")) or "")
  local cmd = "script -qefc " .. q(inner) .. " /dev/null > " .. q(dir .. "/screen") .. " 2>&1 < /dev/null; echo $?"
  local p = io.popen(cmd)
  local code = tonumber(p:read("*a"))
  p:close()
  local raw = helper.read_file(dir .. "/screen") or ""
  local stdout = helper.read_file(dir .. "/stdout")
  helper.rmdir(dir)
  return code, raw, stdout
end

describe("progress on a terminal", function()
  local emu

  setup(function() emu = support.start(50) end)
  teardown(function() if emu then emu:stop() end end)

  it("rewrites one progress line in place, then prints a table per instance", function()
    local code, raw = in_pty(support.argv(emu, { "run", "--tag", "env=prod", "--poll", "0.05",
                                                 "echo line one\necho line two\nsleep 15\nexit 0" }))
    assert.equal(1, code, raw)   -- two skipped instances
    -- several states of the line went by, each rewriting the one before
    assert.matches("\r\27%[K0/4 done  success 0  failed 0  infra 0  elapsed 00:00", raw)
    assert.matches("\r\27%[K2/4 done  success 2", raw)
    local s = screen(raw)
    local progress_lines = 0
    for _, l in ipairs(s) do
      if l:match("^%d+/%d+ done  success") then progress_lines = progress_lines + 1 end
    end
    assert.equal(1, progress_lines, table.concat(s, "\n"))
    assert.matches("^4/4 done  success 4  failed 0  infra 0  elapsed 00:0%d$", s[1])
    assert.equal("INSTANCE         CLASS    STATUS   EXIT  OUTPUT", s[2])
    local rows = {}
    for i = 3, 6 do rows[#rows + 1] = s[i] end
    table.sort(rows)
    assert.equal("i-bp1emucache01  success  Success  0     line one", rows[1])
    assert.equal("i-bp1emuweb02    success  Success  0     line one", rows[4])
    assert.matches("^skipped i%-bp1emudb02: not_running", s[7])
    assert.matches("^4/4 done in 00:0%d: 4 success, 2 skipped$", s[#s])
  end)

  it("with --json the line goes to the terminal on stderr and stdout holds only the document", function()
    local code, raw, stdout = in_pty(support.argv(emu, { "run", "--json", "-i", "i-bp1emuweb01", "--poll", "0.05",
                                                         "echo hi" }), true)
    assert.equal(0, code, raw)
    local s = screen(raw)
    assert.equal(1, #s)
    assert.matches("^1/1 done  success 1  failed 0  infra 0  elapsed 00:00$", s[1])
    assert.equal(1, support.json(stdout).counts.success)
  end)
end)

describe("Ctrl-C during a run", function()
  local emu

  setup(function() emu = support.start(1) end)
  teardown(function() if emu then emu:stop() end end)

  local function start_child(argv)
    local dir = helper.tmpdir()
    local words = { "env", "-u", "ECS_CLI_TTY", "ALIBABA_CLOUD_ACCESS_KEY_ID=testid",
                    "ALIBABA_CLOUD_ACCESS_KEY_SECRET=testsecret", support.LUA, "bin/ecs" }
    for _, a in ipairs(argv) do words[#words + 1] = q(a) end
    os.execute("cd " .. q(support.ROOT) .. " && ( " .. table.concat(words, " ") .. " > " .. q(dir .. "/out")
      .. " 2> " .. q(dir .. "/err") .. " < /dev/null & echo $! > " .. q(dir .. "/pid") .. "; wait $!; echo $? > "
      .. q(dir .. "/rc") .. " ) > /dev/null 2>&1 &")
    local pid
    local deadline = socket.gettime() + 5
    repeat
      socket.sleep(0.01)
      pid = tonumber(helper.read_file(dir .. "/pid") or "")
    until pid or socket.gettime() > deadline
    assert.truthy(pid, "child did not start")
    return dir, pid
  end

  local function wait_for(fn, what)
    local deadline = socket.gettime() + 10
    while socket.gettime() < deadline do
      local v = fn()
      if v then return v end
      socket.sleep(0.02)
    end
    error("timed out waiting for " .. what)
  end

  for _, json in ipairs { false, true } do
    it("asks the service to stop the started invocation, says so and exits 130" .. (json and " (--json)" or ""),
      function()
        emu:admin("DELETE", "/_emulator/requests")
        local args = support.argv(emu, { "run", "--tag", "app=web", "--tag", "env=prod", "--poll", "0.05",
                                         "echo started\nsleep 30\necho never" })
        if json then args[#args + 1] = "--json" end
        local dir, pid = start_child(args)
        -- the run is waiting once results have been asked for
        wait_for(function() return #support.requests(emu, "DescribeInvocationResults") > 0 end, "waiting")
        local started = support.requests(emu, "RunCommand")
        assert.equal(1, #started)
        assert.equal(0, #support.requests(emu, "StopInvocation"))
        os.execute("kill -INT " .. pid)
        local rc = wait_for(function() return tonumber(helper.read_file(dir .. "/rc") or "") end, "exit")
        local out, err = helper.read_file(dir .. "/out"), helper.read_file(dir .. "/err")
        helper.rmdir(dir)
        assert.equal(130, rc, err)
        local stops = support.requests(emu, "StopInvocation")
        assert.equal(1, #stops)
        local id = stops[1].params.InvokeId
        assert.matches("^t%-", id)
        assert.equal("interrupted: asked the service to stop 1 invocation: " .. id .. "\n", err)
        if json then
          local doc = support.json(out)
          assert.is_true(doc.interrupted)
          assert.same({ { InvokeId = id, stopped = true } }, doc.stopped)
          assert.equal(130, doc.exit_status)
        else
          assert.equal("", out)
        end
        -- the instances were really stopped
        local r = support.main(support.argv(emu, { "results", "--json", id }))
        local results = support.json(r.out).results
        assert.equal(2, #results)
        for _, res in ipairs(results) do
          assert.equal("cancelled", res.class)   -- Cancelled before it ran, Terminated while running
        end
      end)
  end

  it("during `ecs wait` stops waiting only: the invocation keeps running (exit 130)", function()
    local r = support.main(support.argv(emu, { "run", "--json", "--no-wait", "-i", "i-bp1emuweb03", "sleep 30" }))
    local id = support.json(r.out).invocations[1].InvokeId
    emu:admin("DELETE", "/_emulator/requests")
    local dir, pid = start_child(support.argv(emu, { "wait", "--poll", "0.05", id }))
    wait_for(function() return #support.requests(emu, "DescribeInvocationResults") > 0 end, "waiting")
    os.execute("kill -INT " .. pid)
    local rc = wait_for(function() return tonumber(helper.read_file(dir .. "/rc") or "") end, "exit")
    local err = helper.read_file(dir .. "/err")
    helper.rmdir(dir)
    assert.equal(130, rc)
    assert.equal(("interrupted: stopped waiting; invocation %s keeps running (ecs stop %s stops it)\n"):format(id, id),
      err)
    assert.same({}, support.requests(emu, "StopInvocation"))
    support.main(support.argv(emu, { "stop", id }))
  end)
end)
