--- One InvokeCommand from a fresh process, as a script or CLI pays it:
-- load the module, build a client, make one call, exit.
--   lua5.4 bench/lua/once.lua url=URL
local ecs = require "ecs"
local req = require "request"

local opt = req.args(arg)
local client = ecs.new(req.client_config(opt.url))
local res, err = client:invoke_command(req.params())
req.check_result(res, err)
io.write(res.InvokeId, "\n")
