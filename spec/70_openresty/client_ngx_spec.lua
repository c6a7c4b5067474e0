-- The client inside nginx: the phase is checked before credentials are
-- gathered, and `ngx = { shared_dict = }` shares credentials and the fleet's
-- daily invocation count between workers.
local helper = require "helpers.emulator"
local nginx = require "helpers.nginx"
local support = require "70_openresty.support"

describe("client inside nginx", function()
  local emu, ng, command

  setup(function()
    emu = helper.start()
    command = support.create_command(emu)
    ng = nginx.start {
      workers = 2,
      env = { ECS_ENDPOINT = emu.url },
      http = [[
        lua_shared_dict ecs 1m;
        lua_shared_dict ecs_test 1m;
        init_worker_by_lua_block {
          local gets = 0
          local c = require("ecs").new { region = "cn-hangzhou", endpoint = os.getenv("ECS_ENDPOINT"),
            credentials = { get = function() gets = gets + 1; return nil, "must not be asked" end } }
          local res, err = c:call("DescribeRegions", {})
          ngx.shared.ecs_test:set("init_worker", (res and "sent" or err.code) .. " gets=" .. gets)
        }
      ]],
      server = [[
        location = /invoke { content_by_lua_block {
          local cjson = require "cjson"
          CLIENT = CLIENT or require("ecs").new { region = "cn-hangzhou", endpoint = os.getenv("ECS_ENDPOINT"),
            ngx = { shared_dict = "ecs" }, credentials = { get = function()
              ngx.shared.ecs_test:incr("refreshes", 1, 0)
              ngx.sleep(0.2)
              return { access_key_id = "testid", access_key_secret = "testsecret", expiration = ngx.time() + 3600 }
            end } }
          ngx.req.read_body()
          local p = cjson.decode(ngx.req.get_body_data())
          local rep, err = CLIENT:invoke_fleet { CommandId = p.CommandId, Parameters = p.Parameters,
                                                 targets = { InstanceId = p.InstanceId }, wait = false }
          ngx.say(rep and rep.invocations[1] and rep.invocations[1].InvokeId or tostring(err))
        } }
        location = /state { content_by_lua_block {
          ngx.say(ngx.shared.ecs_test:get("init_worker"), " refreshes=", ngx.shared.ecs_test:get("refreshes"),
                  " today=", CLIENT and CLIENT:invocation_quota().used or "none")
        } }
      ]],
    }
  end)

  teardown(function() support.stop(ng, emu) end)

  it("shares one credential refresh and the fleet invocation count between workers", function()
    local body = support.json.encode { CommandId = command, InstanceId = { "i-bp1emuweb01" },
                                       Parameters = { name = "x" } }
    local results = ng:concurrent(20, "POST", "/invoke", body)
    for i, r in ipairs(results) do
      assert.are.equal(200, r.status)
      assert.matches("^t%-", r.body, nil, false, "request " .. i)
    end
    -- ask until the worker that answers has a client of its own
    local text
    for _ = 1, 20 do
      local _, _, b = ng:request("GET", "/state")
      text = b
      if not b:find("today=none", 1, true) then break end
    end
    assert.are.equal("Ngx.PhaseNotYieldable gets=0 refreshes=1 today=20\n", text)
  end)
end)
