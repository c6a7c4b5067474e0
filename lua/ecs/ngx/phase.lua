--- nginx phase awareness: which request phases may use cosockets, and the
-- error given in the ones that cannot yield.
-- luacheck: read globals ngx
local errors = require "ecs.errors"

local type, rawget, _G = type, rawget, _G

local M = {}

-- phases where ngx.socket.tcp and ngx.sleep are unavailable (the Lua code
-- runs without a yieldable request coroutine)
M.BLOCKED = {
  init = true, init_worker = true, exit_worker = true, set = true,
  header_filter = true, body_filter = true, log = true, balancer = true,
  ssl_session_store = true,
}

--- The global ngx table when running inside nginx's Lua module, else nil.
function M.ngx()
  local n = rawget(_G, "ngx")
  if type(n) == "table" and type(n.get_phase) == "function" then return n end
  return nil
end

--- The current phase name, or nil outside nginx.
function M.current()
  local n = M.ngx()
  return n and n.get_phase() or nil
end

--- check(action) -> true | nil, err. err names the phase and the way out.
function M.check(action)
  local phase = M.current()
  if phase == nil then
    return nil, errors.new {
      code = "Ngx.NotInNginx", action = action, retryable = false, sent = false,
      message = "the ngx transport needs nginx's Lua module (ngx.socket.tcp); "
        .. "use transport = \"curl\" outside nginx",
    }
  end
  if M.BLOCKED[phase] then
    return nil, errors.new {
      code = "Ngx.PhaseNotYieldable", action = action, retryable = false, sent = false, phase = phase,
      message = ("cannot send a request in nginx's '%s' phase: cosockets cannot yield there; "
        .. "run the call from a timer (ngx.timer.at(0, function() ... end)) "
        .. "or from a rewrite, access or content handler"):format(phase),
    }
  end
  return true
end

return M
