-- Byte-level helpers: query parsing, percent-encoding, Base64 and hashing.
-- The C core (ecs.core) is used when it is built; a pure-Lua fallback keeps
-- the parts that need no cryptography usable without it.
local ok_core, core = pcall(require, "ecs.core")
if not ok_core then core = nil end

local char, byte, format, tonumber = string.char, string.byte, string.format, tonumber
local concat, floor = table.concat, math.floor
local type = type

local M = {}

M.core = core

function M.percent_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end

-- Lua fallback of core.parse_query: '+' is a space, last duplicate wins.
local function lua_parse_query(s)
  local t = {}
  for pair in s:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=(.*)$")
    if not k then k, v = pair, "" end
    k = M.percent_decode((k:gsub("%+", " ")))
    v = M.percent_decode((v:gsub("%+", " ")))
    if k ~= "" then t[k] = v end
  end
  return t
end

function M.parse_query(s)
  if s == nil or s == "" then return {} end
  if core then return core.parse_query(s) end
  return lua_parse_query(s)
end

function M.percent_encode(s)
  if core then return core.percent_encode(s) end
  return (s:gsub("[^%w%-_%.~]", function(c) return format("%%%02X", byte(c)) end))
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local b64index = {}
for i = 1, 64 do b64index[b64chars:sub(i, i)] = i - 1 end

local function lua_b64encode(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = byte(s, i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = floor(n / 262144) % 64
    local c2 = floor(n / 4096) % 64
    local c3 = floor(n / 64) % 64
    local c4 = n % 64
    out[#out + 1] = b64chars:sub(c1 + 1, c1 + 1) .. b64chars:sub(c2 + 1, c2 + 1)
      .. (b and b64chars:sub(c3 + 1, c3 + 1) or "=") .. (c and b64chars:sub(c4 + 1, c4 + 1) or "=")
  end
  return concat(out)
end

local function lua_b64decode(s)
  s = s:gsub("%s", "")
  if #s % 4 ~= 0 or s:find("[^%w%+/=]") or s:find("=[^=]") then
    return nil, "not valid Base64"
  end
  local out = {}
  for i = 1, #s, 4 do
    local q = s:sub(i, i + 3)
    local pad = #(q:match("=*$"))
    if pad > 2 then return nil, "not valid Base64" end
    local n = 0
    for j = 1, 4 do
      local ch = q:sub(j, j)
      n = n * 64 + (ch == "=" and 0 or b64index[ch])
    end
    local b1, b2, b3 = floor(n / 65536) % 256, floor(n / 256) % 256, n % 256
    if pad == 0 then out[#out + 1] = char(b1, b2, b3)
    elseif pad == 1 then out[#out + 1] = char(b1, b2)
    else out[#out + 1] = char(b1) end
  end
  return concat(out)
end

function M.base64_encode(s)
  if core then return core.base64_encode(s) end
  return lua_b64encode(s)
end

-- Strict decode: returns the bytes or nil, message.
function M.base64_decode(s)
  if type(s) ~= "string" then return nil, "not a string" end
  if s:find("[^%w%+/=%s]") then return nil, "not valid Base64" end
  if core then
    local v, err = core.base64_decode(s)
    if v == nil then return nil, err or "not valid Base64" end
    return v
  end
  return lua_b64decode(s)
end

-- The signing primitives need the core; callers check M.core first.
function M.require_core()
  if not core then
    error("ecs.emulator: signature checking needs the C core (build/ecs/core.so); "
      .. "build it with cmake, or pass verify_signatures = false", 2)
  end
  return core
end

return M
