-- Units of the command line: option parsing, targets, JSON writer, masking,
-- tables, the progress line (fake clock), help texts.
local args = require "ecs.cli.args"
local service = require "ecs.cli.service"
local json = require "ecs.cli.json"
local output = require "ecs.cli.output"
local progress = require "ecs.cli.progress"
local help = require "ecs.cli.help"
local cjson = require "cjson"

local function usage_of(fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok)
  assert.is_true(args.is_usage(e), "expected a usage error, got " .. tostring(e))
  return e.usage
end

describe("ecs.cli.args.parse", function()
  local OPTS = {
    { "--name", arg = "X" },
    { "--count", arg = "N", kind = "int", min = 1, max = 100 },
    { "--rate", arg = "R", kind = "number", min = 0.5 },
    { "--flag", kind = "flag" },
    { "--item", short = "-i", kind = "list" },
    { "--type", choices = { shell = true, bat = true } },
  }

  it("reads long options with a separate or inline value, flags, lists and positionals", function()
    local o, pos = args.parse({ "run", "--name", "a", "--count=5", "--flag", "-i", "x", "--item=y", "p1", "p2" },
      OPTS, 2)
    assert.same({ name = "a", count = 5, flag = true, item = { "x", "y" } }, o)
    assert.same({ "p1", "p2" }, pos)
  end)

  it("treats everything after -- as positional, and a lone - as positional", function()
    local o, pos = args.parse({ "--flag", "--", "--name", "-x", "-" }, OPTS)
    assert.same({ flag = true }, o)
    assert.same({ "--name", "-x", "-" }, pos)
  end)

  it("refuses unknown options, missing values, bad numbers, repeats and bad choices", function()
    assert.matches("unknown option '%-%-nope'", usage_of(args.parse, { "--nope" }, OPTS))
    assert.matches("%-%-name needs a value", usage_of(args.parse, { "--name" }, OPTS))
    assert.matches("whole number >= 1 and <= 100, got '0'", usage_of(args.parse, { "--count", "0" }, OPTS))
    assert.matches("got '2%.5'", usage_of(args.parse, { "--count", "2.5" }, OPTS))
    assert.matches("got 'abc'", usage_of(args.parse, { "--rate", "abc" }, OPTS))
    assert.matches("given twice", usage_of(args.parse, { "--name", "a", "--name", "b" }, OPTS))
    assert.matches("takes no value", usage_of(args.parse, { "--flag=1" }, OPTS))
    assert.matches("'ps' is not one of bat, shell", usage_of(args.parse, { "--type", "ps" }, OPTS))
    assert.matches("needs a non%-empty value", usage_of(args.parse, { "--name", "" }, OPTS))
  end)

  it("splits KEY=VALUE and names the option when it is malformed", function()
    assert.same({ "env", "a=b" }, { args.key_value("--tag", "env=a=b") })
    assert.matches("%-%-tag: expected KEY=VALUE, got 'env'", usage_of(args.key_value, "--tag", "env"))
  end)
end)

describe("ecs.cli.service.targets", function()
  it("builds the fleet targets from IDs, tag:, name:, --tag and the filters", function()
    local t = service.targets { instance = { "i-1,i-2", "i-3" }, target = { "i-4", "tag:env=prod", "name:web-*" },
                                tag = { "app=web" }, status = "Running", vpc = "vpc-1", all = nil }
    assert.same({ "i-1", "i-2", "i-3", "i-4" }, t.InstanceId)
    assert.same({ env = "prod", app = "web" }, t.tags)
    assert.equal("web-*", t.name)
    assert.equal("Running", t.status)
    assert.equal("vpc-1", t.vpc_id)
    assert.equal("instances i-1,i-2,i-3,i-4; tag app=web; tag env=prod; name web-*; status Running; vpc vpc-1",
      service.describe_targets(t))
  end)

  it("returns nil without any selector and refuses a bad --target", function()
    assert.is_nil(service.targets {})
    assert.matches("'foo' is not i%-ID", usage_of(service.targets, { target = { "foo" } }))
    assert.matches("one name pattern", usage_of(service.targets, { name = "a", target = { "name:b" } }))
  end)
end)

describe("ecs.cli.args.ids", function()
  it("splits repeated ID[,ID...] values in order, and is nil when the option was not given", function()
    assert.same({ "i-1", "i-2", "i-3", "i-4" }, args.ids { "i-1,i-2", "i-3 , i-4" })
    assert.same({}, args.ids { "," })
    assert.is_nil(args.ids(nil))
  end)
end)

describe("ecs.cli.interrupt.tracker", function()
  it("notes each launched invocation once, in order, with its region (else the default)", function()
    local interrupt = require "ecs.cli.interrupt"
    local t = interrupt.tracker("cn-hangzhou")
    t.on_launch { InvokeId = "t-1", InstanceId = { "i-1" }, batch = 1, RegionId = "cn-shanghai" }
    t.on_launch { InvokeId = "t-2", InstanceId = { "i-2" }, batch = 2 }
    t.on_launch { InvokeId = "t-1", InstanceId = { "i-1" }, batch = 1 }
    assert.same({ { InvokeId = "t-1", RegionId = "cn-shanghai" }, { InvokeId = "t-2", RegionId = "cn-hangzhou" } },
      t.started)
    assert.is_true(interrupt.is_interrupt("lua: interrupted!"))
    assert.is_false(interrupt.is_interrupt("other"))
  end)
end)

