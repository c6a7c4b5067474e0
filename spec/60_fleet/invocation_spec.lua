-- One invocation by its InvokeId against the emulator: invoke_fleet's
-- on_launch hook (and rerun's), client:invocation_results (one pass over
-- every page), and wait_invocation's grace for an unknown InvokeId.
local support = require "60_fleet.support"

local WEB1, WEB2, WEB3 = "i-bp1emuweb01", "i-bp1emuweb02", "i-bp1emuweb03"

local function results_requests(emu, invoke_id)
  local n = 0
  for _, e in ipairs(support.requests(emu, "DescribeInvocationResults")) do
    if e.params.InvokeId == invoke_id then n = n + 1 end
  end
  return n
end

describe("one invocation", function()
  local emu, client
  support.serve(function(e, c) emu, client = e, c end)

  describe("on_launch", function()
    before_each(function() support.default_fleet(emu) end)

    it("gets each batch's invocation as soon as its answer is in, before any result of it", function()
      local launched, events = {}, {}
      local rep = assert(client:invoke_fleet { Type = "RunShellScript", CommandContent = "echo hi",
        targets = { InstanceId = { WEB1, WEB2, WEB3 } }, batch_size = 1, concurrency = 2,
        poll = { min = 0.2, max = 2 },
        on_launch = function(inv)
          -- nothing has asked for this invocation's results yet
          inv.results_requests = results_requests(emu, inv.InvokeId)
          launched[#launched + 1] = inv
          events[#events + 1] = "launch " .. inv.batch
        end,
        on_result = function(r) events[#events + 1] = "result " .. r.InstanceId end })
      assert.equal(3, #launched)
      assert.equal(3, rep.counts.success)
      for i, inv in ipairs(launched) do
        local want = rep.invocations[i]
        assert.same({ want.InvokeId, { want.InstanceId[1] }, want.batch, "cn-hangzhou", 0 },
          { inv.InvokeId, inv.InstanceId, inv.batch, inv.RegionId, inv.results_requests })
        assert.equal(rep.results[want.InstanceId[1]].InvokeId, inv.InvokeId)
      end
      -- the first wave (2 batches) is announced before its results, the third batch after them
      assert.same({ "launch 1", "launch 2" }, { events[1], events[2] })
      assert.equal("launch 3", events[5])
    end)

    it("gives the CommandId of an InvokeCommand run, and is not called for a refused batch", function()
      local cmd = assert(client:create_command { Name = "x", Type = "RunShellScript",
                                                 CommandContent = require("ecs.core").base64_encode("exit 0") })
      -- the second InvokeCommand call fails on every attempt
      emu:admin("POST", "/_emulator/faults", { { kind = "error500", action = "InvokeCommand", skip = 1 } })
      local launched = {}
      local rep = assert(client:invoke_fleet { CommandId = cmd.CommandId, targets = { InstanceId = { WEB1, WEB2 } },
        batch_size = 1, wait = false, on_launch = function(inv) launched[#launched + 1] = inv end })
      assert.equal(1, #rep.invocations)
      assert.equal(1, #rep.failed_calls)
      assert.equal(1, #launched)
      assert.equal(cmd.CommandId, launched[1].CommandId)
      assert.equal(rep.invocations[1].InvokeId, launched[1].InvokeId)
      emu:admin("DELETE", "/_emulator/faults")
    end)

    it("is called by rerun too, and must be a function", function()
      local rep = assert(client:invoke_fleet { Type = "RunShellScript", CommandContent = "echo hi",
        targets = { InstanceId = { WEB1 } }, poll = { min = 0.2, max = 2 } })
      rep.results[WEB1].class = "infra"   -- as if the agent had gone away
      rep.counts.success, rep.counts.infra = 0, 1
      local launched = {}
      local again = assert(client:rerun(rep, { on_launch = function(inv) launched[#launched + 1] = inv end }))
      assert.equal(1, #launched)
      assert.equal(again.invocations[1].InvokeId, launched[1].InvokeId)
      assert.same({ WEB1 }, launched[1].InstanceId)
      assert.has_error(function()
        client:invoke_fleet { Type = "RunShellScript", CommandContent = "x", targets = { InstanceId = { WEB1 } },
                              on_launch = "yes" }
      end, "ecs: invoke_fleet: bad option 'on_launch': expected a function, got string")
    end)
  end)

  describe("on_progress of invoke_fleet", function()
    before_each(function() support.default_fleet(emu) end)

    it("counts the whole run in every phase, not only the wave being waited for", function()
      local events = {}
      local rep = assert(client:invoke_fleet { Type = "RunShellScript", CommandContent = "echo hi",
        targets = { InstanceId = { WEB1, WEB2, WEB3 } }, batch_size = 1, poll = { min = 0.2, max = 2 },
        on_progress = function(p)
          events[#events + 1] = { phase = p.phase, finished = p.finished, success = p.counts.success,
                                  total = p.total, launched = p.launched }
        end })
      assert.equal(3, rep.counts.success)
      local last_finished = 0
      for _, e in ipairs(events) do
        assert.equal(3, e.total)
        assert.equal(e.finished, e.success)
        assert.truthy(e.finished >= last_finished)
        assert.truthy(e.finished <= e.launched)
        last_finished = e.finished
      end
      assert.same({ phase = "done", finished = 3, success = 3, total = 3, launched = 3 }, events[#events])
      -- the third wave's launch already counts the two instances finished before it
      local third
      for _, e in ipairs(events) do if e.phase == "launched" and e.launched == 3 then third = e end end
      assert.equal(2, third.finished)
    end)
  end)

  describe("invocation_results", function()
    setup(function()
      support.fleet(emu, { count = 75, regions = { "cn-hangzhou" }, running = 1, offline = 0, windows = 0 })
    end)

    it("reads every page once, decodes the output per instance and counts running ones", function()
      local ids = {}
      for _, inst in ipairs(support.instances(emu)) do ids[#ids + 1] = inst.InstanceId end
      assert.equal(75, #ids)
      local script = "echo out of {{ACS::InstanceId}} ({{ACS::InstanceName}})\nexit 0"
      local res = assert(client:run_command { Type = "RunShellScript", CommandContent = "echo start\nsleep 50",
                                              InstanceId = { ids[1] } })
      local slow = res.InvokeId
      res = assert(client:run_command { Type = "RunShellScript", CommandContent = script, InstanceId = ids,
                                        EnableParameter = true })
      local id = res.InvokeId
      assert(client:wait_invocation(id, { poll = { min = 0.5, max = 2 } }))
      support.clear_requests(emu)
      local out = assert(client:invocation_results(id))
      assert.equal(2, #support.requests(emu, "DescribeInvocationResults"))   -- 50 + 25, one pass
      assert.equal(2, out.requests)
      assert.equal(2, out.calls.DescribeInvocationResults)
      assert.equal(75, #out.order)
      assert.same({ success = 75, failed = 0, timeout = 0, cancelled = 0, infra = 0, running = 0 }, out.counts)
      assert.is_true(out.complete)
      assert.equal(id, out.InvokeId)
      assert.equal("cn-hangzhou", out.region)
      local names = {}
      for _, inst in ipairs(support.instances(emu)) do names[inst.InstanceId] = inst.InstanceName end
      for _, iid in ipairs(ids) do
        local r = out.results[iid]
        assert.equal("success", r.class)
        assert.equal(0, r.exit_code)
        assert.equal("out of " .. iid .. " (" .. names[iid] .. ")\n", r.output)   -- each instance its own output
        assert.equal(iid, r.InstanceId)
      end
      -- one instance only; a running one has no class and counts as running
      local one = assert(client:invocation_results(slow, { instance = ids[1] }))
      assert.same({ ids[1] }, one.order)
      assert.is_nil(one.results[ids[1]].class)
      assert.truthy(one.results[ids[1]].status == "Running" or one.results[ids[1]].status == "Pending")
      assert.equal(1, one.counts.running)
      assert.is_false(one.complete)
      local filtered = support.requests(emu, "DescribeInvocationResults")
      assert.equal(ids[1], filtered[#filtered].params.InstanceId)
      client:stop_invocation { InvokeId = slow }
    end)

    it("calls an unknown InvokeId (no record at all) not found, after one request", function()
      support.clear_requests(emu)
      local out, err = client:invocation_results("t-nosuchinvocation")
      assert.is_nil(out)
      assert.equal("InvalidInvokeId.NotFound", err.code)
      assert.equal("invocation t-nosuchinvocation was not found in cn-hangzhou", err.message)
      assert.equal(1, #support.requests(emu, "DescribeInvocationResults"))
      local id = assert(client:run_command { Type = "RunShellScript", CommandContent = "echo x",
                                             InstanceId = { "i-emu0000001" } }).InvokeId
      out, err = client:invocation_results(id, { instance = "i-emu0000002" })
      assert.is_nil(out)
      assert.equal("InvalidInstanceId.NotFound", err.code)
      assert.equal("invocation " .. id .. " has no execution record for i-emu0000002 in cn-hangzhou", err.message)
    end)

    it("raises on bad arguments, naming them", function()
      assert.has_error(function() client:invocation_results(nil) end,
        "ecs: invocation_results: bad invoke_id: expected an InvokeId string such as 't-...', got nil")
      assert.has_error(function() client:invocation_results("t-1", { instance = 5 }) end,
        "ecs: invocation_results: bad option 'instance': expected a string, got number")
      assert.has_error(function() client:invocation_results("t-1", { wait = true }) end,
        "ecs: invocation_results: unknown option 'wait'")
      assert.has_error(function() client:invocation_results("t-1", { concurrency = 0 }) end)
    end)
  end)

  describe("wait_invocation grace", function()
    local sleeps, recorder = {}, nil   -- a client whose sleep only records
    setup(function()
      recorder = support.client(emu, { sleep = function(s) sleeps[#sleeps + 1] = s end })
    end)
    teardown(function() recorder:close() end)
    before_each(function()
      for i = #sleeps, 1, -1 do sleeps[i] = nil end
      support.clear_requests(emu)
    end)

    it("with grace = 0 fails on an unknown InvokeId without polling or sleeping", function()
      local out, err = recorder:wait_invocation("t-nosuchinvocation", { grace = 0 })
      assert.is_nil(out)
      assert.equal("InvalidInvokeId.NotFound", err.code)
      assert.equal("invocation t-nosuchinvocation was not found in cn-hangzhou", err.message)
      assert.equal("DescribeInvocations", err.action)
      assert.same({}, sleeps)
      assert.equal(1, #support.requests(emu, "DescribeInvocations"))
      assert.equal(0, #support.requests(emu, "DescribeInvocationResults"))
    end)

    it("with grace = 0 and a timeout (no DescribeInvocations) polls once at once and fails", function()
      local out, err = recorder:wait_invocation("t-nosuchinvocation", { grace = 0, timeout = 100 })
      assert.is_nil(out)
      assert.equal("InvalidInvokeId.NotFound", err.code)
      assert.same({}, sleeps)
      assert.equal(0, #support.requests(emu, "DescribeInvocations"))
      assert.equal(1, #support.requests(emu, "DescribeInvocationResults"))
    end)

    it("with a grace keeps polling that long, and says so", function()
      local slept = {}
      local c = support.client(emu, { sleep = function(s)
        slept[#slept + 1] = s
        if s > 0 then require("socket").sleep(s / support.SCALE) end
      end })
      local t0 = c.clock()
      local out, err = c:wait_invocation("t-nosuchinvocation", { grace = 5,
                                                                 poll = { min = 1, max = 1, jitter = 0 } })
      assert.is_nil(out)
      assert.equal("InvalidInvokeId.NotFound", err.code)
      assert.equal("invocation t-nosuchinvocation was not found in cn-hangzhou (waited the 5 s grace)", err.message)
      assert.truthy(c.clock() - t0 >= 5)
      assert.equal(1, slept[1])   -- the first poll comes after poll.min, as right after invoking
      -- polled again and again over the grace (how many times depends on how
      -- long each poll takes on a loaded machine, so only "more than once")
      assert.truthy(#support.requests(emu, "DescribeInvocationResults") >= 2)
      c:close()
    end)
  end)

  describe("plan_fleet", function()
    it("checks a run as invoke_fleet does and gives its action, parameters and batches, sending nothing", function()
      support.clear_requests(emu)
      local plan = client:plan_fleet { Type = "RunShellScript", CommandContent = "echo hi", Timeout = 30,
        targets = { InstanceId = { "i-1", "i-2", "i-3", "i-2" } }, batch_size = 2 }
      assert.same({ "RunCommand", "cn-hangzhou", 2, true }, { plan.action, plan.region, plan.batch_size, plan.wait })
      assert.same({ { "i-1", "i-2" }, { "i-3" } }, plan.batches)
      assert.same({ Type = "RunShellScript", CommandContent = "echo hi", Timeout = 30, RegionId = "cn-hangzhou" },
        plan.params)
      plan = client:plan_fleet { CommandId = "c-1", Frequency = "rate(5m)", RegionId = "cn-shanghai",
                                 targets = { InstanceId = { "i-1" }, tags = { env = "prod" } } }
      assert.same({ "InvokeCommand", "cn-shanghai", 100, false }, { plan.action, plan.region, plan.batch_size,
                                                                     plan.wait })
      assert.is_nil(plan.batches)   -- the tags need DescribeInstances
      assert.same({}, support.requests(emu))
    end)

    it("raises where invoke_fleet would", function()
      assert.has_error(function()
        client:plan_fleet { Type = "RunShellScript", CommandContent = "x", targets = { status = "Sleeping" } }
      end, "ecs: plan_fleet: bad targets: 'status' must be Pending, Running, Starting, Stopping or Stopped, got "
        .. "'Sleeping'")
      assert.has_error(function()
        client:plan_fleet { Type = "RunShellScript", CommandContent = "x", targets = { all = true }, batch_size = 101 }
      end)
      assert.has_error(function() client:plan_fleet { CommandId = "c-1" } end,
        "ecs: plan_fleet: missing option 'targets'")
    end)
  end)
end)
