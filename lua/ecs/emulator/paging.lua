-- Paging of Describe* results: NextToken/MaxResults (preferred) or the
-- deprecated PageNumber/PageSize. The last page is always reachable.
local errors = require "ecs.emulator.errors"
local codec = require "ecs.emulator.codec"

local tonumber, floor = tonumber, math.floor

local M = {}

local function int_param(p, name)
  local v = p[name]
  if v == nil or v == "" then return nil end
  local n = tonumber(v)
  if not n or floor(n) ~= n then errors.invalid(name, "an integer is required") end
  return n
end

function M.token(offset)
  return codec.base64_encode("emu-offset:" .. offset)
end

local function untoken(tok)
  local raw = codec.base64_decode(tok)
  local n = raw and raw:match("^emu%-offset:(%d+)$")
  if not n then
    errors.raise("InvalidParameter.NextToken", "The specified parameter \"NextToken\" is not valid.")
  end
  return tonumber(n)
end

-- rules: { max = 50, default = 10, clamp = false (DescribeInstances clamps), min_clamp = nil }
-- Returns page (list), fields (table to merge into the response).
function M.page(list, p, rules)
  local max, default = rules.max or 50, rules.default or 10
  local total = #list
  local token_mode = (p.NextToken ~= nil and p.NextToken ~= "") or (p.MaxResults ~= nil and p.MaxResults ~= "")
  local first, size, fields
  if token_mode then
    size = int_param(p, "MaxResults") or default
    if rules.clamp then
      if size < (rules.min_clamp or 1) then size = rules.min_clamp or default end
      if size > max then size = max end
    elseif size < 1 or size > max then
      errors.invalid("MaxResults", "must be between 1 and " .. max)
    end
    first = 1
    if p.NextToken ~= nil and p.NextToken ~= "" then first = untoken(p.NextToken) + 1 end
    fields = { PageSize = size }
  else
    local number = int_param(p, "PageNumber") or 1
    size = int_param(p, "PageSize") or default
    if number < 1 then errors.invalid("PageNumber", "must be 1 or more") end
    if rules.clamp then
      if size < 1 then size = default end
      if size > max then size = max end
    elseif size < 1 or size > max then
      errors.invalid("PageSize", "must be between 1 and " .. max)
    end
    first = (number - 1) * size + 1
    fields = { PageNumber = number, PageSize = size }
  end
  local page = {}
  for i = first, first + size - 1 do
    if list[i] == nil then break end
    page[#page + 1] = list[i]
  end
  local last = first + size - 1
  fields.TotalCount = total
  fields.NextToken = last < total and M.token(last) or ""
  return page, fields
end

return M
