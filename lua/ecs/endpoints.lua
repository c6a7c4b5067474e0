--- Endpoint resolution (reference §5): an explicit endpoint wins; else the
-- regional host, its VPC form with network = "vpc", or the central host for
-- the regions the SDK endpoint maps send there.
local type, tostring = type, tostring

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

--- Checks an explicit endpoint; returns the URL (https:// added to a bare
-- host) or nil, message.
function M.check_endpoint(ep)
  if type(ep) ~= "string" or ep == "" then return nil, "endpoint must be a non-empty string" end
  if ep:find("[%s%c]") then return nil, ("bad endpoint '%s': it contains a space or control character"):format(ep) end
  local scheme = ep:match("^(%a[%w+.-]*)://")
  if scheme and scheme ~= "http" and scheme ~= "https" then
    return nil, ("bad endpoint '%s': the scheme must be http or https"):format(ep)
  end
  if not scheme then ep = "https://" .. ep end
  local host = ep:match("^https?://([^/?#]+)")
  if not host or host:match("^:") or host:find("@", 1, true) then
    return nil, ("bad endpoint '%s': expected a URL such as https://ecs.cn-hangzhou.aliyuncs.com"):format(ep)
  end
  local rest = ep:match("^https?://[^/?#]+(.*)$")
  if rest ~= "" and rest ~= "/" then
    return nil, ("bad endpoint '%s': RPC requests go to path /, give the endpoint without a path"):format(ep)
  end
  return (ep:gsub("/$", ""))
end

--- resolve{ endpoint =, region =, network = "public"|"vpc" } -> url or nil, message
function M.resolve(cfg)
  if cfg.endpoint ~= nil then return M.check_endpoint(cfg.endpoint) end
  local region = cfg.region
  if region == nil then
    return nil, "no region: set the 'region' option or ALIBABA_CLOUD_REGION_ID, or give an 'endpoint'"
  end
  if not M.valid_region(region) then
    return nil, ("bad region '%s': a region ID has only letters, digits, '-' and '_'"):format(tostring(region))
  end
  if cfg.network == "vpc" then return "https://ecs-vpc." .. region .. ".aliyuncs.com" end
  if M.CENTRAL[region] then return "https://" .. M.CENTRAL_HOST end
  return "https://ecs." .. region .. ".aliyuncs.com"
end

return M
