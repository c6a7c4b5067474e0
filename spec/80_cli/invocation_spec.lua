-- `ecs wait` and `ecs results` on an InvokeId the service does not know:
-- a quick service error (exit 3), with --grace for the moments right after
-- invoking; `results -i` for an instance outside the invocation; --dry-run
-- refusing what the run itself would refuse (client:plan_fleet).
local support = require "80_cli.support"
local socket = require "socket"

local main, argv = support.main, support.argv

local function timed(list)
  local t0 = socket.gettime()
  local r = main(list)
  r.seconds = socket.gettime() - t0
  return r
end

describe("an unknown InvokeId", function()
  local emu

  setup(function() emu = support.start() end)
  teardown(function() if emu then emu:stop() end end)
  before_each(function() emu:admin("DELETE", "/_emulator/requests") end)

  it("wait --grace 0 fails at once (exit 3) after one DescribeInvocations", function()
    local r = timed(argv(emu, { "wait", "--grace", "0", "t-nosuchinvocation" }))
    assert.equal(3, r.code)
    assert.equal("", r.out)
    assert.equal("ecs wait: DescribeInvocations: InvalidInvokeId.NotFound: invocation t-nosuchinvocation "
      .. "was not found in cn-hangzhou\n", r.err)
    assert.truthy(r.seconds < 1, r.seconds)
    assert.equal(1, #support.requests(emu, "DescribeInvocations"))
    assert.equal(0, #support.requests(emu, "DescribeInvocationResults"))
    r = main(argv(emu, { "wait", "--grace", "0", "--json", "t-nosuchinvocation" }))
    assert.equal(3, r.code)
    local doc = support.json(r.out)
    assert.same({ "wait", "t-nosuchinvocation", "InvalidInvokeId.NotFound", 3 },
      { doc.command, doc.InvokeId, doc.code, doc.exit_status })
  end)

  it("wait takes a short grace by default (3 s, not the library's 30 s)", function()
    local r = timed(argv(emu, { "wait", "--no-progress", "t-nosuchinvocation" }))
    assert.equal(3, r.code)
    assert.matches("InvalidInvokeId.NotFound: invocation t-nosuchinvocation was not found in cn-hangzhou "
      .. "(waited the 3 s grace)\n", r.err, 1, true)
    assert.truthy(r.seconds >= 3 and r.seconds < 4.5, r.seconds)
  end)

  it("wait --grace takes seconds >= 0", function()
    for _, bad in ipairs { "-1", "soon" } do
      local r = main(argv(emu, { "wait", "--grace", bad, "t-1" }))
      assert.equal(2, r.code)
      assert.equal(1, r.err:find("ecs wait: --grace: expected a number >= 0, got '" .. bad .. "'\n", 1, true))
    end
    assert.same({}, support.requests(emu))
  end)

  it("results fails at once (exit 3), in text and --json", function()
    local r = timed(argv(emu, { "results", "t-nosuchinvocation" }))
    assert.equal(3, r.code)
    assert.equal("", r.out)
    assert.matches("^ecs results: .*InvalidInvokeId.NotFound", r.err)
    assert.truthy(r.seconds < 1, r.seconds)
    assert.equal(1, #support.requests(emu, "DescribeInvocationResults"))
    r = main(argv(emu, { "results", "--json", "t-nosuchinvocation" }))
    assert.equal(3, r.code)
    assert.equal("InvalidInvokeId.NotFound", support.json(r.out).code)
  end)

  it("results -i for an instance outside the invocation is exit 3; a known one is read", function()
    local r = main(argv(emu, { "run", "--json", "-i", "i-bp1emuweb01", "--poll", "0.05", "echo hi" }))
    assert.equal(0, r.code, r.err)
    local id = support.json(r.out).invocations[1].InvokeId
    r = main(argv(emu, { "results", "--json", "-i", "i-bp1emuweb02", id }))
    assert.equal(3, r.code)
    assert.equal("InvalidInstanceId.NotFound", support.json(r.out).code)
    r = main(argv(emu, { "results", "-i", "i-bp1emuweb01", id }))
    assert.equal(0, r.code, r.err)
    assert.matches("i%-bp1emuweb01%s+success%s+Success%s+0%s+hi\n1 success\n$", r.out)
  end)
end)

describe("--dry-run", function()
  local emu

  setup(function() emu = support.start() end)
  teardown(function() if emu then emu:stop() end end)

  it("refuses what the run would refuse (exit 2) and sends nothing", function()
    emu:admin("DELETE", "/_emulator/requests")
    local r = main(argv(emu, { "run", "--dry-run", "-i", "i-1", "--status", "Sleeping", "echo hi" }))
    assert.equal(2, r.code)
    assert.equal(1, r.err:find("ecs run: plan_fleet: bad targets: 'status' must be Pending, Running, Starting, "
      .. "Stopping or Stopped, got 'Sleeping'\n", 1, true), r.err)
    r = main(argv(emu, { "run", "-i", "i-1", "--status", "Sleeping", "echo hi" }))
    assert.equal(2, r.code)
    assert.matches("'status' must be Pending", r.err, 1, true)
    assert.same({}, support.requests(emu))
  end)

  it("batches the given IDs as the fleet layer does (each ID once)", function()
    local r = main(argv(emu, { "run", "--dry-run", "--json", "-i", "i-a,i-b", "-i", "i-a,i-c", "--batch-size", "2",
                               "echo hi" }))
    assert.equal(0, r.code, r.err)
    local doc = support.json(r.out)
    assert.same({ { "i-a", "i-b" }, { "i-c" } }, doc.batches)
    assert.equal("RunCommand", doc.action)
    assert.same({}, support.requests(emu))
  end)
end)