describe("ecs.cli.json", function()
  it("writes sorted objects, marked lists (also empty), null, whole numbers and escapes", function()
    local text = json.encode { b = json.array(), a = { 1, 2.5, "x\n\"y\"\1" }, c = json.null, d = true,
                               e = { z = 1, y = { json.array { 3 } } } }
    assert.equal('{"a":[1,2.5,"x\\n\\"y\\"\\u0001"],"b":[],"c":null,"d":true,"e":{"y":[[3]],"z":1}}', text)
    local back = cjson.decode(text)
    assert.equal(2.5, back.a[2])
  end)
end)

describe("ecs.cli.output", function()
  it("masks the signature, the token and known secrets of a signed request", function()
    local req = { method = "POST", url = "http://127.0.0.1:1/?Signature=abc&X=1",
      headers = { Authorization = "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-date,Signature=deadbeef",
                  ["x-acs-security-token"] = "TOKEN123", host = "127.0.0.1" },
      body = "AccessKeyId=testid&SecurityToken=TOKEN123&Note=mysecret&Signature=%2Bwu%3D" }
    local m = output.mask_request(req, function(s) return (s:gsub("mysecret", "****")) end)
    local text = output.request_text(m)
    assert.not_matches("deadbeef", text)
    assert.not_matches("TOKEN123", text)
    assert.not_matches("mysecret", text)
    assert.not_matches("%%2Bwu", text)
    assert.not_matches("abc", text)
    assert.matches("authorization: ACS3%-HMAC%-SHA256 Credential=testid,SignedHeaders=host;x%-acs%-date,"
      .. "Signature=%*%*%*%*", text)
    assert.matches("x%-acs%-security%-token: %*%*%*%*", text)
    assert.matches("AccessKeyId=testid&SecurityToken=%*%*%*%*&Note=%*%*%*%*&Signature=%*%*%*%*", text)
  end)

  it("aligns tables and shows the first output line or the error per instance", function()
    local t = output.results_table({ "i-1", "i-22" }, {
      ["i-1"] = { InstanceId = "i-1", class = "success", status = "Success", exit_code = 0, output = "\nhello\nmore" },
      ["i-22"] = { InstanceId = "i-22", class = "infra", status = "Aborted", output = "",
                   error_code = "InstanceNotRunning", error_info = "the instance is not running" },
    })
    assert.equal("INSTANCE  CLASS    STATUS   EXIT  OUTPUT\n"
      .. "i-1       success  Success  0     hello\n"
      .. "i-22      infra    Aborted  -     InstanceNotRunning: the instance is not running\n", t)
    assert.equal("2 success, 1 infra", output.counts_text { success = 2, infra = 1, failed = 0 })
  end)
end)

describe("ecs.cli.progress", function()
  local function ctx(now, tty)
    local err, out = {}, {}
    return {
      clock = function() return now[1] end, width = function() return 60 end,
      isatty = function() return tty end,
      stderr = { write = function(_, ...) for _, s in ipairs { ... } do err[#err + 1] = s end end },
      stdout = { write = function(_, ...) for _, s in ipairs { ... } do out[#out + 1] = s end end },
    }, err, out
  end

  it("rewrites one line on a terminal with done/total, classes and elapsed time", function()
    local now = { 100 }
    local c, err = ctx(now, true)
    local p = progress.new(c, progress.mode(c, {}))
    p:update { total = 3 }
    now[1] = 165
    p:result { InstanceId = "i-1", class = "success" }
    p:result { InstanceId = "i-2", class = "failed" }
    local text = table.concat(err)
    assert.matches("\r\27%[K0/3 done  success 0  failed 0  infra 0  elapsed 00:00", text, 1)
    assert.matches("\r\27%[K2/3 done  success 1  failed 1  infra 0  elapsed 01:05$", text)
    assert.not_matches("\n", text)
    p:finish()
    assert.equal("\n", err[#err])
    assert.equal("2/3 done in 01:05: 1 success, 1 failed", p:summary())
  end)

  it("prints one plain line per finished instance elsewhere, and nothing with --json", function()
    local c, err, out = ctx({ 0 }, false)
    assert.equal("off", progress.mode(c, { json = true }))
    assert.equal("off", progress.mode(c, { no_progress = true }))
    local p = progress.new(c, progress.mode(c, {}))
    p:update { total = 1 }
    p:result { InstanceId = "i-1", class = "success", status = "Success", exit_code = 0, output = "hi\n" }
    assert.same({}, err)
    assert.equal("i-1 success Success exit=0 hi\n", table.concat(out))
  end)

  it("cuts the line to the terminal width", function()
    local c, err = ctx({ 0 }, true)
    c.width = function() return 20 end
    local p = progress.new(c, "live")
    p:update { total = 1000 }
    local last = err[#err]
    assert.equal(19, #last)
  end)
end)

describe("ecs.cli.help", function()
  it("documents every subcommand and every option of each", function()
    local cli = require "ecs.cli"
    local cmds = {}
    for _, n in ipairs(cli.ORDER) do cmds[n] = require("ecs.cli." .. n) end
    local main = help.main(cmds, cli.ORDER)
    for _, n in ipairs(cli.ORDER) do
      assert.matches("\n  " .. n .. " ", main, 1, true)
      local text = help.command(cmds[n])
      assert.matches("usage: ecs " .. n, text, 1, true)
      for _, o in ipairs(help.options(cmds[n])) do assert.matches(o[1], text, 1, true) end
      assert.matches("Exit status:", text, 1, true)
    end
  end)
end)
