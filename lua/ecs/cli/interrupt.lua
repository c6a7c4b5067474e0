--- Ctrl-C during a run. The standalone interpreter turns SIGINT into a Lua
-- error ("interrupted!") raised in the running code; the front end catches it
-- and asks the service to stop every invocation this run started.
--
-- The invocations are noted through invoke_fleet's on_launch hook, which the
-- fleet layer calls as soon as each batch's InvokeCommand / RunCommand answer
-- is in.
local type, ipairs, tostring = type, ipairs, tostring

local M = {}

--- is_interrupt(err) -> true for the interpreter's SIGINT error.
function M.is_interrupt(e)
  return type(e) == "string" and e:match("interrupted!$") ~= nil
end

--- tracker(region) -> tracker; tracker.on_launch is the hook for invoke_fleet / rerun,
-- tracker.started = { { InvokeId =, RegionId = }, ... } in launch order.
function M.tracker(region)
  local tracker = { started = {}, seen = {} }
  function tracker.on_launch(inv)
    local id = inv.InvokeId
    if type(id) == "string" and not tracker.seen[id] then
      tracker.seen[id] = true
      tracker.started[#tracker.started + 1] = { InvokeId = id, RegionId = inv.RegionId or region }
    end
  end
  return tracker
end

--- stop(client, tracker) -> list of { InvokeId =, ok =, error = } after StopInvocation for each.
function M.stop(client, tracker)
  local out = {}
  for _, inv in ipairs(tracker.started) do
    local res, err = client:call("StopInvocation", { RegionId = inv.RegionId, InvokeId = inv.InvokeId },
      { retry = { attempts = 2, base_delay = 0.2, max_delay = 1 } })
    out[#out + 1] = { InvokeId = inv.InvokeId, ok = res ~= nil, error = err and tostring(err) or nil }
  end
  return out
end

return M
