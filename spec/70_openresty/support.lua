-- Shared setup for the OpenResty specs: an emulator, a command on it made by
-- a plain-Lua client, and small JSON/HTTP helpers.
local cjson = require("cjson").new()
local core = require "ecs.core"
local ecs = require "ecs"

local M = {}

M.json = cjson
M.INSTANCES = { "i-bp1emuweb01", "i-bp1emuweb02" }

--- A command on the emulator (created through the libcurl client).
function M.create_command(emu)
  local c = ecs.new { region = "cn-hangzhou", endpoint = emu.url, access_key_id = "testid",
                      access_key_secret = "testsecret", signature_version = "v2", retry = false,
                      tls = emu.tls and { ca_file = emu.tls.ca } or nil }
  local res, err = c:create_command { Name = "hello", Type = "RunShellScript", EnableParameter = true,
                                      CommandContent = core.base64_encode("echo hello {{name}}") }
  c:close()
  assert(res, "CreateCommand on the emulator failed: " .. tostring(err))
  return res.CommandId
end

--- The emulator's request log (list of { action, version, params, ... }).
function M.requests(emu, action)
  return emu:requests(action)
end

--- stop(ng, emu): removes nginx (when one was started) and stops the emulator
-- (when one was started), for a describe block's teardown.
function M.stop(ng, emu)
  if ng then ng:cleanup() end
  if emu then emu:stop() end
end

--- clear_faults(emu): the emulator injects no faults from here on.
function M.clear_faults(emu)
  emu:admin("POST", "/_emulator/faults", {})
end

function M.decode(body)
  local ok, v = pcall(cjson.decode, body or "")
  if ok then return v end
  return nil
end

return M
