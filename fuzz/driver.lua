-- Drives the Lua-facing stages of ecs.core (and the emulator's request
-- handling, when present) with one fuzzer input. Errors raised for bad
-- input are expected and swallowed; they must be clear strings.
local core = require "ecs.core"
local ok_emu, emulator = pcall(require, "ecs.emulator")
if os.getenv("ECS_FUZZ_NO_EMULATOR") then ok_emu = false end
local svc = ok_emu and emulator.new { check_timestamp = false } or nil

local byte, sub = string.byte, string.sub

-- Builds a nested value from the bytes: a tiny stack machine so the fuzzer
-- reaches lists, maps, tag maps, JSON names, cycles and odd scalars.
local NAMES = { "InstanceId", "Parameters", "Tag", "ResourceTag", "Name", "SystemDisk", "InstanceIds", "X" }
local function build(s)
  local root = {}
  local stack, top = { root }, 1
  local i = 1
  while i <= #s do
    local op = byte(s, i) % 12
    local arg = byte(s, i + 1) or 0
    local cur = stack[top]
    i = i + 2
    if op == 0 then cur[#cur + 1] = sub(s, i, i + arg % 16 - 1); i = i + arg % 16
    elseif op == 1 then cur[NAMES[arg % #NAMES + 1]] = sub(s, i, i + arg % 8 - 1); i = i + arg % 8
    elseif op == 2 then local t = {}; cur[NAMES[arg % #NAMES + 1]] = t; top = top + 1; stack[top] = t
    elseif op == 3 then local t = {}; cur[#cur + 1] = t; top = top + 1; stack[top] = t
    elseif op == 4 then if top > 1 then top = top - 1 end
    elseif op == 5 then cur[#cur + 1] = arg - 128
    elseif op == 6 then cur[#cur + 1] = (arg - 128) / 7
    elseif op == 7 then cur[#cur + 1] = arg % 2 == 0
    elseif op == 8 then cur[sub(s, i, i + arg % 8 - 1)] = arg; i = i + arg % 8
    elseif op == 9 then if arg % 5 == 0 then cur.loop = root end
    elseif op == 10 then cur[#cur + 1] = ({ 0 / 0, 1 / 0, -1 / 0, 2 ^ 53, 2 ^ 63, -0.0 })[arg % 6 + 1]
    else cur[#cur + 1] = core.null
    end
  end
  return root
end

local function expect_string_error(ok, err)
  if not ok and type(err) ~= "string" then error("non-string error: " .. tostring(err)) end
end

return function(input)
  local value = build(input)
  expect_string_error(pcall(core.flatten, value))
  expect_string_error(pcall(core.json_encode, value))
  local res, err = core.decode(200, input)
  if res == nil and type(err) ~= "table" then error("decode gave no error object") end
  res, err = core.decode(400, input, { date = input })
  if res ~= nil or tostring(err) == nil then error("decode of 400 gave a result") end
  local q = core.parse_query(input)
  if type(q) ~= "table" then error("parse_query gave no table") end
  expect_string_error(pcall(core.canonical_query, q))
  if svc then
    local resp = svc:handle { method = "POST", path = "/", query = input:sub(1, 64),
                              headers = { ["content-type"] = "application/x-www-form-urlencoded",
                                          authorization = input:sub(1, 80) }, body = input }
    if type(resp) ~= "table" or type(resp.status) ~= "number" then error("emulator gave no response") end
  end
end
