-- Module-level shortcuts (ecs.invoke_command{...}) on a default client built
-- from the environment. Each case runs in a child interpreter with exactly
-- the variables given (helpers.env); the child replaces the transport's send
-- with its prepare, so the request is built and signed for real but never
-- leaves the process, and the case checks what would have been sent.
local env = require "helpers.env"
local core = require "ecs.core"

local PRELUDE = [[
local ecs = require "ecs"
local curl = require "ecs.transport.curl"
curl.call = function(self, action, params)
  local req = self:prepare(action, params)
  return { RequestId = "local", request = req }
end
]]

local VARS = {
  ALIBABA_CLOUD_REGION_ID = "cn-shanghai",
  ALIBABA_CLOUD_ACCESS_KEY_ID = "LTAIenvid",
  ALIBABA_CLOUD_ACCESS_KEY_SECRET = "env-secret",
  ALIBABA_CLOUD_SECURITY_TOKEN = "env-token",
  ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true",
  ALIBABA_CLOUD_CLI_PROFILE_DISABLED = "true",
}

local function run(vars, code)
  return env.run(env.clean(vars), PRELUDE .. code)
end

local function verify_v3(req, secret)
  local signed = req.headers.authorization:match("SignedHeaders=([^,]+)")
  local hs = {}
  for name in signed:gmatch("[^;]+") do hs[name] = req.headers[name] end
  local cr = core.v3_canonical_request("POST", req.path, {}, hs, core.sha256_hex(req.body))
  return req.headers.authorization:match("Signature=(%x+)$") == core.v3_signature(secret, core.v3_string_to_sign(cr))
end

