--- Error objects: one shape for the service's errors, the client's own and
-- local validation failures. Created in C for wire errors (same metatable).
local core = require "ecs.core"

local setmetatable, getmetatable, type = setmetatable, getmetatable, type

local M = {}

M.mt = core.error_mt

--- Builds an error object. fields: code, message, plus any extra fields.
function M.new(fields)
  if fields.retryable == nil then fields.retryable = false end
  return setmetatable(fields, M.mt)
end

--- A local validation failure (a value the service would reject).
function M.invalid(code, message, action)
  return M.new { code = code, message = message, action = action, retryable = false, ["local"] = true }
end

function M.is_error(v)
  return type(v) == "table" and getmetatable(v) == M.mt
end

return M
