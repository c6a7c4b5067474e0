-- The credentials chain, source by source, with temporary files (HOME and
-- paths injected), an injected environment and a loopback fake of the ECS
-- metadata service and STS. Nothing here reaches 100.100.100.200.
local ecs = require "ecs"
local helper = require "helpers.emulator"
local metadata_server = require "helpers.metadata_server"
local credentials = require "ecs.credentials"

local fake, dir

local function write(path, text)
  os.execute("mkdir -p " .. helper.shell_quote(path:match("^(.*)/[^/]*$")))
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- a client whose chain sees only `env`, HOME = dir and the fake metadata service
local function client(env, copts, cfg)
  local c = { getenv = function(k) return env[k] end, home = dir, metadata = { url = fake.url },
              sts_endpoint = fake.url }
  for k, v in pairs(copts or {}) do c[k] = v end
  local events = {}
  local o = { region = "cn-hangzhou", endpoint = fake.url, credentials = c, signature_version = "v2",
              logger = function(ev) events[#events + 1] = ev end }
  for k, v in pairs(cfg or {}) do o[k] = v end
  return ecs.new(o), events
end

local function creds(env, copts, cfg)
  local c = client(env, copts, cfg)
  return c.credentials.get()
end

local function paths(log)
  local out = {}
  for i, e in ipairs(log) do out[i] = e.method .. " " .. e.path end
  return out
end

setup(function()
  fake = metadata_server.start()
end)

teardown(function()
  fake:stop()
end)

before_each(function()
  dir = helper.tmpdir()
  fake:configure {}
  fake:clear_log()
end)

after_each(function()
  helper.rmdir(dir)
end)

describe("credentials chain", function()
  it("explicit configuration comes first", function()
    local c = creds({ ALIBABA_CLOUD_ACCESS_KEY_ID = "envid", ALIBABA_CLOUD_ACCESS_KEY_SECRET = "envsecret" }, nil,
                    { access_key_id = "cfgid", access_key_secret = "cfgsecret", security_token = "cfgtoken" })
    assert.same({ "cfgid", "cfgsecret", "cfgtoken", "config" },
                { c.access_key_id, c.access_key_secret, c.security_token, c.source })
  end)

  it("then the environment (with an optional STS token)", function()
    write(dir .. "/.alibabacloud/credentials", "[default]\naccess_key_id = fileid\naccess_key_secret = filesecret\n")
    local c = creds { ALIBABA_CLOUD_ACCESS_KEY_ID = "envid", ALIBABA_CLOUD_ACCESS_KEY_SECRET = "envsecret",
                      ALIBABA_CLOUD_SECURITY_TOKEN = "envtoken" }
    assert.same({ "envid", "envsecret", "envtoken", "environment" },
                { c.access_key_id, c.access_key_secret, c.security_token, c.source })
    local half = creds { ALIBABA_CLOUD_ACCESS_KEY_ID = "envid" }
    assert.equals("fileid", half.access_key_id)
  end)

  it("then the shared credentials file: default profile, ALIBABA_CLOUD_PROFILE, comments", function()
    write(dir .. "/.alibabacloud/credentials", table.concat({
      "# comment", "[default]", "enable = true", "type = access_key",
      "access_key_id = defid   # trailing comment", "access_key_secret = defsecret", "",
      "[other]", "access_key_id = otherid", "access_key_secret = othersecret" }, "\n"))
    local c = creds {}
    assert.same({ "defid", "defsecret", "profile default" }, { c.access_key_id, c.access_key_secret, c.source })
    c = creds { ALIBABA_CLOUD_PROFILE = "other" }
    assert.equals("otherid", c.access_key_id)
    c = creds({}, { profile = "other" })
    assert.equals("otherid", c.access_key_id)
  end)

  it("reads the file named by ALIBABA_CLOUD_CREDENTIALS_FILE or the credentials_file option", function()
    write(dir .. "/elsewhere.ini", "[default]\naccess_key_id = altid\naccess_key_secret = altsecret\n")
    assert.equals("altid", creds({ ALIBABA_CLOUD_CREDENTIALS_FILE = dir .. "/elsewhere.ini" }).access_key_id)
    assert.equals("altid", creds({}, { credentials_file = dir .. "/elsewhere.ini" }).access_key_id)
  end)

  it("profile type ram_role_arn goes through STS AssumeRole, signed with V2", function()
    write(dir .. "/.alibabacloud/credentials", table.concat({
      "[default]", "type = ram_role_arn", "access_key_id = testid", "access_key_secret = testsecret",
      "role_arn = acs:ram::123456:role/ops", "role_session_name = nightly" }, "\n"))
    local c = creds {}
    assert.matches("^STS%.role%d+$", c.access_key_id)
    assert.matches("^roletoken%-", c.security_token)
    assert.is_number(c.expiration)
    local log = fake:log()
    assert.equals(1, #log)
    assert.same({ "AssumeRole", "acs:ram::123456:role/ops", "nightly", "3600", "testid", "2015-04-01" },
      { log[1].action, log[1].role_arn, log[1].session, log[1].duration, log[1].access_key_id, log[1].version })
  end)

  it("reports an AssumeRole refused by STS without the secret", function()
    write(dir .. "/.alibabacloud/credentials", table.concat({
      "[default]", "type = ram_role_arn", "access_key_id = testid", "access_key_secret = WrongSecret123",
      "role_arn = acs:ram::1:role/x" }, "\n"))
    local c, e = creds { ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true" }
    assert.is_nil(c)
    assert.matches("SignatureDoesNotMatch", e.message)
    assert.not_matches("WrongSecret123", e.message)
  end)

  it("profile type ecs_ram_role reads the metadata service with the given role", function()
    fake:configure { role = "MyRole" }
    write(dir .. "/.alibabacloud/credentials", "[default]\ntype = ecs_ram_role\nrole_name = MyRole\n")
    local c = creds {}
    assert.matches("^STS%.meta", c.access_key_id)
    assert.same({ "PUT /latest/api/token", "GET /latest/meta-data/ram/security-credentials/MyRole" },
                paths(fake:log()))
  end)

  it("then the aliyun CLI config: current profile, AK and StsToken modes", function()
    write(dir .. "/.aliyun/config.json", [[{ "current": "sts", "profiles": [
      { "name": "default", "mode": "AK", "access_key_id": "akid", "access_key_secret": "aksecret" },
      { "name": "sts", "mode": "StsToken", "access_key_id": "stsid", "access_key_secret": "stssecret",
        "sts_token": "ststoken" } ] }]])
    local c = creds {}
    assert.same({ "stsid", "stssecret", "ststoken", "cli profile sts" },
                { c.access_key_id, c.access_key_secret, c.security_token, c.source })
    assert.equals("akid", creds({ ALIBABA_CLOUD_PROFILE = "default" }).access_key_id)
    write(dir .. "/cfg.json", [[{ "profiles": [ { "name": "default", "access_key_id": "x1",
      "access_key_secret": "y1" } ] }]])
    assert.equals("x1", creds({ ALIBABA_CLOUD_CONFIG_FILE = dir .. "/cfg.json" }).access_key_id)
    assert.equals("x1", creds({}, { cli_config_file = dir .. "/cfg.json" }).access_key_id)
  end)

  it("CLI modes RamRoleArn, ChainableRamRoleArn and EcsRamRole", function()
    write(dir .. "/.aliyun/config.json", [[{ "current": "role", "profiles": [
      { "name": "base", "mode": "AK", "access_key_id": "testid", "access_key_secret": "testsecret" },
      { "name": "role", "mode": "RamRoleArn", "access_key_id": "testid", "access_key_secret": "testsecret",
        "ram_role_arn": "acs:ram::1:role/a", "ram_session_name": "s1", "expired_seconds": 900 },
      { "name": "chain", "mode": "ChainableRamRoleArn", "source_profile": "base",
        "ram_role_arn": "acs:ram::1:role/b" },
      { "name": "ecs", "mode": "EcsRamRole", "ram_role_name": "EcsRamRoleTest" } ] }]])
    local c = creds {}
    assert.matches("^STS%.role", c.access_key_id)
    local log = fake:log()
    assert.same({ "acs:ram::1:role/a", "s1", "900" }, { log[1].role_arn, log[1].session, log[1].duration })
    fake:clear_log()
    c = creds { ALIBABA_CLOUD_PROFILE = "chain" }
    assert.matches("^STS%.role", c.access_key_id)
    assert.equals("acs:ram::1:role/b", fake:log()[1].role_arn)
    fake:clear_log()
    c = creds { ALIBABA_CLOUD_PROFILE = "ecs" }
    assert.matches("^STS%.meta", c.access_key_id)
    assert.equals("/latest/meta-data/ram/security-credentials/EcsRamRoleTest", fake:log()[2].path)
  end)

  it("ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true skips the CLI config", function()
    write(dir .. "/.aliyun/config.json", [[{ "current": "default", "profiles": [
      { "name": "default", "mode": "AK", "access_key_id": "akid", "access_key_secret": "aksecret" } ] }]])
    local c = creds { ALIBABA_CLOUD_CLI_PROFILE_DISABLED = "true" }
    assert.equals("ecs_ram_role", c.source)
  end)

  it("then the ECS RAM role: IMDSv2 token first, role discovered, token sent on every GET", function()
    local c = creds {}
    assert.equals("ecs_ram_role", c.source)
    assert.matches("^metatoken%-%d+$", c.security_token)
    local log = fake:log()
    assert.same({ "PUT /latest/api/token", "GET /latest/meta-data/ram/security-credentials/",
                  "GET /latest/meta-data/ram/security-credentials/EcsRamRoleTest" }, paths(log))
    assert.equals("21600", log[1].ttl)
    assert.is_true(log[2].token)
    assert.is_true(log[3].token)
    assert.is_number(c.expiration)
  end)

  it("falls back to IMDSv1 when the token request fails, with a warning", function()
    fake:configure { imdsv2 = false }
    local cl, events = client {}
    local c = cl.credentials.get()
    assert.equals("ecs_ram_role", c.source)
    local log = fake:log()
    assert.equals(3, #log)
    assert.is_false(log[2].token)
    assert.is_false(log[3].token)
    local warned = false
    for _, ev in ipairs(events) do
      if ev.event == "warning" and ev.message:find("IMDSv1", 1, true) then warned = true end
    end
    assert.is_true(warned)
  end)

  it("does not fall back to IMDSv1 when that is switched off", function()
    fake:configure { imdsv2 = false }
    local c, e = creds { ALIBABA_CLOUD_IMDSV1_DISABLED = "true" }
    assert.is_nil(c)
    assert.matches("IMDSv1 fallback is off", e.message)
    c, e = creds({}, { metadata = { url = fake.url, imdsv1 = false } })
    assert.is_nil(c)
    assert.equals("Credentials.NotFound", e.code)
    assert.same({ "PUT /latest/api/token", "PUT /latest/api/token" }, paths(fake:log()))
  end)

  it("takes the role name from ALIBABA_CLOUD_ECS_METADATA", function()
    fake:configure { role = "Named" }
    local c = creds { ALIBABA_CLOUD_ECS_METADATA = "Named" }
    assert.equals("ecs_ram_role", c.source)
    assert.same({ "PUT /latest/api/token", "GET /latest/meta-data/ram/security-credentials/Named" },
                paths(fake:log()))
  end)

  it("the metadata source is skipped by ALIBABA_CLOUD_ECS_METADATA_DISABLED=true or by config", function()
    for _, case in ipairs {
      { { ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true" }, nil, "ALIBABA_CLOUD_ECS_METADATA_DISABLED" },
      { {}, { metadata = false }, "'metadata = false'" },
      { {}, { metadata = { url = fake.url, disabled = true } }, "metadata.disabled" },
    } do
      local c, e = creds(case[1], case[2])
      assert.is_nil(c)
      assert.is_truthy(e.message:find(case[3], 1, true))
    end
    assert.same({}, fake:log())
  end)

  it("fails with an error that lists each source tried and why it was skipped", function()
    local c, e = creds { ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true" }
    assert.is_nil(c)
    assert.equals("Credentials.NotFound", e.code)
    assert.equals(7, #e.tried)
    assert.matches("^config %(no access_key_id", e.tried[1])
    assert.matches("^environment %(ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET", e.tried[2])
    assert.matches("^oidc %(ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and", e.tried[3])
    assert.is_truthy(e.tried[4]:find("profile (" .. dir .. "/.alibabacloud/credentials", 1, true))
    assert.is_truthy(e.tried[5]:find("cli (" .. dir .. "/.aliyun/config.json", 1, true))
    assert.matches("^ecs_ram_role %(switched off", e.tried[6])
    assert.matches("^credentials_uri %(ALIBABA_CLOUD_CREDENTIALS_URI is not set%)", e.tried[7])
    assert.is_truthy(e.message:find(e.tried[4], 1, true))
    -- a call reports it as its error, without sending anything
    local cl = client { ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true" }
    local res, err = cl:describe_instances {}
    assert.is_nil(res)
    assert.equals("Credentials.NotFound", err.code)
    assert.same({}, fake:log())
  end)

  it("reports a metadata service that fails", function()
    fake:configure { fail_credentials = true }
    local c, e = creds {}
    assert.is_nil(c)
    assert.matches("ecs_ram_role %(Credentials.MetadataFailed: ECS metadata: GET .* HTTP 500%)", e.message)
  end)

  it("touches nothing before the first call and remembers the source that worked", function()
    write(dir .. "/.alibabacloud/credentials", "[default]\ntype = ecs_ram_role\n")
    local cl = client {}
    assert.same({}, fake:log())
    local res, e = cl:describe_instances {}
    assert.is_nil(e)
    assert.is_number(res.TotalCount)
    assert.equals(4, #fake:log())
    os.remove(dir .. "/.alibabacloud/credentials")
    fake:clear_log()
    assert.truthy(cl:describe_instances {})
    assert.same({ "POST /" }, paths(fake:log()))
    assert.equals("profile", cl.credentials.source)
  end)

  it("accepts a custom provider", function()
    local n = 0
    local cl = ecs.new { region = "cn-hangzhou", endpoint = fake.url, signature_version = "v2",
      credentials = { get = function()
        n = n + 1
        return { access_key_id = "testid", access_key_secret = "testsecret" }
      end } }
    assert.truthy(cl:describe_instances {})
    assert.equals(1, n)
  end)

  it("never shows a secret in tostring of credentials", function()
    local c = creds({}, nil, { access_key_id = "LTAIabcdefgh", access_key_secret = "SuperSecret99",
                               security_token = "TokenValue77" })
    local s = tostring(c)
    assert.matches("LTAI%*%*%*%*", s)
    assert.not_matches("SuperSecret99", s)
    assert.not_matches("TokenValue77", s)
  end)

  it("validates its options", function()
    assert.has_error(function() credentials.check_config { colour = 1 } end, "credentials: unknown option 'colour'")
    assert.has_error(function() credentials.check_config { metadata = { url = "ftp://x" } } end)
    assert.has_error(function() credentials.check_config { metadata = { port = 1 } } end)
    assert.has_error(function() credentials.check_config { sources = { "config", "magic" } } end)
    assert.has_error(function() ecs.new { region = "cn-hangzhou", access_key_id = "only-id" } end,
      "ecs.new: 'access_key_id' and 'access_key_secret' go together")
    assert.has_error(function() ecs.new { region = "cn-hangzhou", credentials = { home = 5 } } end)
  end)

  it("an OIDC role (RRSA) from the environment: unsigned AssumeRoleWithOIDC with the token file", function()
    write(dir .. "/oidc-token", "oidc-token-value\n")
    local env = { ALIBABA_CLOUD_ROLE_ARN = "acs:ram::1:role/rrsa",
                  ALIBABA_CLOUD_OIDC_PROVIDER_ARN = "acs:ram::1:oidc/p",
                  ALIBABA_CLOUD_OIDC_TOKEN_FILE = dir .. "/oidc-token", ALIBABA_CLOUD_ROLE_SESSION_NAME = "pod-1" }
    local c = creds(env)
    assert.equals("oidc", c.source)
    assert.matches("^STS%.oidc", c.access_key_id)
    local log = fake:log()[1]
    assert.same({ "AssumeRoleWithOIDC", "acs:ram::1:role/rrsa", "acs:ram::1:oidc/p", "pod-1", "2015-04-01", false },
                { log.action, log.role_arn, log.provider_arn, log.session, log.version, log.signed })
    write(dir .. "/oidc-token", "stale")
    local none, e = creds(env, { sources = { "oidc" } })
    assert.is_nil(none)
    assert.matches("InvalidParameter.OIDCToken", e.message)
  end)

  it("profile oidc_role_arn and credentials_uri types, CLI OIDC and CredentialsURI modes", function()
    write(dir .. "/oidc-token", "oidc-token-value")
    write(dir .. "/.alibabacloud/credentials", table.concat({
      "[rrsa]", "type = oidc_role_arn", "role_arn = acs:ram::1:role/r", "oidc_provider_arn = acs:ram::1:oidc/p",
      "oidc_token_file_path = " .. dir .. "/oidc-token", "role_session_name = s",
      "[uri]", "type = credentials_uri", "credentials_uri = " .. fake.url .. "/credentials-uri" }, "\n"))
    assert.matches("^STS%.oidc", creds({ ALIBABA_CLOUD_PROFILE = "rrsa" }).access_key_id)
    assert.matches("^STS%.uri", creds({ ALIBABA_CLOUD_PROFILE = "uri" }).access_key_id)
    os.remove(dir .. "/.alibabacloud/credentials")
    write(dir .. "/.aliyun/config.json", [[{ "current": "o", "profiles": [
      { "name": "o", "mode": "OIDC", "ram_role_arn": "acs:ram::1:role/r", "oidc_provider_arn": "p",
        "oidc_token_file": "]] .. dir .. [[/oidc-token" },
      { "name": "u", "mode": "CredentialsURI", "credentials_uri": "]] .. fake.url .. [[/credentials-uri" } ] }]])
    assert.matches("^STS%.oidc", creds({}).access_key_id)
    assert.matches("^STS%.uri", creds({ ALIBABA_CLOUD_PROFILE = "u" }).access_key_id)
  end)

  it("a credentials URI from ALIBABA_CLOUD_CREDENTIALS_URI comes last", function()
    local c = creds { ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true",
                      ALIBABA_CLOUD_CREDENTIALS_URI = fake.url .. "/credentials-uri" }
    assert.equals("credentials_uri", c.source)
    assert.matches("^uritoken%-", c.security_token)
    assert.is_number(c.expiration)
    assert.same({ "GET /credentials-uri" }, paths(fake:log()))
  end)

  it("sends metadata, STS and credentials-URI requests through the http option", function()
    local common = require "ecs.credentials.common"
    local real, seen = common.http_client(), {}
    local function http(req)
      seen[#seen + 1] = req.method .. " " .. req.url:gsub("^https?://[^/]+", "")
      return real(req)
    end
    write(dir .. "/.alibabacloud/credentials", table.concat({
      "[default]", "type = ram_role_arn", "access_key_id = testid", "access_key_secret = testsecret",
      "role_arn = acs:ram::1:role/x" }, "\n"))
    assert.matches("^STS%.role", creds({}, { http = http }).access_key_id)
    assert.same({ "POST /" }, seen)
    seen = {}
    os.remove(dir .. "/.alibabacloud/credentials")
    assert.matches("^STS%.meta", creds({}, { http = http }).access_key_id)
    assert.equals(3, #seen)
    assert.equals("PUT /latest/api/token", seen[1])
  end)

  it("with ngx.shared_dict outside nginx, a call says the dict cannot be used", function()
    local cl = ecs.new { region = "cn-hangzhou", endpoint = fake.url, access_key_id = "testid",
                         access_key_secret = "testsecret", signature_version = "v2", transport = "curl",
                         ngx = { shared_dict = "ecs_creds" } }
    local res, err = cl:describe_instances {}
    assert.is_nil(res)
    assert.equals("Credentials.SharedDict", err.code)
    assert.matches("lua_shared_dict", err.message)
  end)

  it("a sources list restricts and orders the chain", function()
    write(dir .. "/.alibabacloud/credentials", "[default]\naccess_key_id = fileid\naccess_key_secret = fs\n")
    local c = creds({ ALIBABA_CLOUD_ACCESS_KEY_ID = "envid", ALIBABA_CLOUD_ACCESS_KEY_SECRET = "es" },
                    { sources = { "profile", "environment" } })
    assert.equals("fileid", c.access_key_id)
  end)
end)
