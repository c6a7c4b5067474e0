-- HTTP spec support: the test server answering like the service, started
-- and stopped around the calling describe block, and a client on it with
-- the test credentials.
local busted = require "busted"
local ecs = require "ecs"
local testserver = require "helpers.testserver"

local M = {}

--- client(endpoint, ...) -> an ecs client on endpoint with the test credentials
-- and no retries; each further table overrides the options before it.
function M.client(endpoint, ...)
  local cfg = { endpoint = endpoint, region = "cn-hangzhou", access_key_id = "testid",
                access_key_secret = "testsecret", retry = false }
  for i = 1, select("#", ...) do
    for k, v in pairs((select(i, ...)) or {}) do cfg[k] = v end
  end
  return ecs.new(cfg)
end

--- serve(opts) -> http; registers setup/teardown in the calling describe block.
-- opts.keys: the handler's access keys; opts.reset: forget the requests before each test.
-- http.srv is the running test server; http.client(extra) a client on it.
function M.serve(opts)
  opts = opts or {}
  local http = {}
  busted.setup(function()
    http.srv = testserver.start { handler = testserver.ecs_handler { keys = opts.keys } }
  end)
  busted.teardown(function()
    if http.srv then http.srv:stop() end
  end)
  if opts.reset then
    busted.before_each(function() http.srv:reset() end)
  end
  function http.client(extra)
    return M.client(http.srv.url, extra)
  end
  return http
end

return M
