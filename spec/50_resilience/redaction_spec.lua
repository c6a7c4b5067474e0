-- Observability without leaks: the whole client runs under a capturing
-- logger with a distinctive secret and token (through successes, retries,
-- service errors, a signature failure whose echo carries the token, network
-- failures, batches, temporary credentials); none of them appears in any
-- event, error or string. The emulator holds the pair as an STS pair, so
-- every call must really carry the token; a fake that canonicalizes
-- differently and the metadata/STS fake cover the rest.
local ecs = require "ecs"
local core = require "ecs.core"
local metadata_server = require "helpers.metadata_server"
local helper = require "helpers.emulator"

local ID, SECRET, TOKEN = "LTAIredact0001", "Zx9SecretValueQ", "Tk7Token/Value+W=="

-- every string reachable from v, keys included
local function dump(v, out, seen)
  out, seen = out or {}, seen or {}
  if type(v) == "table" then
    if seen[v] then return out end
    seen[v] = true
    out[#out + 1] = tostring(v)
    for k, x in pairs(v) do
      dump(k, out, seen)
      dump(x, out, seen)
    end
  else
    out[#out + 1] = tostring(v)
  end
  return out
end

local function forms(s)
  local once = core.percent_encode(s)
  return { s, once, core.percent_encode(once) }
end

local function assert_clean(text, secrets, what)
  for _, s in ipairs(secrets) do
    for _, f in ipairs(forms(s)) do
      assert.is_nil(text:find(f, 1, true), what .. " contains a secret (" .. f .. "): " .. text:sub(1, 300))
    end
  end
  assert.is_nil(text:find("Signature=", 1, true), what .. " contains a signature")
  assert.is_nil(text:find("Credential=", 1, true), what .. " contains an Authorization header")
end

describe("redaction", function()
  local fake, emu
  setup(function()
    local pair = { "--credentials", ID .. ":" .. SECRET .. ":" .. TOKEN }
    fake = metadata_server.start { args = pair }
    emu = helper.start { args = pair }
  end)
  teardown(function()
    fake:stop()
    emu:stop()
  end)
  before_each(function()
    fake:configure {}
    emu:admin("DELETE", "/_emulator/faults")
  end)

  for _, version in ipairs { "v2", "v3" } do
    it("keeps AccessKeySecret, SecurityToken, Signature and Authorization out of everything (" .. version .. ")",
      function()
        local events, strings = {}, {}
        local function keep(v) strings[#strings + 1] = table.concat(dump(v), "\n") end
        local function new_client(endpoint)
          return ecs.new { region = "cn-hangzhou", endpoint = endpoint, access_key_id = ID,
            access_key_secret = SECRET, security_token = TOKEN, signature_version = version,
            retry = { attempts = 3, base_delay = 0.001, max_delay = 0.002 },
            logger = function(ev) events[#events + 1] = ev end }
        end
        local c = new_client(emu.url)
        keep(tostring(c))
        -- success, then throttled retries
        local res, err = c:describe_instances {}
        assert.is_nil(err)
        keep(res)
        emu:admin("POST", "/_emulator/faults", { { kind = "throttle", first = 2, retry_after = 1 } })
        _, err = c:describe_instances {}
        assert.is_nil(err)
        -- a service error
        _, err = c:describe_invocation_results { InvokeId = "t-nonexistent" }
        keep(err); keep(tostring(err))
        -- exhausted retries
        emu:admin("POST", "/_emulator/faults", { { kind = "error503", first = 5 } })
        _, err = c:describe_instances {}
        assert.equals("ServiceUnavailable", err.code)
        keep(err); keep(tostring(err))
        emu:admin("DELETE", "/_emulator/faults")
        -- a batch
        local out = c:call_batch { { "DescribeInstances", {} }, { "DescribeCommands", { CommandId = "c-x" } } }
        keep(out)
        -- a signature failure whose echo carries the token (a server that canonicalizes differently)
        fake:configure { plus_quirk = true }
        local quirk = new_client(fake.url)
        keep(tostring(quirk))
        _, err = quirk:describe_instances { InstanceName = "a b" }
        if version == "v2" then
          assert.equals("SignatureDoesNotMatch", err.code)
          assert.equals("canonicalization", err.diagnosis.kind)
          assert.is_truthy(err.message:find("<redacted>", 1, true) or err.message:find("****", 1, true))
        end
        keep(err); keep(tostring(err))
        -- a wrong secret with a token: still diagnosed as the secret
        local wrong = ecs.new { region = "cn-hangzhou", endpoint = emu.url, access_key_id = ID,
          access_key_secret = "Wrong" .. SECRET, security_token = TOKEN, signature_version = version,
          logger = function(ev) events[#events + 1] = ev end }
        _, err = wrong:describe_instances {}
        assert.equals("SignatureDoesNotMatch", err.code)
        assert.equals("secret", err.diagnosis.kind)
        keep(err); keep(tostring(err))
        -- a network failure
        local dead = ecs.new { region = "cn-hangzhou", endpoint = "http://127.0.0.1:" .. helper.free_port(),
          access_key_id = ID, access_key_secret = SECRET, security_token = TOKEN, retry = false,
          logger = function(ev) events[#events + 1] = ev end }
        _, err = dead:describe_instances {}
        assert.matches("^Network%.", err.code)
        keep(err); keep(tostring(err)); keep(tostring(dead))
        keep(tostring(c.last_creds))
        keep(events)
        assert.is_true(#events >= 10)
        for i, s in ipairs(strings) do assert_clean(s, { SECRET, TOKEN }, "item " .. i) end
      end)
  end

  it("keeps temporary credentials from the metadata service and STS out of everything", function()
    local events, strings = {}, {}
    local c = ecs.new { region = "cn-hangzhou", endpoint = fake.url, signature_version = "v2",
      logger = function(ev) events[#events + 1] = ev end,
      credentials = { getenv = function() return nil end, home = "/nonexistent", metadata = { url = fake.url } } }
    local res, err = c:describe_instances {}
    assert.is_nil(err)
    strings[#strings + 1] = table.concat(dump(res), "\n")
    local creds = c.last_creds
    fake:configure { plus_quirk = true }
    res, err = c:describe_instances { InstanceName = "x y" }
    assert.is_nil(res)
    assert.equals("SignatureDoesNotMatch", err.code)
    strings[#strings + 1] = tostring(err)
    strings[#strings + 1] = table.concat(dump(err), "\n")
    strings[#strings + 1] = table.concat(dump(events), "\n")
    strings[#strings + 1] = tostring(creds) .. tostring(c)
    for i, s in ipairs(strings) do
      assert_clean(s, { creds.access_key_secret, creds.security_token }, "item " .. i)
    end
  end)
end)
