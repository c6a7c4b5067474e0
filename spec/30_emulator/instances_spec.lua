-- The fleet: built-in fleet, JSON fleet files, generated fleets,
-- DescribeInstances filters and paging, DescribeCloudAssistantStatus.
local H = require "30_emulator.emu_helper"
local emulator = require "ecs.emulator"

local R = "cn-hangzhou"

local function ids_of(body)
  local out = {}
  for _, i in ipairs(body.Instances.Instance) do out[#out + 1] = i.InstanceId end
  return out
end

describe("emulator fleet", function()
  it("has a varied built-in fleet over two regions", function()
    local svc, clock = H.new()
    local hz = H.ok(svc, clock, "DescribeInstances", { RegionId = R, MaxResults = 100 })
    local sh = H.ok(svc, clock, "DescribeInstances", { RegionId = "cn-shanghai", MaxResults = 100 })
    assert.are.equal(20, hz.TotalCount + sh.TotalCount)
    local seen = {}
    for _, body in ipairs { hz, sh } do
      for _, i in ipairs(body.Instances.Instance) do
        seen[i.Status] = true
        seen[i.OSType] = true
        seen[i.InstanceNetworkType] = true
      end
    end
    for _, want in ipairs { "Running", "Stopped", "Pending", "Starting", "Stopping", "linux", "windows", "vpc",
      "classic" } do
      assert.is_true(seen[want] == true, "missing " .. want)
    end
    local web = hz.Instances.Instance[1]
    assert.are.equal("i-bp1emuweb01", web.InstanceId)
    assert.are.equal("vpc-emu-cn-hangzhou", web.VpcAttributes.VpcId)
    assert.are.equal("rg-prod", web.ResourceGroupId)
    assert.are.same({ { TagKey = "app", TagValue = "web" }, { TagKey = "env", TagValue = "prod" } }, web.Tags.Tag)
  end)

  describe("DescribeInstances filters", function()
    local svc, clock
    before_each(function() svc, clock = H.new() end)
    local function find(p)
      p.RegionId = p.RegionId or R
      p.MaxResults = p.MaxResults or 100
      return ids_of(H.ok(svc, clock, "DescribeInstances", p))
    end

    it("by InstanceIds JSON array", function()
      assert.are.same({ "i-bp1emuweb01", "i-bp1emudb02" },
        find { InstanceIds = '["i-bp1emudb02","i-bp1emuweb01","i-nope"]' })
      assert.are.equal("InvalidParameter.InstanceIds",
        (H.err(svc, clock, "DescribeInstances", { RegionId = R, InstanceIds = "i-bp1emuweb01" })))
    end)
    it("by Status, network, VPC and resource group", function()
      assert.are.same({ "i-bp1emudb02" }, find { Status = "Stopped" })
      assert.are.same({ "i-bp1emubatch01" }, find { InstanceNetworkType = "classic" })
      assert.are.equal(11, #find { VpcId = "vpc-emu-cn-hangzhou" })
      assert.are.same({ "i-bp1emuweb01", "i-bp1emuweb02", "i-bp1emudb01", "i-bp1emudb02" },
        find { ResourceGroupId = "rg-prod" })
      assert.are.equal("InvalidStatus.ValueNotSupported",
        (H.err(svc, clock, "DescribeInstances", { RegionId = R, Status = "Sleeping" })))
    end)
    it("by Tag.N (all must match; a key alone matches any value)", function()
      assert.are.same({ "i-bp1emuweb01", "i-bp1emuweb02" },
        find { ["Tag.1.Key"] = "app", ["Tag.1.Value"] = "web", ["Tag.2.Key"] = "env", ["Tag.2.Value"] = "prod" })
      assert.are.equal(11, #find { ["Tag.1.Key"] = "app" })
    end)
    it("by InstanceName with * wildcards", function()
      assert.are.same({ "i-bp1emuweb01", "i-bp1emuweb02", "i-bp1emuweb03" }, find { InstanceName = "web-*" })
      assert.are.same({ "i-bp1emudb01" }, find { InstanceName = "d*-01" })
    end)
    it("answers DryRun with DryRunOperation", function()
      assert.are.equal("DryRunOperation", (H.err(svc, clock, "DescribeInstances", { RegionId = R, DryRun = "true" })))
    end)
  end)

  describe("paging on a generated fleet of 1,005 instances", function()
    local svc, clock
    setup(function()
      svc, clock = H.new { fleet = emulator.generate_fleet { count = 1005, regions = { R }, seed = 3 } }
    end)

    it("walks every instance once with NextToken, last page included", function()
      local seen, n, token, pages = {}, 0, nil, 0
      repeat
        local b = H.ok(svc, clock, "DescribeInstances", { RegionId = R, MaxResults = 100, NextToken = token })
        pages = pages + 1
        for _, id in ipairs(ids_of(b)) do
          assert.is_nil(seen[id])
          seen[id] = true
          n = n + 1
        end
        token = b.NextToken
      until token == ""
      assert.are.equal(1005, n)
      assert.are.equal(11, pages)
      assert.is_true(seen["i-emu0001005"])
    end)

    it("reaches the last page with PageNumber/PageSize", function()
      local n = 0
      for page = 1, 11 do
        local b = H.ok(svc, clock, "DescribeInstances", { RegionId = R, PageNumber = page, PageSize = 100 })
        assert.are.equal(1005, b.TotalCount)
        assert.are.equal(page, b.PageNumber)
        n = n + #b.Instances.Instance
        if page == 11 then
          assert.are.equal(5, #b.Instances.Instance)
          assert.are.equal("i-emu0001005", b.Instances.Instance[5].InstanceId)
        end
      end
      assert.are.equal(1005, n)
      local beyond = H.ok(svc, clock, "DescribeInstances", { RegionId = R, PageNumber = 12, PageSize = 100 })
      assert.are.equal(0, #beyond.Instances.Instance)
    end)

    it("clamps MaxResults and PageSize as the service does", function()
      assert.are.equal(10, #H.ok(svc, clock, "DescribeInstances", { RegionId = R, MaxResults = 3 }).Instances.Instance)
      assert.are.equal(100, #H.ok(svc, clock, "DescribeInstances", { RegionId = R, MaxResults = 500 })
        .Instances.Instance)
      assert.are.equal(10, #H.ok(svc, clock, "DescribeInstances", { RegionId = R }).Instances.Instance)
      assert.are.equal(100, #H.ok(svc, clock, "DescribeInstances", { RegionId = R, PageSize = 1000 })
        .Instances.Instance)
      assert.are.equal("InvalidParameter.NextToken",
        (H.err(svc, clock, "DescribeInstances", { RegionId = R, NextToken = "garbage" })))
    end)

    it("pages DescribeCloudAssistantStatus the same way", function()
      local n, token = 0, nil
      repeat
        local b = H.ok(svc, clock, "DescribeCloudAssistantStatus", { RegionId = R, MaxResults = 50, NextToken = token })
        n = n + #b.InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus
        token = b.NextToken
      until token == ""
      assert.are.equal(1005, n)
    end)
  end)

  describe("DescribeCloudAssistantStatus", function()
    it("reports agent state, version and task counts", function()
      local svc, clock = H.new()
      local cmd = H.plain_command(svc, clock, "sleep 20")
      H.ok(svc, clock, "InvokeCommand", { RegionId = R, CommandId = cmd, ["InstanceId.1"] = "i-bp1emuweb01" })
      local b = H.ok(svc, clock, "DescribeCloudAssistantStatus", { RegionId = R, ["InstanceId.1"] = "i-bp1emuweb01",
        ["InstanceId.2"] = "i-bp1emuwin02", ["InstanceId.3"] = "i-bp1emubare01", ["InstanceId.4"] = "i-bp1emudb02" })
      local by = {}
      for _, s in ipairs(b.InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus) do by[s.InstanceId] = s end
      assert.are.equal("true", by["i-bp1emuweb01"].CloudAssistantStatus)
      assert.are.equal("2.2.3.512", by["i-bp1emuweb01"].CloudAssistantVersion)
      assert.are.equal(1, by["i-bp1emuweb01"].ActiveTaskCount)
      assert.are.equal(1, by["i-bp1emuweb01"].InvocationCount)
      assert.are.equal("Linux", by["i-bp1emuweb01"].OSType)
      assert.are.equal("false", by["i-bp1emuwin02"].CloudAssistantStatus)
      assert.are.equal("Windows", by["i-bp1emuwin02"].OSType)
      assert.are.equal("", by["i-bp1emubare01"].CloudAssistantVersion)
      assert.are.equal("false", by["i-bp1emudb02"].CloudAssistantStatus)
      clock.t = clock.t + 60
      b = H.ok(svc, clock, "DescribeCloudAssistantStatus", { RegionId = R, ["InstanceId.1"] = "i-bp1emuweb01" })
      assert.are.equal(0, b.InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus[1].ActiveTaskCount)
      b = H.ok(svc, clock, "DescribeCloudAssistantStatus", { RegionId = R, OSType = "Windows" })
      assert.are.equal(2, b.TotalCount)
    end)
  end)

  describe("fleet documents", function()
    it("loads a fleet from a JSON file, filling defaults", function()
      local path = os.tmpname()
      local f = assert(io.open(path, "w"))
      f:write('{"instances":[{"InstanceId":"i-a","RegionId":"eu-central-1","OSType":"Windows",'
        .. '"Tags":[{"Key":"role","Value":"gs"}]},{"InstanceId":"i-b","RegionId":"eu-central-1",'
        .. '"Status":"Stopped","AgentVersion":""}]}')
      f:close()
      local svc, clock = H.new { fleet = path }
      os.remove(path)
      local b = H.ok(svc, clock, "DescribeInstances", { RegionId = "eu-central-1" })
      assert.are.same({ "i-a", "i-b" }, ids_of(b))
      assert.are.equal("windows", b.Instances.Instance[1].OSType)
      assert.are.equal("Running", b.Instances.Instance[1].Status)
      assert.are.equal("gs", b.Instances.Instance[1].Tags.Tag[1].TagValue)
      local s = H.ok(svc, clock, "DescribeCloudAssistantStatus", { RegionId = "eu-central-1",
        ["InstanceId.1"] = "i-b" })
      assert.are.equal("false", s.InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus[1].CloudAssistantStatus)
    end)

    it("refuses bad fleet documents naming the problem", function()
      local function bad(doc, pattern)
        local ok, err = pcall(emulator.new, { verify_signatures = false, fleet = doc })
        assert.is_false(ok)
        assert.truthy(tostring(err):find(pattern, 1, true), tostring(err))
      end
      bad({ instances = { { RegionId = "x" } } }, "instance 1: missing InstanceId")
      bad({ instances = { { InstanceId = "i-1" } } }, "instance 1: missing RegionId")
      bad({ { InstanceId = "i-1", RegionId = "r", Status = "Asleep" } }, "Status must be")
      bad({ { InstanceId = "i-1", RegionId = "r" }, { InstanceId = "i-1", RegionId = "r" } }, "duplicate InstanceId")
      bad({ { InstanceId = "i-1", RegionId = "r", Colour = "red" } }, "unknown field 'Colour'")
      bad({ { InstanceId = "i-1", RegionId = "r", AgentOnline = "yes" } }, "field 'AgentOnline' must be a boolean")
    end)

    it("generates the same fleet for the same seed", function()
      local a = emulator.generate_fleet { count = 50, seed = 9 }
      local b = emulator.generate_fleet { count = 50, seed = 9 }
      local c = emulator.generate_fleet { count = 50, seed = 10 }
      assert.are.same(a, b)
      assert.are_not.same(a, c)
      assert.are.equal(50, #a.instances)
      assert.are.equal("cn-shanghai", a.instances[2].RegionId)
      assert.has_error(function() emulator.generate_fleet { count = -1 } end)
    end)
  end)
end)
