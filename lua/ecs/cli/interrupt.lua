--- Ctrl-C during a run. The standalone interpreter turns SIGINT into a Lua
-- error ("interrupted!") raised in the running code; the front end catches it
-- and asks the service to stop every invocation this run started.
--
-- The invocations are noted as their InvokeCommand / RunCommand answers
-- arrive, by watching the client's call and call_batch on this one client.
local type, ipairs, tostring = type, ipairs, tostring

local M = {}

local STARTS = { InvokeCommand = true, RunCommand = true }

--- is_interrupt(err) -> true for the interpreter's SIGINT error.
function M.is_interrupt(e)
  return type(e) == "string" and e:match("interrupted!$") ~= nil
end

--- track(client) -> tracker; tracker.started = { { InvokeId =, RegionId = }, ... }
function M.track(client)
  local tracker = { started = {}, seen = {} }
  local function note(action, params, res)
    if STARTS[action] and type(res) == "table" and type(res.InvokeId) == "string"
       and not tracker.seen[res.InvokeId] then
      tracker.seen[res.InvokeId] = true
      tracker.started[#tracker.started + 1] = { InvokeId = res.InvokeId,
        RegionId = type(params) == "table" and params.RegionId or client.config.region }
    end
  end
  local class_call, class_batch = client.call, client.call_batch
  client.call = function(self, action, params, opts)
    local res, err = class_call(self, action, params, opts)
    note(action, params, res)
    return res, err
  end
  client.call_batch = function(self, calls, opts)
    local out = class_batch(self, calls, opts)
    if type(out) == "table" then
      for i, c in ipairs(calls) do
        local r = out[i]
        if type(c) == "table" and type(r) == "table" then note(c[1], c[2], r[1]) end
      end
    end
    return out
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
