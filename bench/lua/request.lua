--- The benchmark request and client settings shared by every Lua benchmark:
-- InvokeCommand on two instances with Parameters and a Frequency (the same
-- bytes the C baselines in bench/c/sigreq.c sign).
local M = {}

M.ACTION = "InvokeCommand"
M.REGION = "cn-hangzhou"
M.ACCESS_KEY_ID = "testid"
M.ACCESS_KEY_SECRET = "testsecret"

--- A fresh params table (callers may reuse it: neither the client nor the
-- core modifies it).
function M.params()
  return {
    CommandId = "c-e996287206324975b5fbe1d0001",
    InstanceId = { "i-bp185dy2o3o6n0000001", "i-bp185dy2o3o6n0000002" },
    Parameters = { name = "Jack" },
    RepeatMode = "Period",
    Frequency = "0 */20 * * * ? Asia/Shanghai",
    Username = "root",
  }
end

--- Config for ecs.new (the Lua client); a fresh table each call.
function M.client_config(url, sigver)
  return {
    endpoint = url,
    region = M.REGION,
    access_key_id = M.ACCESS_KEY_ID,
    access_key_secret = M.ACCESS_KEY_SECRET,
    signature_version = sigver or "v3",
  }
end

--- Config for core.new (the C client alone): the same options.
M.core_config = M.client_config

--- Reads "name value" options from arg: { url =, n =, sig = , ... }.
function M.args(argv, defaults)
  local out = {}
  for k, v in pairs(defaults or {}) do out[k] = v end
  for i = 1, #argv do
    local k, v = argv[i]:match("^([%w_]+)=(.*)$")
    if not k then error("bad argument '" .. argv[i] .. "': expected name=value", 0) end
    out[k] = tonumber(v) or v
  end
  return out
end

--- Raises unless r is a decoded InvokeCommand result.
function M.check_result(r, err)
  if type(r) ~= "table" or type(r.InvokeId) ~= "string" then
    error("benchmark call failed: " .. tostring(err), 0)
  end
end

--- Prints "name value" lines, in the order given.
function M.report(pairs_list)
  for i = 1, #pairs_list, 2 do
    io.write(pairs_list[i], " ", tostring(pairs_list[i + 1]), "\n")
  end
  io.stdout:flush()
end

return M
