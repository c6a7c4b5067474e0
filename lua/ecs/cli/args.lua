--- Command-line parsing for `ecs`: option tables in, option values and
-- positional arguments out. A bad command line raises a usage error (a table
-- { usage = message }) that the front end turns into a short help and exit 2.
local ipairs, pairs, tonumber, tostring, error, select = ipairs, pairs, tonumber, tostring, error, select
local format = string.format
local math_floor = math.floor

local M = {}

local Usage = {}
Usage.__index = Usage
Usage.__tostring = function(e) return "usage error: " .. e.usage end

--- usage(message): raises a usage error.
function M.usage(msg, ...)
  if select("#", ...) > 0 then msg = format(msg, ...) end
  error(setmetatable({ usage = msg }, Usage), 0)
end

function M.is_usage(e)
  return getmetatable(e) == Usage
end

-- Options every subcommand that talks to the service takes.
M.COMMON = {
  { "--region", arg = "REGION", help = "region ID (default: $ALIBABA_CLOUD_REGION_ID)" },
  { "--endpoint", arg = "URL", help = "service endpoint, e.g. http://127.0.0.1:8080 for the emulator" },
  { "--profile", arg = "NAME", help = "credentials profile (default: $ALIBABA_CLOUD_PROFILE, else 'default')" },
  { "--signature", arg = "v3|v2", choices = { v3 = true, v2 = true },
    help = "signature version (default v3)" },
  { "--json", kind = "flag", help = "print one JSON document on stdout and nothing else" },
  { "--no-progress", kind = "flag", help = "no live progress line or per-instance lines" },
}

local function key_of(o)
  return o.key or o[1]:gsub("^%-%-", ""):gsub("%-", "_")
end
M.key_of = key_of

local function convert(o, name, v)
  local kind = o.kind or "string"
  if o.choices and not o.choices[v] then
    local list = {}
    for c in pairs(o.choices) do list[#list + 1] = c end
    table.sort(list)
    M.usage("%s: '%s' is not one of %s", name, v, table.concat(list, ", "))
  end
  if kind == "int" or kind == "number" then
    local n = tonumber(v)
    if not n or n ~= n or n < (o.min or 0) or (o.max and n > o.max) or (kind == "int" and n ~= math_floor(n)) then
      M.usage("%s: expected %s%s%s, got '%s'", name, kind == "int" and "a whole number" or "a number",
        o.min and (" >= " .. o.min) or " >= 0", o.max and (" and <= " .. o.max) or "", tostring(v))
    end
    return n
  end
  if v == "" and not o.empty then M.usage("%s: needs a non-empty value", name) end
  return v
end

--- parse(argv, options, first) -> values, positional
-- options: list of { "--long", short = "-x", arg = "NAME", kind = "flag"|"string"|"int"|"number"|"list",
--   key = "field", choices = { ... }, min =, max = }. "list" options repeat and collect.
-- Everything after "--" is positional. "-" alone is positional.
function M.parse(argv, options, first)
  local by_name = {}
  for _, o in ipairs(options) do
    by_name[o[1]] = o
    if o.short then by_name[o.short] = o end
  end
  local values, positional = {}, {}
  local i = first or 1
  local rest = false
  while i <= #argv do
    local a = argv[i]
    if rest or a == "-" or a:sub(1, 1) ~= "-" then
      positional[#positional + 1] = a
    elseif a == "--" then
      rest = true
    else
      local name, inline = a:match("^(%-%-[^=]+)=(.*)$")
      name = name or a
      local o = by_name[name]
      if not o then M.usage("unknown option '%s'", name) end
      local key = key_of(o)
      if o.kind == "flag" then
        if inline then M.usage("%s takes no value", name) end
        values[key] = true
      else
        local v = inline
        if v == nil then
          i = i + 1
          v = argv[i]
          if v == nil then M.usage("%s needs a value (%s)", name, o.arg or "VALUE") end
        end
        if o.kind == "list" then
          local list = values[key] or {}
          list[#list + 1] = convert(o, name, v)
          values[key] = list
        else
          if values[key] ~= nil then M.usage("%s given twice", name) end
          values[key] = convert(o, name, v)
        end
      end
    end
    i = i + 1
  end
  return values, positional
end

--- merge(a, b): a list with the options of a then those of b.
function M.merge(a, b)
  local out = {}
  for _, o in ipairs(a) do out[#out + 1] = o end
  for _, o in ipairs(b or {}) do out[#out + 1] = o end
  return out
end

--- ids(list) -> the IDs of a repeatable ID[,ID...] option, in order (nil when not given).
function M.ids(list)
  if list == nil then return nil end
  local out = {}
  for _, v in ipairs(list) do
    for x in v:gmatch("[^,%s]+") do out[#out + 1] = x end
  end
  return out
end

--- key=value (for --tag and --param); raises a usage error naming the option.
function M.key_value(name, s)
  local k, v = tostring(s):match("^([^=]+)=(.*)$")
  if not k or k == "" then M.usage("%s: expected KEY=VALUE, got '%s'", name, tostring(s)) end
  return k, v
end

return M
