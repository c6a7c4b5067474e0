--- Endpoint resolution: explicit endpoint, else the regional public or VPC
-- host (reference §5).
local M = {}

-- regions the SDK endpoint maps send to the central endpoint
local CENTRAL = {
  ["cn-hangzhou-finance"] = true, ["cn-shanghai-inner"] = true, ["cn-north-2-gov-1"] = true,
  ["cn-wuhan"] = true, ["cn-zhangbei"] = true, ["cn-yushanfang"] = true, ["rus-west-1-pop"] = true,
  ["ap-northeast-2-pop"] = true, ["cn-beijing-finance-pop"] = true, ["cn-hongkong-finance-pop"] = true,
}

function M.valid_region(region)
  return type(region) == "string" and region:match("^[%w_%-]+$") ~= nil and #region <= 64
end

--- resolve{ endpoint =, region =, network = "public"|"vpc" } -> url or nil, message
function M.resolve(cfg)
  if cfg.endpoint then
    local ep = cfg.endpoint
    if not ep:match("^https?://") then ep = "https://" .. ep end
    return ep
  end
  local region = cfg.region
  if region == nil then
    return nil, "no region: set the 'region' option or ALIBABA_CLOUD_REGION_ID, or give an 'endpoint'"
  end
  if not M.valid_region(region) then
    return nil, ("bad region '%s': a region ID has only letters, digits, '-' and '_'"):format(region)
  end
  if cfg.network == "vpc" then return "https://ecs-vpc." .. region .. ".aliyuncs.com" end
  if CENTRAL[region] then return "https://ecs.aliyuncs.com" end
  return "https://ecs." .. region .. ".aliyuncs.com"
end

return M