describe("module-level shortcuts", function()
  it("use region and credentials from the environment", function()
    local res = run(VARS, [[
      local res, err = ecs.invoke_command { CommandId = "c-1", InstanceId = { "i-1" } }
      assert(res, tostring(err))
      return { url = ecs.default_client().url, req = res.request, str = tostring(ecs.default_client()) }
    ]])
    assert.are.equal("https://ecs.cn-shanghai.aliyuncs.com", res.url)
    local req = res.req
    assert.are.equal("ecs.cn-shanghai.aliyuncs.com", req.host)
    assert.are.equal("InvokeCommand", req.headers["x-acs-action"])
    assert.matches("Credential=LTAIenvid,", req.headers.authorization)
    assert.are.equal("env-token", req.headers["x-acs-security-token"])
    assert.is_true(verify_v3(req, "env-secret"))
    assert.is_false(verify_v3(req, "other-secret"))
    local p = core.parse_query(req.body)
    assert.are.equal("cn-shanghai", p.RegionId)
    assert.are.equal("i-1", p["InstanceId.1"])
    assert.is_nil(res.str:find("env-secret", 1, true))
    assert.is_nil(res.str:find("env-token", 1, true))
  end)

  it("cover every action, plus ecs.request for any other", function()
    local res = run(VARS, [[
      local out = {}
      for _, a in ipairs(require("ecs.core").actions) do
        local r = assert(ecs[a.method]({ InstanceId = { "i-1" }, CommandId = "c", InvokeId = "t",
          CommandContent = "ZWNobw==", Type = "RunShellScript", Name = "n", Content = "x", TargetDir = "/tmp" }))
        out[#out + 1] = r.request.headers["x-acs-action"]
      end
      out[#out + 1] = assert(ecs.request("DescribeRegions", {})).request.headers["x-acs-action"]
      return out
    ]])
    local want = {}
    for _, a in ipairs(core.actions) do want[#want + 1] = a.action end
    want[#want + 1] = "DescribeRegions"
    assert.are.same(want, res)
  end)

  it("build the default client once and let it be replaced", function()
    local res = run(VARS, [[
      local a = ecs.default_client()
      local b = ecs.default_client()
      local mine = ecs.new { region = "eu-central-1", access_key_id = "LTAIother", access_key_secret = "s" }
      ecs.set_default_client(mine)
      local r = assert(ecs.describe_instances {})
      ecs.set_default_client(nil)
      local c = ecs.default_client()
      return { same = a == b, host = r.request.host, fresh = c ~= a and c ~= mine, region = c.config.region }
    ]])
    assert.is_true(res.same)
    assert.are.equal("ecs.eu-central-1.aliyuncs.com", res.host)
    assert.is_true(res.fresh)
    assert.are.equal("cn-shanghai", res.region)
  end)

  it("read credentials when a call is made, not when the client is built", function()
    local res = run({ ALIBABA_CLOUD_REGION_ID = "cn-shanghai", ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true",
                      ALIBABA_CLOUD_CLI_PROFILE_DISABLED = "true" }, [[
      local c = ecs.default_client()
      local res, err = ecs.describe_instances {}
      return { built = c ~= nil, res = res == nil, code = err and err.code, msg = err and err.message,
               is_error = ecs.is_error(err) }
    ]])
    assert.is_true(res.built)
    assert.is_true(res.res)
    assert.is_true(res.is_error)
    assert.are.equal("Credentials.NotFound", res.code)
    assert.matches("ALIBABA_CLOUD_ACCESS_KEY_ID", res.msg)
  end)

  it("treat empty credential variables as unset", function()
    local res = run({ ALIBABA_CLOUD_REGION_ID = "cn-shanghai", ALIBABA_CLOUD_ACCESS_KEY_ID = "",
                      ALIBABA_CLOUD_ACCESS_KEY_SECRET = "", ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true",
                      ALIBABA_CLOUD_CLI_PROFILE_DISABLED = "true" }, [[
      local _, err = ecs.describe_instances {}
      return err.code
    ]])
    assert.are.equal("Credentials.NotFound", res)
  end)

  it("work without a security token", function()
    local vars = {}
    for k, v in pairs(VARS) do vars[k] = v end
    vars.ALIBABA_CLOUD_SECURITY_TOKEN = nil
    local req = run(vars, [[ return assert(ecs.describe_instances {}).request ]])
    assert.is_nil(req.headers["x-acs-security-token"])
    assert.is_true(verify_v3(req, "env-secret"))
  end)

  it("raise naming the region variable when there is no region", function()
    local ok, err = env.try(env.clean { ALIBABA_CLOUD_ACCESS_KEY_ID = "a", ALIBABA_CLOUD_ACCESS_KEY_SECRET = "b" },
      PRELUDE .. [[ return ecs.describe_instances {} ]])
    assert.is_false(ok)
    assert.matches("ALIBABA_CLOUD_REGION_ID", err)
  end)

  it("raise on a malformed region in the environment", function()
    local ok, err = env.try(env.clean { ALIBABA_CLOUD_REGION_ID = "cn hangzhou&x" },
      PRELUDE .. [[ return ecs.default_client() ~= nil ]])
    assert.is_false(ok)
    assert.matches("region", err)
  end)

  it("let ecs.new take the region from the environment, the option winning", function()
    local res = run(VARS, [[
      return { env = ecs.new {}.url, opt = ecs.new { region = "cn-beijing" }.url }
    ]])
    assert.are.equal("https://ecs.cn-shanghai.aliyuncs.com", res.env)
    assert.are.equal("https://ecs.cn-beijing.aliyuncs.com", res.opt)
  end)
end)

describe("helpers.env", function()
  it("sets and unsets variables in the child only", function()
    local before = os.getenv("HOME")
    local res = env.run({ ECS_SPEC_A = "a b 'c'", HOME = env.UNSET }, [[
      return { a = os.getenv("ECS_SPEC_A"), home = os.getenv("HOME") == nil }
    ]])
    assert.are.same({ a = "a b 'c'", home = true }, res)
    assert.are.equal(before, os.getenv("HOME"))
    assert.is_nil(os.getenv("ECS_SPEC_A"))
  end)

  it("runs the same interpreter and reports errors from the child", function()
    assert.are.equal(_VERSION, env.run({}, "return _VERSION"))
    local ok, err = env.try({}, "error('boom from child')")
    assert.is_false(ok)
    assert.matches("boom from child", err)
  end)

  it("builds an injectable getenv", function()
    local getenv = env.getenv({ A = "1", HOME = env.UNSET }, false)
    assert.are.equal("1", getenv("A"))
    assert.is_nil(getenv("HOME"))
    assert.are.equal(os.getenv("PATH"), getenv("PATH"))
    assert.is_nil(env.getenv({}, true)("PATH"))
  end)
end)
