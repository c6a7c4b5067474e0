-- No secret (AccessKeySecret, SecurityToken, Signature, Authorization) in
-- tostring(client), errors or log events.
local ecs = require "ecs"
local core = require "ecs.core"
local helper = require "helpers.emulator"

local SECRET, TOKEN = "S3cretValue0123456789", "T0kenValue/+=&9876543210"
local AKID = "LTAI5tSecretPrefixID"

-- every string reachable from v, for searching
local function strings(v, out, seen)
  out, seen = out or {}, seen or {}
  if type(v) == "table" then
    if seen[v] then return out end
    seen[v] = true
    for k, x in pairs(v) do
      strings(k, out, seen)
      strings(x, out, seen)
    end
    if getmetatable(v) and getmetatable(v).__tostring then out[#out + 1] = tostring(v) end
  elseif v ~= nil then
    out[#out + 1] = tostring(v)
  end
  return out
end

local function assert_clean(v, what)
  local text = table.concat(strings(v), "\n")
  for _, secret in ipairs { SECRET, TOKEN, core.percent_encode(TOKEN), core.percent_encode(SECRET) } do
    assert.is_nil(text:find(secret, 1, true), what .. " contains a secret: " .. text)
  end
  assert.is_nil(text:find("Signature=", 1, true), what .. " contains a signature: " .. text)
  assert.is_nil(text:lower():find("authorization", 1, true), what .. " contains an Authorization header: " .. text)
end

local function client(extra)
  local cfg = { region = "cn-hangzhou", access_key_id = AKID, access_key_secret = SECRET, security_token = TOKEN,
                endpoint = "http://127.0.0.1:" .. helper.free_port(), retry = { attempts = 2 },
                sleep = function() end }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return ecs.new(cfg)
end

describe("secrets", function()
  it("tostring(client) names region, endpoint and signature version, and nothing secret", function()
    for _, v in ipairs { "v3", "v2" } do
      local c = client { signature_version = v }
      local s = tostring(c)
      assert.matches("cn%-hangzhou", s)
      assert.is_truthy(s:find(c.url, 1, true))
      assert.is_truthy(s:find(v, 1, true))
      assert_clean(s, "tostring(client)")
      assert.is_nil(s:find(AKID, 1, true))
    end
  end)

  it("tostring of the C client shows only the first four characters of the AccessKey ID", function()
    local cl = core.new { endpoint = "http://127.0.0.1:1", region = "cn-hangzhou", access_key_id = AKID,
                          access_key_secret = SECRET, security_token = TOKEN }
    local s = tostring(cl)
    assert.is_truthy(s:find("LTAI****", 1, true), s)
    assert.is_nil(s:find(AKID, 1, true))
    assert_clean(s, "tostring(core client)")
    cl:close()
  end)

  it("a failed call's error and every log event are free of secrets", function()
    local events = {}
    for _, v in ipairs { "v3", "v2" } do
      local c = client { signature_version = v, logger = function(ev) events[#events + 1] = ev end }
      local res, err = c:invoke_command { CommandId = "c-1", InstanceId = { "i-1" } }
      assert.is_nil(res)
      assert.are.equal("Network.ConnectFailed", err.code)
      assert_clean(err, "error")
      assert_clean(tostring(err), "tostring(error)")
    end
    assert.is_true(#events >= 4)
    assert_clean(events, "log events")
  end)

  it("a local validation error is free of secrets", function()
    local _, err = client():invoke_command { CommandId = "c", InstanceId = { "i-1" }, Timeout = 1 }
    assert.are.equal("InvalidParameter.Timeout", err.code)
    assert_clean(err, "error")
  end)

  it("errors raised for bad arguments are free of secrets", function()
    local c = client()
    local ok, err = pcall(c.invoke_command, c, { CommandId = print }, { validate = false })
    assert.is_false(ok)
    assert_clean(err, "raised error")
  end)
end)
