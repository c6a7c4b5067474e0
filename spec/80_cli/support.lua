-- CLI spec support: run `ecs` in-process (cli.main with captured output and
-- an injected environment) or as a real child process (bin/ecs), and an
-- emulator on a fast clock.
local helper = require "helpers.emulator"
local cjson = require "cjson"

local M = {}

local function absolute(dir)
  local p = io.popen("cd " .. helper.shell_quote(dir) .. " && pwd")
  local out = p:read("*l")
  p:close()
  return out or dir
end

M.ROOT = absolute(helper.root)
M.BIN = M.ROOT .. "/bin/ecs"
M.LUA = os.getenv("ECS_CLI_LUA") or "lua5.4"
M.SCALE = 50
-- options every call to the emulator takes (the region of the built-in fleet)
M.REGION = "cn-hangzhou"

M.CREDS = { ALIBABA_CLOUD_ACCESS_KEY_ID = "testid", ALIBABA_CLOUD_ACCESS_KEY_SECRET = "testsecret" }

local ALIBABA = { "ALIBABA_CLOUD_REGION_ID", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
  "ALIBABA_CLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_CREDENTIALS_FILE",
  "ALIBABA_CLOUD_CONFIG_FILE", "ALIBABA_CLOUD_ECS_METADATA", "ALIBABA_CLOUD_ROLE_ARN",
  "ALIBABA_CLOUD_CREDENTIALS_URI", "ALIBABA_CLOUD_ECS_METADATA_DISABLED", "ECS_CLI_TTY", "COLUMNS" }

function M.start(scale, extra)
  local args = { "--time-scale", tostring(scale or M.SCALE) }
  for _, a in ipairs(extra or {}) do args[#args + 1] = a end
  return helper.start { args = args }
end

--- Service options for the emulator.
function M.service(emu)
  return { "--region", M.REGION, "--endpoint", emu.url }
end

--- argv: the service options of emu followed by the given arguments.
function M.argv(emu, list)
  local out = { list[1] }
  if emu then
    for _, a in ipairs(M.service(emu)) do out[#out + 1] = a end
  end
  for i = 2, #list do out[#out + 1] = list[i] end
  return out
end

local function buffer()
  local b = { parts = {} }
  function b:write(...)
    for i = 1, select("#", ...) do self.parts[#self.parts + 1] = tostring((select(i, ...))) end
  end
  function b.flush() end
  function b:text() return table.concat(self.parts) end
  return b
end

--- In-process run: returns { code, out, err }. opts: env (table), tty (boolean), clock.
function M.main(argv, opts)
  opts = opts or {}
  local cli = require "ecs.cli"
  local env = opts.env or M.CREDS
  local out, err = buffer(), buffer()
  local code = cli.main(argv, {
    stdout = out, stderr = err,
    getenv = function(k) return env[k] end,
    isatty = function() return opts.tty == true end,
    clock = opts.clock, width = opts.width and function() return opts.width end or nil,
    stdin = opts.stdin,
  })
  return { code = code, out = out:text(), err = err:text() }
end

local function q(s) return helper.shell_quote(s) end
M.quote = q

--- Child-process run of bin/ecs: returns { code, out, err }. opts: env (table), wrap (function(cmd) -> cmd).
function M.exec(argv, opts)
  opts = opts or {}
  local dir = helper.tmpdir()
  local words = { "env" }
  for _, k in ipairs(ALIBABA) do words[#words + 1] = "-u " .. k end
  words[#words + 1] = "HOME=" .. q(dir)
  words[#words + 1] = "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"   -- never 100.100.100.200
  for k, v in pairs(opts.env or M.CREDS) do words[#words + 1] = k .. "=" .. q(v) end
  words[#words + 1] = q(M.LUA)
  words[#words + 1] = q(M.BIN)
  for _, a in ipairs(argv) do words[#words + 1] = q(a) end
  local cmd = table.concat(words, " ")
  if opts.wrap then cmd = opts.wrap(cmd) end
  os.execute("cd " .. q(M.ROOT) .. " && " .. cmd .. " > " .. q(dir .. "/out") .. " 2> " .. q(dir .. "/err")
    .. " < /dev/null; echo $? > " .. q(dir .. "/rc"))
  local res = { code = tonumber(helper.read_file(dir .. "/rc")), out = helper.read_file(dir .. "/out") or "",
                err = helper.read_file(dir .. "/err") or "" }
  helper.rmdir(dir)
  return res
end

--- The one JSON document of stdout (raises when it is not exactly that).
function M.json(text)
  assert(text:match("^%s*{") and text:match("}%s*$"), "stdout is not one JSON object: " .. text)
  return cjson.decode(text)
end

function M.requests(emu, action)
  return emu:requests(action)
end

function M.reset(emu)
  emu:admin("POST", "/_emulator/reset")
end

M.helper = helper
return M
