--- Credentials URI (reference §8.5): GET a URL that answers JSON with
-- AccessKeyId, AccessKeySecret, SecurityToken and Expiration. From
-- ALIBABA_CLOUD_CREDENTIALS_URI, the `credentials_uri` option, or a profile.
local common = require "ecs.credentials.common"
local refresh = require "ecs.credentials.refresh"

local type, tostring = type, tostring

local M = { name = "credentials_uri" }

function M.fetch(ctx, uri, source)
  local resp, err = ctx.http { method = "GET", url = uri, headers = { Accept = "application/json" },
                              timeout = 5, connect_timeout = 5 }
  if not resp then return common.fail("Credentials.URIFailed", "GET " .. uri .. ": " .. tostring(err and err.code)) end
  if resp.status ~= 200 then
    return common.fail("Credentials.URIFailed", "GET " .. uri .. ": HTTP " .. tostring(resp.status))
  end
  local doc = common.json_decode(resp.body or "")
  if type(doc) ~= "table" or (doc.Code ~= nil and doc.Code ~= "Success") then
    return common.fail("Credentials.URIFailed", "GET " .. uri .. ": not a credentials document")
  end
  if not (common.nonempty(doc.AccessKeyId) and common.nonempty(doc.AccessKeySecret)) then
    return common.fail("Credentials.URIFailed", "GET " .. uri .. ": answer lacks AccessKeyId or AccessKeySecret")
  end
  return common.make(doc.AccessKeyId, doc.AccessKeySecret, doc.SecurityToken, common.parse_time(doc.Expiration),
                     source)
end

function M.provider(ctx, uri, source)
  source = source or M.name
  if not uri:match("^https?://") then return nil, "credentials URI must be an http(s) URL: " .. uri end
  return refresh.new {
    source = source, clock = ctx.clock, sleep = ctx.sleep, log = ctx.log, margin = ctx.opts.refresh_margin,
    fetch = function() return M.fetch(ctx, uri, source) end,
  }
end

function M.resolve(ctx)
  local uri = ctx.opts.credentials_uri or ctx.getenv("ALIBABA_CLOUD_CREDENTIALS_URI")
  if not common.nonempty(uri) then return nil, "ALIBABA_CLOUD_CREDENTIALS_URI is not set" end
  return M.provider(ctx, uri)
end

return M
