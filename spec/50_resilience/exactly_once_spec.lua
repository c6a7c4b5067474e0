-- Exactly-once invocation under injected faults: the emulator drops the
-- connection after running InvokeCommand and throttles at random; every
-- logical call keeps one ClientToken across its retries, so N calls create
-- exactly N invocations and each returns its InvokeId.
local helper = require "helpers.emulator"
local ecs = require "ecs"
local core = require "ecs.core"

local N = 100
local FAULTS = {
  { kind = "drop_after", action = "InvokeCommand", probability = 0.35 },
  { kind = "throttle", action = "InvokeCommand", probability = 0.25, retry_after = 3 },
  { kind = "error503", action = "InvokeCommand", probability = 0.05 },
}

local function invocations_of(emu, command_id)
  local state = emu:admin("GET", "/_emulator/state")
  local ids = {}
  for _, inv in ipairs(state.invocations) do
    if inv.CommandId == command_id then ids[#ids + 1] = inv.InvokeId end
  end
  return ids, state.counters
end

local function new_client(emu, version, events)
  return ecs.new {
    region = "cn-hangzhou", endpoint = emu.url, access_key_id = "testid", access_key_secret = "testsecret",
    signature_version = version,
    retry = { attempts = 15, base_delay = 0.001, max_delay = 0.01, max_time = 60 },
    logger = function(ev) events[#events + 1] = ev end,
  }
end

local function count(events, name, code)
  local n = 0
  for _, ev in ipairs(events) do
    if ev.event == name and (code == nil or ev.code == code) then n = n + 1 end
  end
  return n
end

for _, version in ipairs { "v3", "v2" } do
  describe("exactly-once InvokeCommand (" .. version .. ")", function()
    local emu, command_id

    before_each(function()
      emu = helper.start { args = { "--seed", "11", "--quota", "100000" } }
      local setup = ecs.new { region = "cn-hangzhou", endpoint = emu.url, access_key_id = "testid",
                              access_key_secret = "testsecret", signature_version = version }
      local res, err = setup:create_command { Name = "eo", Type = "RunShellScript", CommandContent = "echo hi" }
      assert.is_nil(err)
      command_id = res.CommandId
      local _, status = emu:admin("POST", "/_emulator/faults", FAULTS)
      assert.equals(200, status)
    end)

    after_each(function() emu:stop() end)

    it("N sequential calls create exactly N invocations, each call returning its InvokeId", function()
      local events = {}
      local client = new_client(emu, version, events)
      local seen = {}
      for i = 1, N do
        local res, err = client:invoke_command { CommandId = command_id, InstanceId = { "i-bp1emuweb01" } }
        assert.is_nil(err, "call " .. i .. ": " .. tostring(err))
        assert.is_string(res.InvokeId)
        assert.is_nil(seen[res.InvokeId], "InvokeId returned twice: " .. res.InvokeId)
        seen[res.InvokeId] = true
      end
      local created, counters = invocations_of(emu, command_id)
      local dropped = counters.faults.drop_after or 0
      local throttled = counters.faults.throttle or 0
      print(("\nexactly-once (%s, sequential): %d calls, %d HTTP attempts, %d dropped after running, "
        .. "%d throttled, %d 503 -> %d invocations created"):format(version, N, counters.calls.InvokeCommand,
        dropped, throttled, counters.faults.error503 or 0, #created))
      assert.is_true(dropped >= 5, "too few drop_after faults fired to mean anything: " .. dropped)
      assert.is_true(throttled >= 3, "too few throttles fired: " .. throttled)
      assert.equals(N, #created)
      assert.equals(N, counters.invocations)
      for _, id in ipairs(created) do assert.is_true(seen[id], "invocation not returned to any caller: " .. id) end
      assert.equals(counters.calls.InvokeCommand - N, count(events, "retry"))
    end)

    it("a concurrent batch of N calls creates exactly N invocations", function()
      local events = {}
      local client = new_client(emu, version, events)
      local calls = {}
      for i = 1, N do
        calls[i] = { "InvokeCommand", { CommandId = command_id, InstanceId = { "i-bp1emuweb02" } } }
      end
      local out = client:call_batch(calls, { concurrency = 8 })
      local seen = {}
      for i = 1, N do
        assert.is_nil(out[i][2], "call " .. i .. ": " .. tostring(out[i][2]))
        local id = out[i][1].InvokeId
        assert.is_string(id)
        assert.is_nil(seen[id], "InvokeId returned twice: " .. id)
        seen[id] = true
      end
      local created, counters = invocations_of(emu, command_id)
      print(("\nexactly-once (%s, batch of %d, concurrency 8): %d HTTP attempts, %d dropped after running, "
        .. "%d throttled -> %d invocations created"):format(version, N, counters.calls.InvokeCommand,
        counters.faults.drop_after or 0, counters.faults.throttle or 0, #created))
      assert.is_true((counters.faults.drop_after or 0) >= 5)
      assert.equals(N, #created)
    end)

    it("control: a fresh ClientToken on every retry creates duplicates under the same faults", function()
      local cl = core.new { endpoint = emu.url, region = "cn-hangzhou", access_key_id = "testid",
                            access_key_secret = "testsecret", signature_version = version }
      for _ = 1, N do
        for _ = 1, 15 do
          local res = cl:call("InvokeCommand", { CommandId = command_id, InstanceId = { "i-bp1emuweb03" },
                                                  ClientToken = core.random_hex(16) })
          if res then break end
        end
      end
      cl:close()
      local created, counters = invocations_of(emu, command_id)
      print(("\ncontrol (%s): %d calls retried with a new token per attempt -> %d invocations created "
        .. "(%d dropped after running)"):format(version, N, #created, counters.faults.drop_after or 0))
      assert.is_true(#created > N)
    end)
  end)
end
