--- Endpoint resolution (reference §5): an explicit endpoint wins; else the
-- regional host, its VPC form with network = "vpc", or the central host for
-- the regions the SDK endpoint maps send there.
local type, tostring, tonumber = type, tostring, tonumber

local M = {}

-- regions the SDK endpoint maps send to the central endpoint
M.CENTRAL = {
  ["cn-hangzhou-finance"] = true, ["cn-shanghai-inner"] = true, ["cn-north-2-gov-1"] = true,
  ["cn-wuhan"] = true, ["cn-zhangbei"] = true, ["cn-yushanfang"] = true, ["rus-west-1-pop"] = true,
  ["ap-northeast-2-pop"] = true, ["cn-beijing-finance-pop"] = true, ["cn-hongkong-finance-pop"] = true,
}

M.CENTRAL_HOST = "ecs.aliyuncs.com"

--- Whether s is a well-formed region ID (letters, digits, '-', '_'; at most 64).
function M.valid_region(region)
  return type(region) == "string" and region:match("^[%w_%-]+$") ~= nil and #region <= 64
end

-- the endpoint as quoted in a message: its first 40 bytes
local function q(ep)
  if #ep > 40 then ep = ep:sub(1, 40) .. "..." end
  return ep
end

local EXAMPLE = "expected a URL such as https://ecs.cn-hangzhou.aliyuncs.com"

-- host[:port] of a URL: a DNS name or IPv4 address, or [IPv6]; the port 1-65535
local function valid_authority(a)
  local host, port = a:match("^(%[[%x:.]+%])(.*)$")
  if not host then host, port = a:match("^([%w%.%-_]+)(.*)$") end
  if not host or host:match("^[.-]") or host:find("..", 1, true) then return false end
  if port ~= "" then
    local n = port:match("^:(%d+)$")
    n = n and tonumber(n)
    if not n or n < 1 or n > 65535 then return false end
  end
  return true
end

--- Checks an explicit endpoint; returns the URL (https:// added to a bare
-- host name, which must have a dot: "ecs.example.com") or nil, message.
function M.check_endpoint(ep)
  if type(ep) ~= "string" or ep == "" then return nil, "endpoint must be a non-empty string" end
  if ep:find("[%s%c]") then
    return nil, ("bad endpoint '%s': it contains a space or control character"):format(q(ep))
  end
  local scheme = ep:match("^(%a[%w+.-]*)://")
  if scheme and scheme ~= "http" and scheme ~= "https" then
    return nil, ("bad endpoint '%s': the scheme must be http or https"):format(q(ep))
  end
  local url = ep
  if not scheme then
    -- a bare word ("x", a region ID by mistake) is not taken for a host name
    local host = ep:match("^([^/?#:]*)")
    if not host:find(".", 1, true) and host ~= "localhost" and host ~= "[" then
      return nil, ("bad endpoint '%s': %s or a host name with a domain such as ecs.example.com"):format(q(ep), EXAMPLE)
    end
    url = "https://" .. ep
  end
  local authority = url:match("^https?://([^/?#]+)")
  if not authority or not valid_authority(authority) then
    return nil, ("bad endpoint '%s': %s"):format(q(ep), EXAMPLE)
  end
  local rest = url:match("^https?://[^/?#]+(.*)$")
  if rest ~= "" and rest ~= "/" then
    return nil, ("bad endpoint '%s': RPC requests go to path /, give the endpoint without a path"):format(q(ep))
  end
  return (url:gsub("/$", ""))
end

--- resolve{ endpoint =, region =, network = "public"|"vpc" } -> url or nil, message
function M.resolve(cfg)
  if cfg.endpoint ~= nil then return M.check_endpoint(cfg.endpoint) end
  local region = cfg.region
  if region == nil then
    return nil, "no region: set the 'region' option or ALIBABA_CLOUD_REGION_ID, or give an 'endpoint'"
  end
  if not M.valid_region(region) then
    return nil, ("bad region '%s': a region ID has only letters, digits, '-' and '_'"):format(
      type(region) == "string" and q(region) or tostring(region))
  end
  if cfg.network == "vpc" then return "https://ecs-vpc." .. region .. ".aliyuncs.com" end
  if M.CENTRAL[region] then return "https://" .. M.CENTRAL_HOST end
  return "https://ecs." .. region .. ".aliyuncs.com"
end

return M
