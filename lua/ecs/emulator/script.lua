-- The script model: a command's content is read line by line.
--   echo TEXT            writes TEXT and a newline (Write-Output/Write-Host too)
--   sleep N              takes N seconds (Start-Sleep [-Seconds] N, timeout /t N too)
--   exit N               ends the script with exit code N
-- Other lines take no time and write nothing. {{name}} placeholders are
-- substituted first when the command has parameters enabled.
local tonumber, ipairs, type, floor = tonumber, ipairs, type, math.floor

local M = {}

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- Names of the custom parameters used in content, in order of appearance.
-- Returns names (list) or nil, code, message for a malformed placeholder.
function M.parameter_names(content)
  local names, seen = {}, {}
  for inner in content:gmatch("{{(.-)}}") do
    local name = trim(inner)
    if name == "" then
      return nil, "CmdParam.EmptyKey", "A parameter placeholder {{}} has an empty name."
    end
    if not name:find("^[Aa][Cc][Ss]::") then
      if name:find("[^%w_%-]") then
        return nil, "CmdParam.InvalidParamName",
          "The parameter name \"" .. name .. "\" may only contain letters, digits, '_' and '-'."
      end
      if #name > 64 then
        return nil, "CmdParamName.ExceedLimit", "The parameter name \"" .. name:sub(1, 16) .. "...\" is longer than 64."
      end
      local key = name:lower()
      if not seen[key] then
        seen[key] = true
        names[#names + 1] = name
      end
    end
  end
  return names
end

-- Replace {{name}} by values[name] and {{ACS::X}} by builtins[X].
function M.substitute(content, values, builtins)
  return (content:gsub("{{(.-)}}", function(inner)
    local name = trim(inner)
    local acs = name:match("^[Aa][Cc][Ss]::(.+)$")
    if acs then
      local v = builtins and builtins[acs]
      if v ~= nil then return v end
      return nil
    end
    local v = values and values[name]
    if type(v) == "string" then return v end
    return nil
  end))
end

local function unquote(s)
  local q = s:sub(1, 1)
  if (q == '"' or q == "'") and #s >= 2 and s:sub(-1) == q then
    return s:sub(2, -2)
  end
  return s
end

local function sleep_seconds(line)
  local n = line:match("^sleep%s+([%d%.]+)s?$")
    or line:match("^Start%-Sleep%s+%-Seconds%s+([%d%.]+)$")
    or line:match("^Start%-Sleep%s+%-s%s+([%d%.]+)$")
    or line:match("^Start%-Sleep%s+([%d%.]+)$")
    or line:match("^timeout%s+/t%s+(%d+)")
  return n and tonumber(n)
end

-- Interpret the (substituted) script. Returns
-- { events = { {at = seconds, text = "..."} ... }, exit_code = n, duration = seconds }
function M.run(text)
  local events, now, exit_code = {}, 0, 0
  for raw in (text .. "\n"):gmatch("([^\n]*)\n") do
    local line = trim(raw:gsub("\r$", ""))
    if line ~= "" and line:sub(1, 1) ~= "#" then
      local echo = line:match("^echo$") and "" or line:match("^echo%s+(.*)$")
        or line:match("^Write%-Output%s+(.*)$") or line:match("^Write%-Host%s+(.*)$")
        or line:match("^@?echo%s+(.*)$")
      if echo then
        echo = trim(echo:gsub("%s*1?>&2$", ""))
        if echo:lower() ~= "off" or not line:find("^@") then
          events[#events + 1] = { at = now, text = unquote(echo) .. "\n" }
        end
      else
        local secs = sleep_seconds(line)
        if secs then
          now = now + secs
        else
          local code = line:match("^exit%s+(%-?%d+)$") or line:match("^exit$") and "0"
            or line:match("^exit%s+/b%s+(%-?%d+)$")
          if code then
            exit_code = floor(tonumber(code))
            break
          end
        end
      end
    end
  end
  return { events = events, exit_code = exit_code, duration = now }
end

-- Output written before `cutoff` seconds into the run (all when nil).
function M.output(result, cutoff)
  local parts = {}
  for _, e in ipairs(result.events) do
    if cutoff == nil or e.at < cutoff then parts[#parts + 1] = e.text end
  end
  return table.concat(parts)
end

return M
