-- Fault injection: rules that throttle, fail, delay or drop requests, in a
-- deterministic ("the first N requests") or seeded random form.
local ids = require "ecs.emulator.ids"
local json = require "ecs.emulator.json"

local type, ipairs, pairs, error, tostring = type, ipairs, pairs, error, tostring
local floor = math.floor

local M = {}

M.KINDS = {
  throttle = true,     -- 400 Throttling.User with x-acs-retry-after (ms)
  error500 = true,     -- 500 InternalError, action not run
  error503 = true,     -- 503 ServiceUnavailable, action not run
  delay = true,        -- action runs, answer delayed by `delay` seconds
  drop_before = true,  -- connection closed, action not run
  drop_after = true,   -- action runs, connection closed without an answer
}

local FIELDS = { kind = true, action = true, first = true, skip = true, probability = true,
  limit = true, delay = true, retry_after = true }

local function bad(i, msg)
  error("ecs.emulator: fault rule " .. i .. ": " .. msg, 0)
end

local function count(i, rule, name)
  local v = rule[name]
  if v ~= nil and (type(v) ~= "number" or v < 0 or floor(v) ~= v) then
    bad(i, "'" .. name .. "' must be a non-negative integer")
  end
end

-- Validate and copy one rule; raises naming the problem.
local function normalize(i, src)
  if type(src) ~= "table" then bad(i, "must be a table, got " .. type(src)) end
  local rule = {}
  for k, v in pairs(src) do
    if not FIELDS[k] then bad(i, "unknown field '" .. tostring(k) .. "'") end
    if v ~= json.null then rule[k] = v end
  end
  if not M.KINDS[rule.kind] then
    bad(i, "'kind' must be one of throttle, error500, error503, delay, drop_before, drop_after (got "
      .. tostring(rule.kind) .. ")")
  end
  local actions
  if type(rule.action) == "string" then
    actions = { [rule.action] = true }
  elseif type(rule.action) == "table" then
    actions = {}
    for _, a in ipairs(rule.action) do
      if type(a) ~= "string" then bad(i, "'action' list must hold strings") end
      actions[a] = true
    end
  elseif rule.action ~= nil then
    bad(i, "'action' must be a string or a list of strings")
  end
  count(i, rule, "first"); count(i, rule, "skip"); count(i, rule, "limit"); count(i, rule, "retry_after")
  local p = rule.probability
  if p ~= nil and (type(p) ~= "number" or p < 0 or p > 1) then
    bad(i, "'probability' must be a number between 0 and 1")
  end
  if p ~= nil and rule.first ~= nil then
    bad(i, "give either 'first' (deterministic) or 'probability' (random), not both")
  end
  local d = rule.delay
  if d ~= nil and (type(d) ~= "number" or d < 0) then bad(i, "'delay' must be a non-negative number") end
  return {
    kind = rule.kind, action = rule.action, actions = actions, first = rule.first,
    skip = rule.skip or 0, probability = p, limit = rule.limit,
    delay = d or (rule.kind == "delay" and 1 or nil),
    retry_after = rule.retry_after or (rule.kind == "throttle" and 1000 or nil),
    seen = 0, fired = 0,
  }
end

local Faults = {}
Faults.__index = Faults

function M.new(rules, seed)
  local f = setmetatable({ rules = {}, rng = ids.new(seed or 1) }, Faults)
  if rules ~= nil then f:set(rules) end
  return f
end

function M.validate(rules)
  if type(rules) == "table" and rules[1] == nil and type(rules.rules) == "table" then rules = rules.rules end
  if type(rules) ~= "table" or (next(rules) ~= nil and rules[1] == nil) then
    error("ecs.emulator: faults must be a list of rules, got " .. (type(rules) == "table" and "an object"
      or type(rules)), 0)
  end
  local out = {}
  for i, r in ipairs(rules) do out[i] = normalize(i, r) end
  return out
end

-- Replace all rules (validated first: a bad list changes nothing).
function Faults:set(rules)
  self.rules = M.validate(rules)
end

function Faults:add(rules)
  local new = M.validate(rules)
  for _, r in ipairs(new) do self.rules[#self.rules + 1] = r end
end

function Faults:clear()
  self.rules = {}
end

-- Decide the fault for one authenticated request of `action`.
-- Returns the firing rule or nil. Rules are tried in order; each counts the
-- matching requests that reach it, and the first rule that fires wins (the
-- rules after it do not see that request).
function Faults:pick(action)
  for _, r in ipairs(self.rules) do
    if r.actions == nil or r.actions[action] then
      r.seen = r.seen + 1
      local fires
      if r.seen <= r.skip then
        fires = false
      elseif r.first ~= nil then
        fires = r.seen - r.skip <= r.first
      elseif r.probability ~= nil then
        fires = self.rng:random() < r.probability
      else
        fires = true
      end
      if fires and r.limit ~= nil and r.fired >= r.limit then fires = false end
      if fires then
        r.fired = r.fired + 1
        return r
      end
    end
  end
  return nil
end

-- Rules as plain data, with their counters (for the admin endpoint).
function Faults:list()
  local out = json.array()
  for i, r in ipairs(self.rules) do
    local action = r.action
    if type(action) == "table" then
      action = json.array()
      for j, a in ipairs(r.action) do action[j] = a end
    end
    out[i] = { kind = r.kind, action = action, first = r.first, skip = r.skip,
      probability = r.probability, limit = r.limit, delay = r.delay,
      retry_after = r.retry_after, seen = r.seen, fired = r.fired }
  end
  return out
end

return M
