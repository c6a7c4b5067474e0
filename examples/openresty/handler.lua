--- The OpenResty example: POST /invoke and GET /invocations/{id} in front of
-- Cloud Assistant. One ecs client per nginx worker, built on the first
-- request (nothing touches the network at require time). Every answer is
-- JSON: the service's result, or the error object with a fitting status.
-- luacheck: globals ngx
local ecs = require "ecs"
local cjson = require("cjson.safe").new()

local type, pairs, pcall, tostring, os_getenv = type, pairs, pcall, tostring, os.getenv

local M = {}

local client

local function logger(ev)
  -- events carry no secrets; they go to nginx's error log at info level
  ngx.log(ngx.INFO, "ecs ", ev.event, " action=", ev.action or "-", " attempt=", ev.attempt or "-",
    " code=", ev.code or "-", " delay=", ev.delay or "-", " request_id=", ev.request_id or "-",
    ev.message and (" message=" .. tostring(ev.message)) or "")
end

--- The worker's client (environment: ECS_ENDPOINT, ALIBABA_CLOUD_REGION_ID,
-- ECS_SIGNATURE_VERSION, ECS_TLS_SERVER_NAME and the ALIBABA_CLOUD_*
-- credential variables).
function M.client()
  if not client then
    local endpoint = os_getenv("ECS_ENDPOINT")
    local server_name = os_getenv("ECS_TLS_SERVER_NAME")
    client = ecs.new {
      region = os_getenv("ALIBABA_CLOUD_REGION_ID") or "cn-hangzhou",
      endpoint = endpoint ~= "" and endpoint or nil,
      signature_version = os_getenv("ECS_SIGNATURE_VERSION") or "v3",
      retry = { attempts = 4, base_delay = 0.1, max_delay = 5, max_time = 20 },
      logger = logger,
      -- the name the TLS certificate is checked against (default: the endpoint's host)
      ngx = { server_name = server_name ~= "" and server_name or nil },
    }
  end
  return client
end

local function reply(status, body)
  local text = cjson.encode(body) .. "\n"
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Content-Length"] = #text
  ngx.print(text)
  return ngx.exit(status)
end

-- the error object as JSON, secret-free by construction
local function error_body(err)
  return { code = err.code, message = err.message, request_id = err.request_id, http_status = err.http_status,
           retryable = err.retryable, attempts = err.attempts, action = err.action }
end

local function status_for(err)
  if err["local"] then return 400 end
  local st = err.http_status
  if type(st) == "number" and st >= 400 then return st end
  local code = tostring(err.code)
  if code == "Network.Timeout" then return 504 end
  if code:sub(1, 8) == "Network." or code:sub(1, 9) == "Response." then return 502 end
  return 500
end

local function bad_input(msg)
  return reply(400, { code = "InvalidInput", message = msg, retryable = false })
end

local function read_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body then return body end
  local path = ngx.req.get_body_file()
  if not path then return nil end
  local f = io.open(path, "rb")
  if not f then return nil end
  body = f:read("*a")
  f:close()
  return body
end

local SCALAR = { string = true, number = true, boolean = true }

-- InvokeCommand parameters under the service's names; nil, message when bad
local function check_invoke(p)
  if type(p) ~= "table" or p[1] ~= nil then return nil, "expected a JSON object of InvokeCommand parameters" end
  for k, v in pairs(p) do
    if type(k) ~= "string" then return nil, "parameter names must be strings" end
    if v == cjson.null then return nil, ("'%s' is null"):format(k) end
    if not SCALAR[type(v)] and k ~= "InstanceId" and k ~= "Parameters" and k ~= "ResourceTag"
       and k ~= "Tag" and k ~= "ContainerId" then
      return nil, ("'%s' must be a string, number or boolean"):format(k)
    end
  end
  if type(p.CommandId) ~= "string" or p.CommandId == "" then return nil, "'CommandId' is required (a string)" end
  local ids = p.InstanceId
  if ids ~= nil then
    if type(ids) ~= "table" or #ids == 0 then return nil, "'InstanceId' must be a non-empty list of IDs" end
    for i, id in pairs(ids) do
      if type(i) ~= "number" or type(id) ~= "string" then return nil, "'InstanceId' must be a list of strings" end
    end
  elseif p.ResourceTag == nil then
    return nil, "give 'InstanceId' (a list) or 'ResourceTag'"
  end
  if p.Parameters ~= nil and (type(p.Parameters) ~= "table" or p.Parameters[1] ~= nil) then
    return nil, "'Parameters' must be an object"
  end
  return p
end

--- POST /invoke
function M.invoke()
  if ngx.req.get_method() ~= "POST" then
    ngx.header["Allow"] = "POST"
    return reply(405, { code = "MethodNotAllowed", message = "use POST", retryable = false })
  end
  local body = read_body()
  if not body or body == "" then return bad_input("expected a JSON object of InvokeCommand parameters") end
  local params, jerr = cjson.decode(body)
  if params == nil then return bad_input("the body is not JSON: " .. tostring(jerr)) end
  local p, msg = check_invoke(params)
  if not p then return bad_input(msg) end
  local ok, res, err = pcall(M.client().invoke_command, M.client(), p)
  if not ok then return bad_input(tostring(res):gsub("^[^:]*:%d+: ", "")) end
  if not res then return reply(status_for(err), error_body(err)) end
  return reply(200, { InvokeId = res.InvokeId, RequestId = res.RequestId })
end

--- GET /invocations/{id}: DescribeInvocationResults for one InvokeId
function M.invocation(id)
  if ngx.req.get_method() ~= "GET" then
    ngx.header["Allow"] = "GET"
    return reply(405, { code = "MethodNotAllowed", message = "use GET", retryable = false })
  end
  if type(id) ~= "string" or not id:match("^t%-[%w%-]+$") or #id > 64 then
    return bad_input("bad invocation ID: expected 't-...'")
  end
  local res, err = M.client():describe_invocation_results { InvokeId = id }
  if not res then return reply(status_for(err), error_body(err)) end
  local inv = type(res.Invocation) == "table" and res.Invocation.InvocationResults
  local list = type(inv) == "table" and inv.InvocationResult
  if type(list) ~= "table" or #list == 0 then
    return reply(404, { code = "InvalidInvokeId.NotFound", message = "no invocation " .. id .. " in this region",
                        request_id = res.RequestId, retryable = false })
  end
  return reply(200, res)
end

return M
