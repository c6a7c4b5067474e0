-- Deterministic identifiers (RequestId, InvokeId, CommandId, NextToken
-- salts) from a Park-Miller generator: exact in doubles on every Lua.
local floor, format = math.floor, string.format

local M = {}

local MOD = 2147483647
local MUL = 16807

local Gen = {}
Gen.__index = Gen

function M.new(seed)
  local s = floor(tonumber(seed) or 1) % MOD
  if s <= 0 then s = s + 12345 end
  return setmetatable({ state = s }, Gen)
end

-- Next integer in [1, MOD-1].
function Gen:next()
  self.state = (self.state * MUL) % MOD
  return self.state
end

-- Uniform float in [0, 1).
function Gen:random()
  return (self:next() - 1) / (MOD - 1)
end

function Gen:hex(n)
  local out = {}
  local len = 0
  while len < n do
    local chunk = format("%07x", self:next() % 268435456)
    out[#out + 1] = chunk
    len = len + 7
  end
  return table.concat(out):sub(1, n)
end

function Gen:request_id()
  local h = self:hex(32):upper()
  return h:sub(1, 8) .. "-" .. h:sub(9, 12) .. "-" .. h:sub(13, 16) .. "-" .. h:sub(17, 20) .. "-" .. h:sub(21, 32)
end

return M
