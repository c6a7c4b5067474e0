-- ClientToken: the same token with the same parameters replays the first
-- result; with other parameters it is IdempotentParameterMismatch; while the
-- first request's answer is still held back (a delay fault) it is
-- IdempotentProcessing.
local errors = require "ecs.emulator.errors"

local pairs, sort, concat = pairs, table.sort, table.concat

local M = {}

M.ACTIONS = { CreateCommand = true, InvokeCommand = true, RunCommand = true, SendFile = true }

local NOT_BUSINESS = { Action = true, Version = true, Format = true, AccessKeyId = true, SignatureMethod = true,
  SignatureVersion = true, SignatureNonce = true, Timestamp = true, Signature = true, SecurityToken = true,
  SignatureType = true, ClientToken = true }

local function fingerprint(action, p)
  local keys = {}
  for k in pairs(p) do
    if not NOT_BUSINESS[k] then keys[#keys + 1] = k end
  end
  sort(keys)
  local parts = { action }
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. p[k] end
  return concat(parts, "\0")
end

-- Returns key, fingerprint, stored result (or nil) for a request; raises on
-- a mismatch or while the first request is in flight. key is nil when the
-- action has no ClientToken.
function M.lookup(st, auth, action, p, token)
  if not token or not M.ACTIONS[action] then return nil end
  local key = (auth.access_key_id or "") .. "\0" .. action .. "\0" .. token
  local fp = fingerprint(action, p)
  local prev = st.tokens[key]
  if prev then
    if prev.fingerprint ~= fp then
      errors.raise("IdempotentParameterMismatch",
        "The ClientToken was used before with different parameters; use a new ClientToken.")
    end
    if prev.busy_until and st.clock:real() < prev.busy_until then
      errors.raise("IdempotentProcessing",
        "The request with the same ClientToken is still being processed; try again later.")
    end
    if prev.result == nil then -- the first request failed: not remembered
      st.tokens[key] = nil
      return key, fp, nil
    end
    return key, fp, prev.result
  end
  return key, fp, nil
end

-- Remember the outcome of the first request with a token. result nil: the
-- request failed (remembered only while it is in flight); busy: seconds its
-- answer is held back.
function M.store(st, key, fp, result, busy)
  local busy_until = busy and busy > 0 and st.clock:real() + busy or nil
  if result == nil then
    if busy_until then st.tokens[key] = { fingerprint = fp, busy_until = busy_until } end
    return
  end
  local copy = {}
  for k, v in pairs(result) do copy[k] = v end
  st.tokens[key] = { fingerprint = fp, result = copy, busy_until = busy_until }
end

return M
