-- Open bugs in code this folder does not own (the C core, the client, the
-- fleet layer), each reported with a repro and a proposed fix. The walk in
-- bad_input_spec.lua skips exactly these inputs (some crash or hang the
-- process); open_bugs_spec.lua (tag #openbug) asserts the right behaviour for
-- each and fails until it is fixed.
local M = {}

-- { prefix = exact case prefix, where = exact position or nil (any),
--   values = set of bad-value names or nil (any), bug = id }
local NOT_STRINGS = {}
for _, n in ipairs { "true", "false", "42", "-1", "0", "0.5", "NaN", "+inf", "-inf", "1e300", "function", "coroutine",
                     "userdata", "10000-deep map", "10000-deep list", "cyclic map", "cyclic list", "unknown keys",
                     "list" } do
  NOT_STRINGS[n] = true
end

local HUGE = { ["10 MB string"] = true }
local NONFINITE = { NaN = true, ["+inf"] = true, ["-inf"] = true, ["1e300"] = true }
local NOT_TABLES = {}
for _, n in ipairs { "true", "42", "-1", "0", "0.5", "NaN", "+inf", "-inf", "1e300", "function", "coroutine" } do
  NOT_TABLES[n] = true
end

M.LIST = {
  -- core.new frees the preset string, then raises on the wrong type: freed again at __gc (double free)
  { prefix = "core.new", where = "option user_agent", values = NOT_STRINGS, bug = "core-new-double-free" },
  { prefix = "core.new", where = "option version", values = NOT_STRINGS, bug = "core-new-double-free" },
  -- client.c: a per-call 'timestamp' (and set_time_offset) of NaN, +-inf or 1e300 reaches
  -- ecs_format_timestamp, whose (long long) cast and day arithmetic are then undefined (UBSan stops there)
  { prefix = "cl:call", where = "option timestamp", values = NONFINITE, bug = "nonfinite-time" },
  { prefix = "cl:prepare", where = "option timestamp", values = NONFINITE, bug = "nonfinite-time" },
  -- decode.c: a non-2xx JSON body without Code/Message gives an error with no message
  -- (on LuaJIT, luaL_checkinteger truncates 0.5, NaN, +-inf and 1e300 to such a status as well)
  { prefix = "core.decode", where = "arg #1",
    values = { ["42"] = true, ["-1"] = true, ["0"] = true, ["0.5"] = true, NaN = true, ["+inf"] = true,
               ["-inf"] = true, ["1e300"] = true },
    bug = "decode-no-message" },
  -- errors quote the whole bad value: a 10 MB value makes a 10 MB message (C core, config, fleet options)
  { prefix = "core.new", where = "option endpoint", values = HUGE, bug = "echo-whole-value" },
  { prefix = "core.new", where = "option signature_version", values = HUGE, bug = "echo-whole-value" },
  { prefix = "ecs.new", where = "option region", values = HUGE, bug = "echo-whole-value" },
  { prefix = "ecs.new", where = "option network", values = HUGE, bug = "echo-whole-value" },
  { prefix = "ecs.new", where = "option signature_version", values = HUGE, bug = "echo-whole-value" },
  { prefix = "ecs.new", where = "option transport", values = HUGE, bug = "echo-whole-value" },
  { prefix = "client:rerun", where = "option max", values = HUGE, bug = "echo-whole-value" },
  { prefix = "client:wait_invocation", where = "option timeout", values = HUGE, bug = "echo-whole-value" },
  { prefix = "client:wait_invocation", where = "option command_timeout", values = HUGE, bug = "echo-whole-value" },
  { prefix = "client:wait_invocation", where = "option slack", values = HUGE, bug = "echo-whole-value" },
  { prefix = "client:wait_invocation", where = "option grace", values = HUGE, bug = "echo-whole-value" },
  { prefix = "client:wait_invocation", where = "option concurrency", values = HUGE, bug = "echo-whole-value" },
  -- fleet/invocation.lua: grace = 1e300 waits (polls) for ever
  { prefix = "client:wait_invocation", where = "option grace", values = { ["1e300"] = true }, bug = "grace-hang" },
  -- client.lua: call_batch and prepare index opts without checking it
  { prefix = "client:call_batch", where = "arg #2", values = NOT_TABLES, bug = "batch-opts" },
  { prefix = "client:call_batch", where = "option", values = { no_such_option_xyz = true }, bug = "batch-opts" },
  { prefix = "client:prepare", where = "arg #3", values = NOT_TABLES, bug = "prepare-opts" },
  -- fleet/quota.lua matches "(%S+)$" over the region: quadratic, a 10 MB region never returns
  { prefix = "client:invocation_quota", where = "arg #1", values = { ["10 MB string"] = true },
    bug = "invocation-quota-hang" },
}

function M.skip(prefix, where, vname)
  for _, k in ipairs(M.LIST) do
    if k.prefix == prefix and (k.where == nil or k.where == where) and (k.values == nil or k.values[vname]) then
      return k.bug
    end
  end
  return nil
end

return M
