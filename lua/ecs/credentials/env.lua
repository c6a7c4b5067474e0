--- Credentials from the environment: ALIBABA_CLOUD_ACCESS_KEY_ID,
-- ALIBABA_CLOUD_ACCESS_KEY_SECRET and optionally ALIBABA_CLOUD_SECURITY_TOKEN
-- (the aliyun CLI's ALIBABACLOUD_*/ALICLOUD_* spellings are accepted too).
local common = require "ecs.credentials.common"

local M = { name = "environment" }

local PREFIXES = { "ALIBABA_CLOUD_", "ALIBABACLOUD_", "ALICLOUD_" }

--- resolve(ctx) -> provider | nil, reason
function M.resolve(ctx)
  local getenv = ctx.getenv
  for _, p in ipairs(PREFIXES) do
    local id, secret = getenv(p .. "ACCESS_KEY_ID"), getenv(p .. "ACCESS_KEY_SECRET")
    if common.nonempty(id) and common.nonempty(secret) then
      local creds = common.make(id, secret, getenv(p .. "SECURITY_TOKEN"), nil, "environment")
      return { source = "environment", get = function() return creds end }
    end
  end
  return nil, "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not both set"
end

return M
