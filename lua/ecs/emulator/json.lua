-- JSON for the emulator: a deterministic encoder (object keys sorted, explicit
-- arrays) and a decoder on top of lua-cjson.
local cjson = require "cjson"

local type, pairs, ipairs, tostring = type, pairs, ipairs, tostring
local concat, sort, format = table.concat, table.sort, string.format
local floor, huge = math.floor, math.huge
local setmetatable, getmetatable = setmetatable, getmetatable

local M = {}

local array_mt = { __json_array = true }

-- Mark a table as a JSON array (so that an empty list encodes as []).
function M.array(t)
  return setmetatable(t or {}, array_mt)
end

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

local function escape_char(c)
  return escapes[c] or format("\\u%04x", c:byte())
end

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', escape_char) .. '"'
end

local function is_array(t)
  if getmetatable(t) == array_mt then return true end
  return t[1] ~= nil
end

local encode_value

local function encode_number(n)
  if n ~= n or n == huge or n == -huge then
    error("json: cannot encode a NaN or infinite number", 0)
  end
  if floor(n) == n and n > -2^53 and n < 2^53 then
    return format("%.0f", n)
  end
  return format("%.14g", n)
end

function encode_value(v, buf)
  local t = type(v)
  if t == "string" then
    buf[#buf + 1] = encode_string(v)
  elseif t == "number" then
    buf[#buf + 1] = encode_number(v)
  elseif t == "boolean" then
    buf[#buf + 1] = tostring(v)
  elseif t == "nil" or v == cjson.null then
    buf[#buf + 1] = "null"
  elseif t == "table" then
    if is_array(v) then
      buf[#buf + 1] = "["
      for i, x in ipairs(v) do
        if i > 1 then buf[#buf + 1] = "," end
        encode_value(x, buf)
      end
      buf[#buf + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do
        if type(k) ~= "string" then
          error("json: object key must be a string, got " .. type(k), 0)
        end
        keys[#keys + 1] = k
      end
      sort(keys)
      buf[#buf + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then buf[#buf + 1] = "," end
        buf[#buf + 1] = encode_string(k)
        buf[#buf + 1] = ":"
        encode_value(v[k], buf)
      end
      buf[#buf + 1] = "}"
    end
  else
    error("json: cannot encode a " .. t, 0)
  end
end

function M.encode(v)
  local buf = {}
  encode_value(v, buf)
  return concat(buf)
end

local decoder = cjson.new()
pcall(decoder.decode_max_depth, 64)

-- Decode JSON text. Returns value or nil, message.
function M.decode(s)
  if type(s) ~= "string" then return nil, "expected a JSON string" end
  local ok, v = pcall(decoder.decode, s)
  if not ok then return nil, tostring(v) end
  return v
end

M.null = cjson.null

return M
