--- Output formatting for `ecs`: aligned tables, per-instance result rows,
-- JSON views of reports, and signed requests with every secret masked.
local json = require "ecs.cli.json"

local type, pairs, ipairs, tostring = type, pairs, ipairs, tostring
local format, concat, rep = string.format, table.concat, string.rep

local M = {}

M.MASK = "****"

--- first_line(text, max) -> the first non-empty line of text, cut to max characters.
function M.first_line(text, max)
  if type(text) ~= "string" then return "" end
  local line = text:match("^%s*([^\r\n]*)") or ""
  line = line:gsub("%c", " ")
  max = max or 60
  if #line > max then line = line:sub(1, max - 3) .. "..." end
  return line
end

--- table(rows, headers) -> text: columns padded to their widest cell.
function M.table(headers, rows)
  local widths = {}
  for i, h in ipairs(headers) do widths[i] = #h end
  for _, r in ipairs(rows) do
    for i = 1, #headers do
      local s = tostring(r[i] == nil and "" or r[i])
      r[i] = s
      if #s > widths[i] then widths[i] = #s end
    end
  end
  local lines = {}
  local function line(cells)
    local parts = {}
    for i = 1, #headers do
      local s = cells[i]
      parts[i] = i < #headers and (s .. rep(" ", widths[i] - #s)) or s
    end
    lines[#lines + 1] = (concat(parts, "  "):gsub("%s+$", ""))
  end
  line(headers)
  for _, r in ipairs(rows) do line(r) end
  return concat(lines, "\n") .. "\n"
end

--- exit_text(r) -> the exit code as text, or "-".
local function exit_text(r)
  if type(r.exit_code) == "number" then return format("%d", r.exit_code) end
  return "-"
end
M.exit_text = exit_text

--- result_row(r) -> { instance, class, status, exit, first line of output (or the error) }
function M.result_row(r)
  local text = M.first_line(r.output)
  if text == "" and r.error_code then
    text = r.error_code .. (r.error_info and (": " .. M.first_line(r.error_info, 50)) or "")
  end
  return { r.InstanceId, r.class or "running", r.status or "", exit_text(r), text }
end

M.RESULT_HEADERS = { "INSTANCE", "CLASS", "STATUS", "EXIT", "OUTPUT" }

--- results_table(order, results) -> text
function M.results_table(order, results)
  local rows = {}
  for _, id in ipairs(order) do
    local r = results[id]
    if r then rows[#rows + 1] = M.result_row(r) end
  end
  return M.table(M.RESULT_HEADERS, rows)
end

--- counts_text(counts) -> "3 success, 1 failed" (classes with a count above 0).
function M.counts_text(c, classes)
  local parts = {}
  for _, k in ipairs(classes or { "success", "failed", "timeout", "cancelled", "infra", "skipped",
                                  "not_launched" }) do
    local n = c[k]
    if type(n) == "number" and n > 0 then parts[#parts + 1] = format("%d %s", n, (k:gsub("_", " "))) end
  end
  if #parts == 0 then return "nothing" end
  return concat(parts, ", ")
end

local RESULT_KEYS = { "InstanceId", "InvokeId", "class", "status", "exit_code", "output", "error_code",
                      "error_info", "dropped", "start_time", "finish_time" }

--- result_json(r) -> a plain table of the result's documented fields.
function M.result_json(r)
  local o = {}
  for _, k in ipairs(RESULT_KEYS) do
    local v = r[k]
    if v ~= nil and type(v) ~= "userdata" then o[k] = v end
  end
  return o
end

--- results_json(order, results) -> a JSON list of result records, in order.
function M.results_json(order, results)
  local list = json.array()
  for _, id in ipairs(order) do
    if results[id] then list[#list + 1] = M.result_json(results[id]) end
  end
  return list
end

--- skipped_json(list) -> a JSON list of { InstanceId, reason, message }.
function M.skipped_json(list)
  local out = json.array()
  for _, s in ipairs(list or {}) do
    out[#out + 1] = { InstanceId = s.InstanceId, reason = s.reason, message = s.message }
  end
  return out
end

function M.ids_json(list)
  local out = json.array()
  for i, v in ipairs(list or {}) do out[i] = v end
  return out
end

-- ------------------------------------------------------------------ masking

local SECRET_PARAMS = { Signature = true, SecurityToken = true, AccessKeySecret = true }
local SECRET_HEADERS = { ["x-acs-security-token"] = true }

local function mask_body(body)
  if type(body) ~= "string" then return body end
  local parts = {}
  for pair in body:gmatch("[^&]+") do
    local k = pair:match("^([^=]*)")
    if SECRET_PARAMS[k] then pair = k .. "=" .. M.MASK end
    parts[#parts + 1] = pair
  end
  return concat(parts, "&")
end

local function mask_query(url)
  if type(url) ~= "string" then return url end
  local base, q = url:match("^([^?]*)%?(.*)$")
  if not base then return url end
  return base .. "?" .. mask_body(q)
end

--- mask_request(req, scrub) -> a copy of a signed request { method, url, headers, body }
-- with the signature, the security token and every secret `scrub` knows masked.
-- The Authorization header keeps its algorithm, credential and signed headers.
function M.mask_request(req, scrub)
  scrub = scrub or function(s) return s end
  local out = { method = req.method, url = scrub(mask_query(req.url)), headers = {}, body = scrub(mask_body(req.body)) }
  for k, v in pairs(req.headers or {}) do
    local name = tostring(k):lower()
    v = tostring(v)
    if name == "authorization" then
      local alg = v:match("^(%S+)")
      local cred = v:match("Credential=([^,%s]*)")
      local signed = v:match("SignedHeaders=([^,%s]*)")
      if alg and cred and signed then
        v = format("%s Credential=%s,SignedHeaders=%s,Signature=%s", alg, cred, signed, M.MASK)
      else
        v = M.MASK
      end
    elseif SECRET_HEADERS[name] then
      v = M.MASK
    end
    out.headers[name] = scrub(v)
  end
  return out
end

--- request_text(req) -> the request as lines (method and URL, sorted headers, body).
function M.request_text(req)
  local lines = { format("%s %s", tostring(req.method or "POST"), tostring(req.url)) }
  local names = {}
  for k in pairs(req.headers or {}) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do lines[#lines + 1] = format("%s: %s", k, req.headers[k]) end
  lines[#lines + 1] = ""
  lines[#lines + 1] = tostring(req.body or "")
  return concat(lines, "\n") .. "\n"
end

return M
