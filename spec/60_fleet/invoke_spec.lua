-- client:invoke_fleet against the emulator: batches, concurrency, max_errors,
-- on_batch, quota, exactly-once batches, and the API call count.
local support = require "60_fleet.support"
local core = require "ecs.core"
local socket = require "socket"

local OK_SCRIPT = "echo ok\nexit 0"

local function sorted(t)
  local o = {}
  for i, v in ipairs(t) do o[i] = v end
  table.sort(o)
  return o
end

describe("invoke_fleet", function()
  local emu, client
  support.serve(function(e, c) emu, client = e, c end)
  before_each(function()
    emu:admin("DELETE", "/_emulator/faults")
  end)

  it("never sends more than 100 instances a call and makes batches + pages + polls calls", function()
    support.fleet(emu, { count = 1050, regions = { "cn-hangzhou" }, seed = 11 })
    local cmd = assert(client:create_command { Name = "hello", Type = "RunShellScript",
                                               CommandContent = core.base64_encode(OK_SCRIPT) })
    support.clear_requests(emu)
    local before = support.counters(emu)
    local rep = assert(client:invoke_fleet { CommandId = cmd.CommandId, targets = { all = true },
                                             batch_size = 100, concurrency = 4 })
    local after = support.counters(emu)
    -- what the fleet holds, independently of the client
    local matched, candidates, eligible = 0, 0, {}
    for _, inst in ipairs(support.instances(emu)) do
      matched = matched + 1
      if inst.Status == "Running" and inst.OSType == "linux" then
        candidates = candidates + 1
        if inst.AgentOnline then eligible[#eligible + 1] = inst.InstanceId end
      end
    end
    assert.same(sorted(eligible), sorted(rep.eligible))
    assert.equal(#eligible, rep.counts.success)
    assert.equal(matched - #eligible, rep.counts.skipped)
    assert.is_nil(rep.stopped)
    -- every InvokeCommand call: at most 100 instances, all eligible ones exactly once
    local seen, calls = {}, support.requests(emu, "InvokeCommand")
    for _, e in ipairs(calls) do
      local ids = support.instance_ids(e)
      assert.truthy(#ids >= 1 and #ids <= 100, #ids)
      for _, id in ipairs(ids) do
        assert.is_nil(seen[id], id)
        seen[id] = true
      end
    end
    for _, id in ipairs(eligible) do assert.is_true(seen[id], id) end
    local batches = support.ceil_div(#eligible, 100)
    assert.equal(batches, #calls)
    assert.equal(batches, #rep.invocations)
    -- the formula of docs/fleet.md
    local polls = 0
    for _, inv in ipairs(rep.invocations) do
      assert.truthy(inv.polls >= 1)
      polls = polls + inv.polls * support.ceil_div(#inv.InstanceId, 50)
    end
    local expect = {
      DescribeInstances = support.ceil_div(matched, 100),
      DescribeCloudAssistantStatus = support.ceil_div(candidates, 50),
      DescribeCommands = 1,
      InvokeCommand = batches,
      DescribeInvocationResults = polls,
    }
    local total = 0
    for action, n in pairs(expect) do
      assert.equal(n, support.delta(before, after, action), action)
      assert.equal(n, rep.calls[action], action)
      total = total + n
    end
    assert.equal(total, after.requests - before.requests)
    assert.equal(total, rep.calls.total)
  end)

  it("keeps at most `concurrency` calls in flight", function()
    support.fleet(emu, { count = 60, regions = { "cn-hangzhou" }, running = 1, offline = 0, windows = 0 })
    local seen = {}
    local orig = client.call_batch
    client.call_batch = function(self, calls, opts)
      local n = 0
      for _, c in ipairs(calls) do if c[1] == "RunCommand" then n = n + 1 end end
      seen[#seen + 1] = { runs = n, concurrency = opts.concurrency }
      return orig(self, calls, opts)
    end
    emu:admin("POST", "/_emulator/faults", { { kind = "delay", action = "RunCommand", delay = 0.25 } })
    local t0 = socket.gettime()
    local rep = assert(client:invoke_fleet { Type = "RunShellScript", CommandContent = OK_SCRIPT,
                                      targets = { all = true }, batch_size = 10, concurrency = 2, wait = false })
    local elapsed = socket.gettime() - t0
    client.call_batch = nil
    assert.equal(6, #rep.invocations)
    local runs = 0
    for _, s in ipairs(seen) do
      assert.equal(2, s.concurrency)
      assert.truthy(s.runs <= 2)
      runs = runs + s.runs
    end
    assert.equal(6, runs)
    -- six delayed answers, two at a time: three rounds of 0.25 s at least
    assert.truthy(elapsed >= 0.7, elapsed)
  end)

  it("paces every call of the run under `rate`", function()
    support.fleet(emu, { count = 50, regions = { "cn-hangzhou" }, running = 1, offline = 0, windows = 0 })
    local times = {}
    local orig = client.call_batch
    client.call_batch = function(self, calls, opts)
      for _ = 1, #calls do times[#times + 1] = client.clock() end
      return orig(self, calls, opts)
    end
    local orig_call = client.call
    client.call = function(self, action, params, opts)
      times[#times + 1] = client.clock()
      return orig_call(self, action, params, opts)
    end
    local rep = assert(client:invoke_fleet { Type = "RunShellScript", CommandContent = OK_SCRIPT,
                                             targets = { all = true }, batch_size = 10, rate = 0.5, wait = false })
    client.call_batch, client.call = nil, nil
    assert.equal(5, #rep.invocations)
    assert.equal(7, rep.calls.total)           -- one page, one status call, five batches
    assert.equal(7, #times)
    -- two seconds (client clock) between calls, less the time between pacing and sending
    for i = 2, #times do
      assert.truthy(times[i] - times[i - 1] >= 1.5, times[i] - times[i - 1])
    end
    assert.truthy(times[#times] - times[1] >= 11.5)
  end)

  -- 40 instances in batches of 10; two instances of every batch are stopped
  -- right after their batch is launched, so each batch adds two infra results.
  local function failing_run(max_errors)
    support.fleet(emu, { count = 40, regions = { "cn-hangzhou" }, running = 1, offline = 0, windows = 0 })
    local stopped_ids = {}
    local rep
    rep = assert(client:invoke_fleet { Type = "RunShellScript", CommandContent = "echo working\nsleep 5\nexit 0",
      targets = { all = true }, batch_size = 10, max_errors = max_errors,
      on_progress = function(p)
        if p.phase == "launched" then
          local first = (p.batches_launched - 1) * 10
          for k = 1, 2 do
            local id = ("i-emu%07d"):format(first + k)
            if not stopped_ids[id] then
              stopped_ids[id] = true
              support.set_instance(emu, id, { Status = "Stopped" })
            end
          end
        end
      end })
    return rep, stopped_ids
  end

  it("stops launching once max_errors (a count) is crossed", function()
    local rep, stopped = failing_run(4)
    assert.equal(3, #rep.invocations)
    assert.equal(6, rep.counts.infra)
    assert.equal(24, rep.counts.success)
    assert.equal(10, rep.counts.not_launched)
    assert.equal(10, #rep.not_launched)
    assert.matches("max_errors: 6 instances did not succeed, more than the 4 allowed", rep.stopped, 1, true)
    for id in pairs(stopped) do
      assert.equal("infra", rep.results[id].class)
      assert.equal("InstanceNotRunning", rep.results[id].error_code)
    end
  end)

  it("stops launching once max_errors (a percentage) is crossed", function()
    local rep = failing_run("12%")           -- 4.8 of 40
    assert.equal(3, #rep.invocations)
    assert.matches("more than the 12% (4.8) allowed", rep.stopped, 1, true)
    rep = failing_run("20%")                 -- 8 of 40: 8 errors after four batches is not more
    assert.equal(4, #rep.invocations)
    assert.is_nil(rep.stopped)
    assert.equal(8, rep.counts.infra)
    assert.equal(32, rep.counts.success)
  end)

  it("lets on_batch stop after a canary batch, or pause", function()
    support.fleet(emu, { count = 20, regions = { "cn-hangzhou" }, running = 1, offline = 0, windows = 0 })
    local infos = {}
    local rep = assert(client:invoke_fleet { Type = "RunShellScript", CommandContent = "echo canary\nexit 2",
      targets = { all = true }, batch_size = 5,
      on_batch = function(info)
        infos[#infos + 1] = info
        if info.counts.failed > 0 then return "stop", "canary failed" end
      end })
    assert.equal("canary failed", rep.stopped)
    assert.equal(1, #infos)
    assert.equal(1, infos[1].index)
    assert.equal(4, infos[1].total)
    assert.equal(5, infos[1].counts.failed)
    assert.equal(rep.invocations[1].InvokeId, infos[1].InvokeId)
    assert.equal(2, infos[1].results[infos[1].InstanceId[1]].exit_code)
    assert.equal(1, #rep.invocations)
    assert.equal(15, rep.counts.not_launched)

    local slept, orig_sleep = {}, client.sleep
    client.sleep = function(s) slept[#slept + 1] = s; return orig_sleep(s) end
    rep = assert(client:invoke_fleet { Type = "RunShellScript", CommandContent = OK_SCRIPT, targets = { all = true },
      batch_size = 10, on_batch = function(info) if info.index == 1 then return 40 end end })
    client.sleep = orig_sleep
    assert.is_nil(rep.stopped)
    assert.equal(2, #rep.invocations)
    assert.equal(20, rep.counts.success)
    local found = false
    for _, s in ipairs(slept) do if s == 40 then found = true end end
    assert.is_true(found)
  end)

  it("sends every batch once: a dropped answer is retried with the same ClientToken", function()
    support.fleet(emu, { count = 30, regions = { "cn-hangzhou" }, running = 1, offline = 0, windows = 0 })
    support.clear_requests(emu)
    emu:admin("POST", "/_emulator/faults", { { kind = "drop_after", action = "RunCommand", first = 1 } })
    local rep = assert(client:invoke_fleet { Type = "RunShellScript", CommandContent = OK_SCRIPT,
                                      targets = { all = true }, batch_size = 10 })
    assert.is_nil(rep.stopped)
    assert.equal(3, #rep.invocations)
    assert.equal(30, rep.counts.success)
    local calls = support.requests(emu, "RunCommand")
    -- the first batch went out more than once (the answer was lost), always with one ClientToken
    assert.truthy(#calls >= 4)
    for i = 2, #calls - 2 do assert.equal(calls[1].params.ClientToken, calls[i].params.ClientToken) end
    local tokens = {}
    for _, e in ipairs(calls) do tokens[e.params.ClientToken] = true end
    local n = 0
    for _ in pairs(tokens) do n = n + 1 end
    assert.equal(3, n)
    local runs = 0
    for _, inv in ipairs(support.state(emu).invocations) do
      if inv.Instances[1] and inv.Instances[1].InstanceId:match("^i%-emu") then runs = runs + 1 end
    end
    assert.equal(3, runs)
  end)

  it("refuses a run that would cross the daily quota before sending anything", function()
    support.fleet(emu, { count = 50, regions = { "cn-hangzhou" }, running = 1, offline = 0, windows = 0 })
    local c = support.client(emu, { quota = { daily_invocations = 3 } })
    local before = support.counters(emu)
    local rep, err = c:invoke_fleet { Type = "RunShellScript", CommandContent = OK_SCRIPT,
                                      targets = { all = true }, batch_size = 10, wait = false }
    assert.is_nil(rep)
    assert.equal("Fleet.QuotaExceeded", err.code)
    assert.matches("needs 5 invocations in cn-hangzhou but only 3 of the daily quota of 3 remain",
      tostring(err), 1, true)
    local after = support.counters(emu)
    assert.equal(0, support.delta(before, after, "RunCommand"))
    rep = assert(c:invoke_fleet { Type = "RunShellScript", CommandContent = OK_SCRIPT,
                                  targets = { InstanceId = { "i-emu0000001", "i-emu0000002" } }, batch_size = 1,
                                  wait = false })
    assert.equal(2, #rep.invocations)
    assert.equal(1, c:invocation_quota().remaining)
    rep, err = c:invoke_fleet { Type = "RunShellScript", CommandContent = OK_SCRIPT,
                                targets = { InstanceId = { "i-emu0000001", "i-emu0000002" } }, batch_size = 1 }
    assert.is_nil(rep)
    assert.equal("Fleet.QuotaExceeded", err.code)
    assert.truthy(c:invoke_fleet { Type = "RunShellScript", CommandContent = OK_SCRIPT,
                                   targets = { InstanceId = { "i-emu0000003" } }, wait = false })
    before = support.counters(emu)
    rep, err = c:invoke_fleet { Type = "RunShellScript", CommandContent = OK_SCRIPT,
                                targets = { InstanceId = { "i-emu0000004" } } }
    assert.is_nil(rep)
    assert.equal("Fleet.QuotaExceeded", err.code)
    assert.equal(before.requests, support.counters(emu).requests)
    c:close()
  end)

  it("stops on Invocation.ExceedQuota from the service without retrying it", function()
    local small = support.start { args = { "--quota", "2" } }
    local c = support.client(small)
    support.fleet(small, { count = 40, regions = { "cn-hangzhou" }, running = 1, offline = 0, windows = 0 })
    local rep = assert(c:invoke_fleet { Type = "RunShellScript", CommandContent = OK_SCRIPT,
                                        targets = { all = true }, batch_size = 10 })
    assert.equal(2, #rep.invocations)
    assert.matches("Invocation.ExceedQuota", rep.stopped, 1, true)
    assert.equal("Invocation.ExceedQuota", rep.failed_calls[1].error.code)
    assert.equal(1, rep.failed_calls[1].error.attempts)
    assert.equal(3, #support.requests(small, "RunCommand"))
    assert.equal(20, rep.counts.success)
    assert.equal(10, rep.counts.infra)
    assert.equal(10, rep.counts.not_launched)
    assert.equal(0, c:invocation_quota().remaining)
    local again, err = c:invoke_fleet { Type = "RunShellScript", CommandContent = OK_SCRIPT,
                                        targets = { InstanceId = { "i-emu0000001" } } }
    assert.is_nil(again)
    assert.equal("Fleet.QuotaExceeded", err.code)
    c:close()
    small:stop()
  end)

  it("checks its options", function()
    local function raises(opts, msg)
      local ok, err = pcall(client.invoke_fleet, client, opts)
      assert.is_false(ok)
      assert.matches(msg, err, 1, true)
    end
    local t = { all = true }
    raises({ CommandId = "c-x", targets = t, batch_size = 101 }, "bad option 'batch_size'")
    raises({ CommandId = "c-x", targets = t, concurrency = 0 }, "bad option 'concurrency'")
    raises({ CommandId = "c-x", targets = t, max_errors = "lots" }, "bad option 'max_errors'")
    raises({ CommandId = "c-x", targets = t, rate = -1 }, "bad option 'rate'")
    raises({ CommandId = "c-x", targets = t, on_batch = 1 }, "bad option 'on_batch'")
    raises({ CommandId = "c-x", targets = t, batchsize = 1 }, "unknown option 'batchsize'")
    raises({ CommandId = "c-x" }, "missing option 'targets'")
    raises({ targets = t }, "give CommandId")
    raises({ CommandContent = "echo", targets = t }, "RunCommand needs Type")
    raises({ CommandId = "c-x", targets = t, InstanceId = { "i-1" } }, "not both")
    raises({ CommandId = "c-x", targets = t, ClientToken = "x" }, "ClientToken")
    raises({ CommandId = "c-x", targets = t, Frequency = "rate(5m)", wait = true }, "one-time run")
    local rep, err = client:invoke_fleet { CommandId = "c-missing", targets = t }
    assert.is_nil(rep)
    assert.equal("InvalidCmdId.NotFound", err.code)
    support.clear_requests(emu)
    rep = assert(client:invoke_fleet { Type = "RunShellScript", CommandContent = OK_SCRIPT,
                                       targets = { InstanceId = { "i-nope" } } })
    assert.same({}, rep.invocations)
    assert.same({ InstanceId = "i-nope", reason = "not_found", message = "not found in region cn-hangzhou" },
      rep.skipped[1])
    assert.equal(1, rep.counts.skipped)
    assert.same({}, support.requests(emu, "RunCommand"))
  end)
end)
