-- The RegionId every action requires.
local errors = require "ecs.emulator.errors"

local M = {}

function M.require(st, p)
  local r = p.RegionId
  if r == nil or r == "" then errors.missing("RegionId") end
  if not st.fleet:known_region(r) then
    errors.raise("InvalidRegionId.NotFound", "The specified RegionId \"%s\" does not exist.", r)
  end
  return r
end

return M
