-- Clock skew corrected from the Date header against the emulator with its
-- clock run ahead or behind (--clock-offset, then the admin clock offset);
-- signature failures diagnosed as a wrong secret or a canonicalization
-- difference, naming where the first difference is.
local ecs = require "ecs"
local core = require "ecs.core"
local diagnose = require "ecs.diagnose"
local helper = require "helpers.emulator"
local metadata_server = require "helpers.metadata_server"

local function events_of(events, name)
  local out = {}
  for _, ev in ipairs(events) do if ev.event == name then out[#out + 1] = ev end end
  return out
end

describe("clock skew", function()
  local emu
  setup(function() emu = helper.start { args = { "--clock-offset", "3600" } } end)
  teardown(function() emu:stop() end)

  -- the emulator's clock runs `seconds` ahead of real time (negative: behind)
  local function set_skew(seconds)
    local clk, status = emu:admin("POST", "/_emulator/clock", { offset = seconds })
    assert.equals(200, status)
    assert.equals(seconds, clk.offset)
  end
  -- API requests the emulator saw (refused ones included)
  local function log() return emu:admin("GET", "/_emulator/requests").requests end
  local function clear_log() emu:admin("DELETE", "/_emulator/requests") end

  local function client(version, events)
    return ecs.new { region = "cn-hangzhou", endpoint = emu.url, access_key_id = "testid",
                     access_key_secret = "testsecret", signature_version = version,
                     logger = function(ev) events[#events + 1] = ev end }
  end

  for _, version in ipairs { "v2", "v3" } do
    it("computes the offset from Date, keeps it, and retries once (" .. version .. ")", function()
      set_skew(3600)
      clear_log()
      local events = {}
      local c = client(version, events)
      local res, err = c:describe_instances({}, { retry = false })
      assert.is_nil(err)
      assert.is_number(res.TotalCount)
      local skew = events_of(events, "clock_skew")
      assert.equals(1, #skew)
      assert.is_true(math.abs(skew[1].offset - 3600) <= 2, "offset " .. tostring(skew[1].offset))
      assert.equals(2, #log())
      -- the next call is signed with the corrected time at once
      assert.truthy(c:describe_instances {})
      assert.equals(3, #log())
      assert.equals(1, #events_of(events, "clock_skew"))
    end)
  end

  it("corrects a batch once and re-sends every call that was refused", function()
    set_skew(-2400)
    clear_log()
    local events = {}
    local c = client("v2", events)
    local calls = {}
    for i = 1, 6 do calls[i] = { "DescribeInstances", { PageSize = i } } end
    local out = c:call_batch(calls)
    for i = 1, 6 do
      assert.is_nil(out[i][2], tostring(out[i][2]))
      assert.is_number(out[i][1].TotalCount)
    end
    local skew = events_of(events, "clock_skew")
    assert.equals(1, #skew)
    assert.is_true(math.abs(skew[1].offset + 2400) <= 2)
    assert.equals(12, #log())
  end)

  it("leaves a clock within the service's window alone", function()
    set_skew(300)
    local events = {}
    assert.truthy(client("v2", events):describe_instances {})
    assert.equals(0, #events_of(events, "clock_skew"))
  end)
end)

describe("signature diagnosis", function()
  local emu
  setup(function() emu = helper.start {} end)
  teardown(function() emu:stop() end)

  for _, version in ipairs { "v2", "v3" } do
    it("says the secret is wrong when the strings match (" .. version .. ")", function()
      local events = {}
      local c = ecs.new { region = "cn-hangzhou", endpoint = emu.url, access_key_id = "testid",
                          access_key_secret = "NotTheSecret42", signature_version = version,
                          logger = function(ev) events[#events + 1] = ev end }
      local res, err = c:describe_instances {}
      assert.is_nil(res)
      assert.equals("SignatureDoesNotMatch", err.code)
      assert.equals("secret", err.diagnosis.kind)
      assert.matches("AccessKeySecret is wrong", err.message)
      assert.matches("AccessKeySecret is wrong", tostring(err))
      assert.not_matches("NotTheSecret42", tostring(err))
      assert.equals("secret", events_of(events, "diagnosis")[1].kind)
      assert.equals(1, err.attempts)
    end)
  end

  it("names the first difference when the server canonicalizes differently", function()
    local fake = metadata_server.start()
    finally(function() fake:stop() end)
    fake:configure { plus_quirk = true }
    local c = ecs.new { region = "cn-hangzhou", endpoint = fake.url, access_key_id = "testid",
                        access_key_secret = "testsecret", signature_version = "v2" }
    local _, err = c:describe_instances { InstanceName = "web 01" }
    assert.equals("SignatureDoesNotMatch", err.code)
    local d = err.diagnosis
    assert.equals("canonicalization", d.kind)
    -- ours encodes the space as %20 (then %2520 in the string to sign), the server as '+' (%2B)
    local server_sts = err.message:match("server string to sign is:(%S+)")
    assert.equals("%2B", server_sts:sub(d.offset - 2, d.offset))
    assert.matches("web%%2520", d.ours)
    assert.matches("web%%2B01", d.server)
    assert.matches("differs from the server's at byte " .. d.offset, err.message)
  end)

  it("compares V3 canonical requests line by line", function()
    local cl = core.new { endpoint = "http://127.0.0.1:9", region = "cn-hangzhou", access_key_id = "testid",
                          access_key_secret = "testsecret" }
    local function prepare(o) return cl:prepare("DescribeInstances", { PageSize = 5 }, o) end
    local req = prepare { nonce = "n-1", timestamp = 1700000000 }
    local cr = core.v3_canonical_request(req.method, "/", {}, req.headers, req.headers["x-acs-content-sha256"])
    local function message(server_cr)
      return "Specified signature is not matched with our calculation. server canonical request is:\n"
        .. server_cr .. "\nserver string to sign is:" .. core.v3_string_to_sign(server_cr)
    end
    local same = diagnose.diagnose({ message = message(cr) }, prepare, {}, "v3")
    assert.equals("secret", same.kind)
    local other = cr:gsub("x%-acs%-version:2014%-05%-26", "x-acs-version:2014-05-27")
    local d = diagnose.diagnose({ message = message(other) }, prepare, {}, "v3")
    assert.equals("canonicalization", d.kind)
    assert.equals(cr:find("2014-05-26", 1, true) + 9, d.offset)
    local line = select(2, cr:sub(1, d.offset):gsub("\n", "")) + 1
    assert.equals(line, d.line)
    assert.matches("%(line " .. line .. "%)", d.text)
    -- an echo without nonce and time cannot be compared
    local none = diagnose.diagnose({ message = "not matched. server string to sign is:ACS3-HMAC-SHA256\nabc" },
                                   prepare, {}, "v3")
    assert.equals("unknown", none.kind)
    cl:close()
  end)

  it("finds the first differing byte", function()
    assert.is_nil(diagnose.first_difference("abc", "abc"))
    assert.equals(1, diagnose.first_difference("xbc", "abc"))
    assert.equals(3, diagnose.first_difference("ab", "abc"))
  end)
end)
