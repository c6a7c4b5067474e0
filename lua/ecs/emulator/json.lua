-- JSON for the emulator on top of lua-cjson: explicit arrays (an empty list
-- marked with json.array() encodes as []), a fast encoder for answers and a
-- deterministic one (object keys sorted) for tests and logs.
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

local find = string.find

local function encode_string(s)
  if not find(s, '[%c"\\]') then return '"' .. s .. '"' end
  return '"' .. s:gsub('[%c"\\]', escape_char) .. '"'
end

local function is_array(t)
  if getmetatable(t) == array_mt then return true end
  return t[1] ~= nil
end

local encode_value

local mtype = math.type

local function encode_number(n)
  if mtype and mtype(n) == "integer" then return tostring(n) end
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

-- Deterministic encoding: object keys sorted.
function M.encode_sorted(v)
  local buf = {}
  encode_value(v, buf)
  return concat(buf)
end

local encoder = cjson.new()
pcall(encoder.encode_max_depth, 64)
local EMPTY = "\0emu:empty-array\0"
local EMPTY_JSON = '\\u0000emu:empty-array\\u0000"' -- as cjson writes it, after the opening quote

-- Replace empty marked arrays by a sentinel cjson can encode, in place (the
-- answers are built fresh for every request).
local function mark_empty(t, depth)
  if depth > 64 then error("json: nesting too deep", 0) end
  for k, v in pairs(t) do
    if type(v) == "table" then
      if getmetatable(v) == array_mt and v[1] == nil then
        t[k] = EMPTY
      else
        mark_empty(v, depth + 1)
      end
    end
  end
end

-- Fast encoding for answers (key order unspecified).
function M.encode(v)
  if type(v) ~= "table" then return M.encode_sorted(v) end
  if getmetatable(v) == array_mt and v[1] == nil then return "[]" end
  mark_empty(v, 0)
  local ok, s = pcall(encoder.encode, v)
  if not ok then error("json: " .. tostring(s), 0) end
  if find(s, "\\/", 1, true) then s = s:gsub("\\/", "/") end -- cjson writes / as \/
  local i = find(s, EMPTY_JSON, 1, true)
  if not i then return s end
  local out, pos = {}, 1
  while i do
    out[#out + 1] = s:sub(pos, i - 2)
    out[#out + 1] = "[]"
    pos = i + #EMPTY_JSON
    i = find(s, EMPTY_JSON, pos, true)
  end
  out[#out + 1] = s:sub(pos)
  return concat(out)
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
