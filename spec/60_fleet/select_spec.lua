-- client:select_instances against the emulator: targets, paging, every skip reason.
local support = require "60_fleet.support"

local function ids_of(list)
  local out = {}
  for i, s in ipairs(list) do out[i] = s.InstanceId or s end
  table.sort(out)
  return out
end

local function reasons(sel)
  local out = {}
  for _, s in ipairs(sel.skipped) do
    out[s.InstanceId] = s.reason
    assert.is_string(s.message)
    assert.is_true(#s.message > 10)
  end
  return out
end

describe("select_instances", function()
  local emu, client
  support.serve(function(e, c) emu, client = e, c end)
  before_each(function() support.default_fleet(emu) end)

  it("gives each skip reason on the built-in fleet", function()
    local sel = assert(client:select_instances { targets = { all = true }, command_type = "RunShellScript",
                                                 Frequency = "rate(10m)" })
    assert.same({ "i-bp1emucache01", "i-bp1emuweb01", "i-bp1emuweb02", "i-bp1emuweb03" }, ids_of(sel.eligible))
    assert.same({
      ["i-bp1emudb02"] = "not_running", ["i-bp1emubatch02"] = "not_running", ["i-bp1emubuild01"] = "not_running",
      ["i-bp1emubatch01"] = "classic_network",
      ["i-bp1emuwin01"] = "os_mismatch", ["i-bp1emuwin02"] = "os_mismatch",
      ["i-bp1emudb01"] = "agent_too_old",
      ["i-bp1emubare01"] = "agent_not_installed",
    }, reasons(sel))
    assert.equal(12, #sel.eligible + #sel.skipped)
  end)

  it("skips an offline agent, an unknown ID, and keeps the given order", function()
    local sel = assert(client:select_instances { targets = { InstanceId = {
      "i-bp1emuweb02", "i-bp1emuwin02", "i-doesnotexist", "i-bp1emuwin01", "i-bp1emuweb01", "i-bp1emuweb02" } } })
    assert.same({ "i-bp1emuweb02", "i-bp1emuwin01", "i-bp1emuweb01" }, sel.eligible)
    assert.same({ ["i-doesnotexist"] = "not_found", ["i-bp1emuwin02"] = "agent_offline" }, reasons(sel))
  end)

  it("drops the VPC check on request and the agent check for old agents without schedules", function()
    local sel = assert(client:select_instances { targets = { tags = { env = "dev" } }, check_vpc = false })
    assert.same({ "i-bp1emubatch01" }, sel.eligible)
    assert.same({ ["i-bp1emubare01"] = "agent_not_installed", ["i-bp1emubatch02"] = "not_running",
                  ["i-bp1emubuild01"] = "not_running" }, reasons(sel))
    sel = assert(client:select_instances { targets = { InstanceId = { "i-bp1emudb01" } } })
    assert.same({ "i-bp1emudb01" }, sel.eligible)
  end)

  it("skips Windows for containers and old agents for them", function()
    support.set_instance(emu, "i-bp1emuweb02", { AgentVersion = "2.2.3.300" })
    local sel = assert(client:select_instances { targets = { tags = { env = "prod" } }, ContainerName = "app" })
    local r = reasons(sel)
    assert.equal("os_mismatch", r["i-bp1emuwin01"])
    assert.equal("agent_too_old", r["i-bp1emuweb02"])
    assert.equal("agent_too_old", r["i-bp1emudb01"])
    assert.same({ "i-bp1emucache01", "i-bp1emuweb01" }, ids_of(sel.eligible))
  end)

  it("narrows by name pattern, status, VPC, resource group and a predicate", function()
    local sel = assert(client:select_instances { targets = { name = "web-*" } })
    assert.same({ "i-bp1emuweb01", "i-bp1emuweb02", "i-bp1emuweb03" }, ids_of(sel.eligible))
    sel = assert(client:select_instances { targets = { resource_group_id = "rg-prod", status = "Running" } })
    assert.same({ "i-bp1emudb01", "i-bp1emuweb01", "i-bp1emuweb02" }, ids_of(sel.eligible))
    assert.same({}, sel.skipped)
    sel = assert(client:select_instances { targets = { vpc_id = "vpc-emu-cn-hangzhou",
      filter = function(inst) return inst.ZoneId == "cn-hangzhou-i" end } })
    assert.same({ "i-bp1emucache01", "i-bp1emuweb03" }, ids_of(sel.eligible))
    assert.same({ "i-bp1emubare01", "i-bp1emudb02", "i-bp1emuwin02" }, ids_of(sel.skipped))
    assert.is_true(#sel.filtered > 0)
    sel = assert(client:select_instances { region = "cn-shanghai", targets = { tags = { app = "game" } } })
    assert.same({ "i-uf6emugame01", "i-uf6emugame02" }, ids_of(sel.eligible))
    assert.same({ ["i-uf6emugame03"] = "not_running" }, reasons(sel))
  end)

  it("reads every page of a 1,200-instance fleet, the last one too", function()
    support.fleet(emu, { count = 1203, regions = { "cn-hangzhou" }, seed = 7 })
    local before = support.counters(emu)
    local sel = assert(client:select_instances { targets = { all = true }, command_type = "RunShellScript" })
    local after = support.counters(emu)
    local all = support.instances(emu)
    assert.equal(1203, #all)
    assert.equal(1203, #sel.eligible + #sel.skipped)
    local expect_eligible, candidates = {}, 0
    for _, inst in ipairs(all) do
      if inst.Status == "Running" and inst.OSType == "linux" then
        candidates = candidates + 1
        if inst.AgentOnline then expect_eligible[#expect_eligible + 1] = inst.InstanceId end
      end
    end
    table.sort(expect_eligible)
    assert.same(expect_eligible, ids_of(sel.eligible))
    assert.truthy(#sel.eligible > 900)
    -- the last instance comes from the 13th page
    assert.truthy(sel.instances["i-emu0001203"])
    assert.equal(13, support.delta(before, after, "DescribeInstances"))
    assert.equal(13, sel.pages)
    assert.equal(support.ceil_div(candidates, 50), support.delta(before, after, "DescribeCloudAssistantStatus"))
    for _, e in ipairs(support.requests(emu, "DescribeCloudAssistantStatus")) do
      assert.truthy(#support.instance_ids(e) <= 50)
    end
  end)

  it("looks up long ID lists 100 at a time as a JSON array", function()
    support.fleet(emu, { count = 250, regions = { "cn-hangzhou" }, seed = 3 })
    support.clear_requests(emu)
    local ids = {}
    for i = 1, 250 do ids[i] = ("i-emu%07d"):format(i) end
    ids[251] = "i-emu9999999"
    local sel = assert(client:select_instances { targets = { InstanceId = ids } })
    assert.equal(251, #sel.eligible + #sel.skipped)
    assert.same({ ["i-emu9999999"] = "not_found" }, (function()
      local r = {}
      for _, s in ipairs(sel.skipped) do if s.reason == "not_found" then r[s.InstanceId] = s.reason end end
      return r
    end)())
    local calls = support.requests(emu, "DescribeInstances")
    assert.equal(3, #calls)
    local n = 0
    for _, e in ipairs(calls) do
      local list = require("cjson").decode(e.params.InstanceIds)
      assert.truthy(#list <= 100)
      n = n + #list
    end
    assert.equal(251, n)
  end)

  it("returns service errors and raises on bad input", function()
    local sel, err = client:select_instances { region = "xx-nowhere-9", targets = { all = true } }
    assert.is_nil(sel)
    assert.is_table(err)
    assert.has_error(function() client:select_instances {} end, "ecs: select_instances: missing option 'targets'")
    assert.has_error(function() client:select_instances { targets = {} } end)
    assert.has_error(function() client:select_instances { targets = { tag = { a = "b" } } } end)
    assert.has_error(function() client:select_instances { targets = { InstanceId = {} } } end)
    assert.has_error(function() client:select_instances { targets = { status = "Up" } } end)
    assert.has_error(function() client:select_instances { targets = { all = true }, command_type = "Bash" } end)
    assert.has_error(function() client:select_instances { targets = { all = true }, Bogus = 1 } end)
    assert.has_error(function() client:select_instances { targets = { all = true }, colour = 1 } end)
    local ok, e = pcall(client.select_instances, client, { targets = { filter = 3 } })
    assert.is_false(ok)
    assert.matches("'filter' must be a function", e)
  end)
end)
