-- Spec helper: run code under a given environment.
--
-- Lua has no setenv, so code that reads os.getenv directly (ecs.new reads
-- ALIBABA_CLOUD_REGION_ID, the default client reads the credential
-- variables) runs in a child process of the same interpreter, with the same
-- package.path and package.cpath, under exactly the variables given:
--
--   local env = require "helpers.env"
--   local res = env.run({ ALIBABA_CLOUD_REGION_ID = "cn-shanghai",
--                         ALIBABA_CLOUD_ACCESS_KEY_ID = env.UNSET }, [[
--     local ecs = require "ecs"
--     return { url = ecs.default_client().url }
--   ]])
--   res.url  --> "https://ecs.cn-shanghai.aliyuncs.com"
--
-- The chunk's return value travels back as JSON (strings, numbers, booleans,
-- tables). An error in the chunk raises in the caller with the child's
-- message; env.try() returns false, message instead. The parent's own
-- environment is never changed, so nothing needs restoring.
--
-- Where the code under test takes an injected getenv (the `credentials =
-- { getenv = f }` client option), env.getenv(vars) builds one in-process.
local cjson = require "cjson"
local process = require "helpers.process"

local M = {}

--- Marks a variable to remove from the child's environment.
M.UNSET = setmetatable({}, { __tostring = function() return "env.UNSET" end })

--- Every variable the client reads, for env.run(env.clean { ... }).
M.ALIBABA = { "ALIBABA_CLOUD_REGION_ID", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
              "ALIBABA_CLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_CREDENTIALS_FILE",
              "ALIBABA_CLOUD_CONFIG_FILE", "ALIBABA_CLOUD_ECS_METADATA", "ALIBABA_CLOUD_ROLE_ARN",
              "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "ALIBABA_CLOUD_CREDENTIALS_URI",
              "ALIBABA_CLOUD_IGNORE_PROFILE", "ALIBABA_CLOUD_ECS_METADATA_DISABLED" }

--- vars with every ALIBABA_CLOUD_* variable not named in it unset (so the
-- caller's own environment cannot leak into a spec).
function M.clean(vars)
  local out = {}
  for _, name in ipairs(M.ALIBABA) do out[name] = M.UNSET end
  out.HOME = "/nonexistent-ecs-spec-home"
  for k, v in pairs(vars or {}) do out[k] = v end
  return out
end

local quote = process.shell_quote

--- The interpreter running this process (lua5.1 .. lua5.4, luajit).
M.interpreter = process.interpreter

local PRELUDE = [[
local cjson = require "cjson"
local chunk = assert(loadfile(arg[1]))
local ok, res = pcall(chunk)
if ok then
  io.stdout:write("\n@@ecs-env-result@@", cjson.encode({ ok = true, value = res == nil and cjson.null or res }))
else
  io.stdout:write("\n@@ecs-env-result@@", cjson.encode({ ok = false, err = tostring(res) }))
end
io.stdout:flush()
os.exit(0)
]]

local function tmpname()
  local name = os.tmpname()
  return name
end

local write = process.write_file

--- try(vars, code) -> true, value | false, message
function M.try(vars, code)
  local prelude_file, code_file = tmpname(), tmpname()
  write(prelude_file, process.lua_script(PRELUDE))
  write(code_file, code)
  local parts = { "env" }
  local names = {}
  for k in pairs(vars or {}) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    if vars[k] == M.UNSET then parts[#parts + 1] = "-u " .. quote(k) end
  end
  for _, k in ipairs(names) do
    if vars[k] ~= M.UNSET then parts[#parts + 1] = quote(k .. "=" .. tostring(vars[k])) end
  end
  parts[#parts + 1] = M.interpreter()
  parts[#parts + 1] = quote(prelude_file)
  parts[#parts + 1] = quote(code_file)
  local p = assert(io.popen(table.concat(parts, " ") .. " 2>&1", "r"))
  local out = p:read("*a")
  p:close()
  os.remove(prelude_file)
  os.remove(code_file)
  local json = string.match(out, "\n@@ecs%-env%-result@@(.*)$")
  if not json then return false, "child process failed: " .. out end
  local res = cjson.decode(json)
  if not res.ok then return false, res.err end
  if res.value == cjson.null then return true, nil end
  return true, res.value
end

--- run(vars, code) -> the chunk's return value; raises with the child's error.
function M.run(vars, code)
  local ok, res = M.try(vars, code)
  if not ok then error(res, 2) end
  return res
end

--- An injectable getenv: names in vars first (env.UNSET reads as nil), then
-- the real environment unless `only` is true.
function M.getenv(vars, only)
  return function(name)
    local v = vars[name]
    if v == M.UNSET then return nil end
    if v ~= nil then return v end
    if only then return nil end
    return os.getenv(name)
  end
end

return M
