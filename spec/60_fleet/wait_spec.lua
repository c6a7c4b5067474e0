-- client:wait_invocation and the results of invoke_fleet on a fast emulator
-- clock: every final class, decoded output per instance, grace, deadline, rerun.
local support = require "60_fleet.support"

local WEB1, WEB2, CACHE = "i-bp1emuweb01", "i-bp1emuweb02", "i-bp1emucache01"
local FAST = { min = 0.2, max = 2 }   -- emulated seconds: the first poll comes before delivery

describe("wait_invocation", function()
  local emu, client
  support.serve(function(e, c) emu, client = e, c end)
  before_each(function() support.default_fleet(emu) end)

  local function run(content, extra, instance)
    local p = { Type = "RunShellScript", CommandContent = content, InstanceId = { instance or WEB1 } }
    for k, v in pairs(extra or {}) do p[k] = v end
    local res = assert(client:run_command(p))
    return res.InvokeId
  end

  local function watch()
    local seen, order = {}, {}
    return function(p)
      for _, s in pairs(p.statuses) do
        if not seen[s] then
          seen[s] = true
          order[#order + 1] = s
        end
      end
    end, order
  end

  it("follows Pending and Running to Success and decodes the output", function()
    local id = run("echo start\nsleep 20\necho end ✓\nexit 0")
    local progress, statuses = watch()
    local called = {}
    local out = assert(client:wait_invocation(id, { poll = FAST, on_progress = progress,
      on_result = function(r) called[#called + 1] = r.InstanceId end }))
    assert.same({ "Pending", "Running", "Success" }, statuses)
    assert.same({ WEB1 }, called)
    local r = out.results[WEB1]
    assert.same({ "success", "Success", 0, "start\nend ✓\n", 0 },
      { r.class, r.status, r.exit_code, r.output, r.dropped })
    assert.is_nil(r.error_code)
    assert.is_true(r.finished - r.started >= 20)
    assert.is_true(out.complete)
    assert.same({ success = 1, failed = 0, timeout = 0, cancelled = 0, infra = 0 }, out.counts)
    assert.equal(1, out.calls.DescribeInvocations)
    assert.equal(out.polls, out.calls.DescribeInvocationResults)
  end)

  it("classes a non-zero exit as failed and a timed-out run as timeout", function()
    local out = assert(client:wait_invocation(run("echo bad\nexit 3")))
    local r = out.results[WEB1]
    assert.same({ "failed", "Failed", 3, "ExitCodeNonzero", "bad\n" },
      { r.class, r.status, r.exit_code, r.error_code, r.output })
    local progress, statuses = watch()
    out = assert(client:wait_invocation(run("echo start\nsleep 30\necho never", { Timeout = 10 }),
                                        { poll = FAST, on_progress = progress }))
    r = out.results[WEB1]
    assert.same({ "timeout", "Timeout", "ExecutionTimeout", "start\n" }, { r.class, r.status, r.error_code, r.output })
    assert.same({ "Pending", "Running", "Timeout" }, statuses)
  end)

  it("classes stopped runs as cancelled, before and after they start", function()
    local id = run("echo start\nsleep 30")
    local stopped = false
    local out = assert(client:wait_invocation(id, { on_progress = function(p)
      if p.statuses[WEB1] == "Running" and not stopped then
        stopped = true
        assert(client:stop_invocation { InvokeId = id })
      end
    end }))
    assert.is_true(stopped)
    assert.same({ "cancelled", "Terminated" }, { out.results[WEB1].class, out.results[WEB1].status })
    id = run("echo never")
    assert(client:stop_invocation { InvokeId = id })
    out = assert(client:wait_invocation(id))
    assert.same({ "cancelled", "Cancelled", "" }, { out.results[WEB1].class, out.results[WEB1].status,
                                                   out.results[WEB1].output })
  end)

  it("classes instance and agent trouble as infra", function()
    local id = assert(client:run_command { Type = "RunShellScript", CommandContent = "echo start\nsleep 30",
                                           InstanceId = { WEB1, WEB2, CACHE } }).InvokeId
    local done = false
    local out = assert(client:wait_invocation(id, { on_progress = function(p)
      if not done and p.statuses[WEB1] == "Running" then
        done = true
        support.set_instance(emu, WEB1, { Status = "Stopped" })
        support.set_instance(emu, WEB2, { AgentOnline = false })
      end
    end }))
    local r1, r2, r3 = out.results[WEB1], out.results[WEB2], out.results[CACHE]
    assert.same({ "infra", "Failed", "InstanceNotRunning", "start\n" },
      { r1.class, r1.status, r1.error_code, r1.output })
    assert.same({ "infra", "ClientNotResponse" }, { r2.class, r2.error_code })
    assert.equal("success", r3.class)
    assert.same({ success = 1, failed = 0, timeout = 0, cancelled = 0, infra = 2 }, out.counts)
    -- not delivered at all: Aborted
    id = run("echo x", nil, CACHE)
    support.set_instance(emu, CACHE, { Status = "Stopped" })
    out = assert(client:wait_invocation(id))
    assert.same({ "infra", "Aborted", "InstanceNotRunning" }, { out.results[CACHE].class, out.results[CACHE].status,
                                                               out.results[CACHE].error_code })
  end)

  it("treats an unknown invocation as pending for the grace period, then fails", function()
    local t0 = client.clock()
    local out, err = client:wait_invocation("t-notthereyet", { grace = 20, command_timeout = 60 })
    assert.is_nil(out)
    assert.equal("InvalidInvokeId.NotFound", err.code)
    assert.is_true(client.clock() - t0 >= 20)
  end)

  it("gives up at the deadline and says so", function()
    local id = run("echo start\nsleep 600")
    local out = assert(client:wait_invocation(id, { timeout = 15, command_timeout = 700 }))
    local r = out.results[WEB1]
    assert.same({ "timeout", "Running", "Fleet.WaitDeadline" }, { r.class, r.status, r.error_code })
    assert.is_false(out.complete)
  end)

  it("raises on bad arguments", function()
    assert.has_error(function() client:wait_invocation(nil) end)
    assert.has_error(function() client:wait_invocation("t-1", { poll = { min = 0 } }) end)
    assert.has_error(function() client:wait_invocation("t-1", { every = 1 }) end)
    assert.has_error(function() client:wait_invocation("t-1", { instances = { 1 } }) end)
  end)
end)

describe("invoke_fleet results", function()
  local emu, client
  support.serve(function(e, c) emu, client = e, c end)

  it("keeps each instance's decoded output with its instance over many pages", function()
    support.fleet(emu, { count = 230, regions = { "cn-hangzhou" }, running = 1, offline = 0, windows = 0 })
    support.clear_requests(emu)
    local rep = assert(client:invoke_fleet { Type = "RunShellScript", EnableParameter = true,
      CommandContent = "echo out-{{ACS::InstanceId}}\necho 日本 ✓", targets = { all = true }, concurrency = 3 })
    assert.equal(230, rep.counts.success)
    assert.equal(3, #rep.invocations)
    local owner = {}
    for _, inv in ipairs(rep.invocations) do
      for _, id in ipairs(inv.InstanceId) do owner[id] = inv.InvokeId end
    end
    for i = 1, 230 do
      local id = ("i-emu%07d"):format(i)
      local r = rep.results[id]
      assert.equal(id, r.InstanceId)
      assert.equal("out-" .. id .. "\n日本 ✓\n", r.output)
      assert.equal(owner[id], r.InvokeId)
    end
    local paged = 0
    for _, e in ipairs(support.requests(emu, "DescribeInvocationResults")) do
      assert.equal("50", e.params.MaxResults)
      if e.params.NextToken then paged = paged + 1 end
    end
    assert.truthy(paged > 0)
  end)

  it("reruns only the infra instances, with a cap", function()
    support.fleet(emu, { count = 30, regions = { "cn-hangzhou" }, running = 1, offline = 0, windows = 0 })
    local broken = { "i-emu0000003", "i-emu0000014", "i-emu0000025" }
    local done = 0
    local rep = assert(client:invoke_fleet { Type = "RunShellScript", CommandContent = "echo hi\nsleep 5",
      targets = { tags = { batch = "b1" } }, batch_size = 10,
      on_progress = function(p)
        if p.phase == "launched" and p.batches_launched > done then
          done = p.batches_launched
          support.set_instance(emu, broken[done], { Status = "Stopped" })
        end
      end })
    assert.same({ success = 27, failed = 0, timeout = 0, cancelled = 0, infra = 3, skipped = 0, not_launched = 0 },
      rep.counts)
    for _, id in ipairs(broken) do support.set_instance(emu, id, { Status = "Running" }) end
    support.clear_requests(emu)
    local again = assert(client:rerun(rep, { max = 2 }))
    assert.same({ broken[1], broken[2] }, again.invocations[1].InstanceId)
    assert.equal(2, again.counts.success)
    assert.equal(rep, again.rerun_of)
    local all = assert(client:rerun(rep))
    local sent = {}
    for _, e in ipairs(support.requests(emu, "RunCommand")) do
      for _, id in ipairs(support.instance_ids(e)) do sent[#sent + 1] = id end
    end
    assert.same({ broken[1], broken[2], broken[1], broken[2], broken[3] }, sent)
    assert.equal(3, all.counts.success)
    assert.equal("hi\n", all.results[broken[3]].output)
    local none = assert(client:rerun(all))
    assert.same({}, none.invocations)
    assert.has_error(function() client:rerun({}) end)
    assert.has_error(function() client:rerun(rep, { targets = { all = true } }) end)
  end)
end)
