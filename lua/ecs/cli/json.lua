--- A small JSON writer for the command line's --json documents: object keys
-- sorted, lists marked with json.array() so an empty list prints as [],
-- ecs.null (and json.null) as null. Numbers that are whole print without a
-- fraction on every Lua version.
local type, pairs, ipairs, tostring, tonumber, setmetatable, getmetatable = type, pairs, ipairs, tostring, tonumber,
  setmetatable, getmetatable
local format, concat, sort = string.format, table.concat, table.sort
local math_floor, math_huge = math.floor, math.huge

local M = {}

local ARRAY = {}
M.null = setmetatable({}, { __tostring = function() return "null" end })

--- array(t) -> t, marked to print as a JSON list (also when empty).
function M.array(t)
  return setmetatable(t or {}, ARRAY)
end

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
              ["\r"] = "\\r", ["\t"] = "\\t" }

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESC[c] or format("\\u%04x", c:byte())
  end) .. '"'
end

local function is_list(t)
  if getmetatable(t) == ARRAY then return true end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n > 0 and n == #t
end

local encode

local function number(v)
  if v ~= v or v == math_huge or v == -math_huge then return "null" end
  if v == math_floor(v) and v > -1e15 and v < 1e15 then return format("%d", v) end
  return format("%.14g", v)
end

function encode(v, out, depth)
  local t = type(v)
  if v == nil or v == M.null then
    out[#out + 1] = "null"
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "number" then
    out[#out + 1] = number(v)
  elseif t == "string" then
    out[#out + 1] = quote(v)
  elseif t == "table" then
    if depth > 64 then error("json: nesting too deep", 0) end
    if is_list(v) then
      out[#out + 1] = "["
      for i, x in ipairs(v) do
        if i > 1 then out[#out + 1] = "," end
        encode(x, out, depth + 1)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k, x in pairs(v) do
        if type(x) ~= "function" then keys[#keys + 1] = tostring(k) end
      end
      sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = quote(k)
        out[#out + 1] = ":"
        local x = v[k]
        if x == nil then x = v[tonumber(k)] end
        encode(x, out, depth + 1)
      end
      out[#out + 1] = "}"
    end
  else
    out[#out + 1] = "null"   -- userdata null of the core, functions
  end
end

--- encode(value) -> JSON text.
function M.encode(v)
  local out = {}
  encode(v, out, 0)
  return concat(out)
end

return M
