-- Inputs of the bad-input walk that reach a known bug not fixed yet: the
-- walk in bad_input_spec.lua skips exactly these (some crash or hang the
-- process), and a spec asserting the right behaviour stays red until the bug
-- is fixed. Every bug the walk found so far is fixed (fixed_bugs_spec.lua
-- keeps each of them pinned), so the list is empty.
local M = {}

-- { prefix = exact case prefix, where = exact position or nil (any),
--   values = set of bad-value names or nil (any), bug = id }
M.LIST = {}

function M.skip(prefix, where, vname)
  for _, k in ipairs(M.LIST) do
    if k.prefix == prefix and (k.where == nil or k.where == where) and (k.values == nil or k.values[vname]) then
      return k.bug
    end
  end
  return nil
end

return M
