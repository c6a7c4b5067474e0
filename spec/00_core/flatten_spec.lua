-- core.flatten: Lua request values to flat RPC parameters, every rule of
-- docs/core-api.md ("flatten rules").
local core = require "ecs.core"

local flatten = core.flatten
local HAS_INTEGERS = math.type ~= nil

local function keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function raises(params, ...)
  local ok, err = pcall(flatten, params)
  assert.is_false(ok, "expected flatten to raise")
  for _, pattern in ipairs { ... } do
    assert.is_truthy(tostring(err):find(pattern, 1, true), ("'%s' not in: %s"):format(pattern, tostring(err)))
  end
  return err
end

local function nest(n, leaf)
  local top = {}
  local cur = top
  for _ = 1, n - 1 do
    cur.x = {}
    cur = cur.x
  end
  cur.x = leaf
  return top
end

describe("core.flatten", function()
  describe("scalars", function()
    it("passes strings through untouched, embedded NUL included", function()
      local f = flatten { CommandId = "c-1", Odd = "a\0b\0", Empty = "" }
      assert.are.same({ CommandId = "c-1", Odd = "a\0b\0", Empty = "" }, f)
      assert.are.equal(4, #f.Odd)
    end)

    it("leaves odd Unicode and invalid UTF-8 byte for byte", function()
      local odd = {
        "中文", "e\204\129", "\226\128\174rtl\226\128\141zwj", "\240\159\145\169\226\128\141\240\159\146\187",
        "\237\160\128", "\192\175", "\255\254", "\239\187\191bom",
      }
      local params = {}
      for i, s in ipairs(odd) do params["S" .. i] = s end
      local f = flatten(params)
      for i, s in ipairs(odd) do assert.are.equal(s, f["S" .. i]) end
    end)

    it("writes booleans as true/false", function()
      assert.are.same({ A = "true", B = "false" }, flatten { A = true, B = false })
    end)

    it("writes integers and integral floats without .0", function()
      local f = flatten { A = 10, B = 10.0, C = 0, D = -7, E = 2 ^ 31, F = 2 ^ 53, G = 60 * 1.0 }
      assert.are.same({ A = "10", B = "10", C = "0", D = "-7", E = "2147483648", F = "9007199254740992",
                        G = "60" }, f)
    end)

    it("writes large integral floats as integers too, and 0 for -0", function()
      local f = flatten { A = 1e16, B = 2 ^ 60, C = -0.0 }
      assert.are.equal("10000000000000000", f.A)
      assert.are.equal("1152921504606846976", f.B)
      assert.are.equal("0", f.C)
    end)

    if HAS_INTEGERS then
      it("writes 64-bit integers exactly (5.3+)", function()
        local f = flatten { A = math.maxinteger, B = math.mininteger, C = 9007199254740993 }
        assert.are.same({ A = "9223372036854775807", B = "-9223372036854775808", C = "9007199254740993" }, f)
      end)
    end

    it("writes other floats in the shortest form that reads back equal", function()
      local f = flatten { A = 0.1, B = 1.5, C = -2.25, D = 1 / 3, E = 1e-7, F = 1e300, G = 123456789.125 }
      assert.are.same({ A = "0.1", B = "1.5", C = "-2.25", D = "0.3333333333333333", E = "1e-07", F = "1e+300",
                        G = "123456789.125" }, f)
      for _, k in ipairs { "D", "E", "F" } do
        assert.are.equal(({ D = 1 / 3, E = 1e-7, F = 1e300 })[k], tonumber(f[k]))
      end
    end)

    it("raises on NaN and the infinities, naming the key", function()
      raises({ Timeout = 0 / 0 }, "'Timeout'", "NaN")
      raises({ Timeout = math.huge }, "'Timeout'", "infinity")
      raises({ Timeout = -math.huge }, "'Timeout'", "infinity")
      raises({ List = { 1, 0 / 0 } }, "'List.2'", "NaN")
    end)

    it("raises on functions, userdata and threads, naming the key", function()
      raises({ Fn = print }, "'Fn'", "function")
      raises({ Ud = io.stdout }, "'Ud'", "userdata")
      raises({ Co = coroutine.create(function() end) }, "'Co'", "thread")
      raises({ Outer = { Inner = { Deep = print } } }, "'Outer.Inner.Deep'", "function")
      raises({ Tag = { env = print } }, "'Tag.env'")
    end)
  end)

  describe("names", function()
    it("raises on a non-string or empty top-level name", function()
      raises({ [1] = "x" }, "name", "number")
      raises({ [true] = "x" }, "name", "boolean")
      raises({ [""] = "x" }, "empty")
    end)

    it("raises naming the argument when params is not a table", function()
      local ok, err = pcall(flatten, "x")
      assert.is_false(ok)
      assert.matches("#1", err)
    end)
  end)

  describe("lists", function()
    it("numbers list items from 1: Name.1 .. Name.N", function()
      assert.are.same({ ["InstanceId.1"] = "i-1", ["InstanceId.2"] = "i-2", ["InstanceId.3"] = "i-3" },
        flatten { InstanceId = { "i-1", "i-2", "i-3" } })
    end)

    it("flattens 100 instance IDs, and sorts them the way the service signs them", function()
      local ids = {}
      for i = 1, 100 do ids[i] = ("i-%03d"):format(i) end
      local f = flatten { InstanceId = ids }
      local n = 0
      for k, v in pairs(f) do
        n = n + 1
        local i = tonumber(k:match("^InstanceId%.(%d+)$"))
        assert.is_truthy(i, k)
        assert.are.equal(("i-%03d"):format(i), v)
      end
      assert.are.equal(100, n)
      local q = core.canonical_query(f)
      assert.are.equal(1, q:find("InstanceId.1=i-001&InstanceId.10=i-010&InstanceId.100=i-100&InstanceId.11=", 1,
        true))
    end)

    it("emits nothing for an empty list or map", function()
      assert.are.same({ CommandId = "c" }, flatten { CommandId = "c", InstanceId = {}, Tag = {}, SystemDisk = {} })
    end)

    it("flattens a list of {Key=,Value=} below Name.N.", function()
      assert.are.same({ ["Tag.1.Key"] = "env", ["Tag.1.Value"] = "prod", ["Tag.2.Key"] = "team",
                        ["Tag.2.Value"] = "" },
        flatten { Tag = { { Key = "env", Value = "prod" }, { Key = "team", Value = "" } } })
    end)

    it("formats scalar list items like top-level values", function()
      assert.are.same({ ["L.1"] = "true", ["L.2"] = "3", ["L.3"] = "0.5" }, flatten { L = { true, 3, 0.5 } })
    end)

    it("raises on a table that mixes list items and named keys, naming it", function()
      raises({ InstanceId = { "i-1", "i-2", extra = "x" } }, "'InstanceId'", "mixes")
      raises({ Outer = { Inner = { 1, a = 2 } } }, "'Outer.Inner'")
    end)

    it("raises on a list with holes or non-integer keys rather than dropping items", function()
      raises({ L = { [1] = "a", [3] = "c" } }, "'L'")
      raises({ L = { [1.5] = "a" } }, "'L'")
    end)
  end)

  describe("tag maps", function()
    it("turns a map under a name ending in Tag/Tags into Key/Value pairs in sorted key order", function()
      local f = flatten { ResourceTag = { zone = "z", app = "web", env = "prod" }, Tags = { b = "2", a = "1" } }
      assert.are.same({
        ["ResourceTag.1.Key"] = "app", ["ResourceTag.1.Value"] = "web",
        ["ResourceTag.2.Key"] = "env", ["ResourceTag.2.Value"] = "prod",
        ["ResourceTag.3.Key"] = "zone", ["ResourceTag.3.Value"] = "z",
        ["Tags.1.Key"] = "a", ["Tags.1.Value"] = "1", ["Tags.2.Key"] = "b", ["Tags.2.Value"] = "2",
      }, f)
    end)

    it("sorts tag keys by byte order (uppercase first) and formats scalar values", function()
      local f = flatten { Tag = { b = true, B = 5, a = "" } }
      assert.are.same({ ["Tag.1.Key"] = "B", ["Tag.1.Value"] = "5", ["Tag.2.Key"] = "a", ["Tag.2.Value"] = "",
                        ["Tag.3.Key"] = "b", ["Tag.3.Value"] = "true" }, f)
    end)

    it("is deterministic across table constructions", function()
      local a, b = {}, {}
      for i = 1, 50 do a["k" .. i] = tostring(i) end
      for i = 50, 1, -1 do b["k" .. i] = tostring(i) end
      assert.are.same(flatten { Tag = a }, flatten { Tag = b })
      assert.are.equal(core.canonical_query(flatten { Tag = a }), core.canonical_query(flatten { Tag = b }))
    end)

    it("raises when a tag value is a table", function()
      raises({ Tag = { env = { "x" } } }, "'Tag.env'")
    end)
  end)

  describe("structs", function()
    it("flattens other maps to dotted names", function()
      assert.are.same({ ["SystemDisk.Category"] = "cloud_essd", ["SystemDisk.Size"] = "40",
                        ["Outer.Inner.Leaf"] = "x", ["Outer.List.1"] = "a" },
        flatten { SystemDisk = { Category = "cloud_essd", Size = 40 },
                  Outer = { Inner = { Leaf = "x" }, List = { "a" } } })
    end)

    it("allows the same table twice when it is not a cycle", function()
      local shared = { "x" }
      assert.are.same({ ["A.1"] = "x", ["B.1"] = "x", ["C.1.1"] = "x", ["C.2.1"] = "x" },
        flatten { A = shared, B = shared, C = { shared, shared } })
    end)

    it("raises on a cycle, naming the key where it closes", function()
      local t = {}
      t.self = t
      raises({ S = t }, "'S.self'", "cycle")
      local l = {}
      l[1] = l
      raises({ L = l }, "'L.1'", "cycle")
    end)

    it("accepts 32 levels of nesting and raises beyond, naming the key", function()
      local f = flatten { D = nest(32, "leaf") }
      assert.are.equal("leaf", f["D" .. string.rep(".x", 32)])
      local err = raises({ D = nest(40, "leaf") }, "'D.x.x.x", "deeper than 32")
      assert.is_nil(tostring(err):find("leaf", 1, true))
    end)
  end)

  describe("JSON-typed names", function()
    it("sends Parameters as compact JSON with sorted keys", function()
      local f = flatten { Parameters = { name = "Jack", age = 30, ok = true, list = { 1, "two" },
                                         nested = { z = 1, a = { b = false } } } }
      assert.are.equal('{"age":30,"list":[1,"two"],"name":"Jack","nested":{"a":{"b":false},"z":1},"ok":true}',
        f.Parameters)
    end)

    it("treats InstanceIds, PrivateIpAddresses and the other JSON names alike", function()
      local f = flatten { InstanceIds = { "i-1", "i-2" }, PrivateIpAddresses = { "10.0.0.1" },
                          PublicIpAddresses = { "1.2.3.4" }, EipAddresses = { "5.6.7.8" },
                          InnerIpAddresses = { "10.1.1.1" } }
      assert.are.same({ InstanceIds = '["i-1","i-2"]', PrivateIpAddresses = '["10.0.0.1"]',
                        PublicIpAddresses = '["1.2.3.4"]', EipAddresses = '["5.6.7.8"]',
                        InnerIpAddresses = '["10.1.1.1"]' }, f)
    end)

    it("passes a JSON name given as a string through as it is", function()
      local text = '{ "b": 1, "a": 2 }'
      assert.are.same({ Parameters = text, InstanceIds = '["i-1"]' },
        flatten { Parameters = text, InstanceIds = '["i-1"]' })
    end)

    it("never writes an empty list-typed JSON name as an object", function()
      local f = flatten { InstanceIds = {} }
      assert.is_true(f.InstanceIds == nil or f.InstanceIds == "[]", "got " .. tostring(f.InstanceIds))
      local p = flatten { Parameters = {} }
      assert.is_true(p.Parameters == nil or p.Parameters == "{}", "got " .. tostring(p.Parameters))
    end)

    it("keeps Unicode untouched inside the JSON and escapes control bytes", function()
      local f = flatten { Parameters = { msg = "中文 \240\159\152\128 \"q\" \\ a\0b\n" } }
      assert.are.equal('{"msg":"中文 \240\159\152\128 \\"q\\" \\\\ a\\u0000b\\n"}', f.Parameters)
    end)

    it("writes JSON null for core.null", function()
      assert.are.equal('{"a":null}', flatten { Parameters = { a = core.null } }.Parameters)
    end)

    it("raises naming the full key inside Parameters", function()
      raises({ Parameters = { x = print } }, "'Parameters.x'", "function")
      raises({ Parameters = { x = 0 / 0 } }, "'Parameters.x'", "NaN")
      raises({ Parameters = { a = { b = io.stdout } } }, "'Parameters.a.b'", "userdata")
    end)

    it("raises on cycles, mixed tables and depth inside Parameters", function()
      local t = {}
      t.me = t
      raises({ Parameters = t }, "Parameters", "cycle")
      raises({ Parameters = { 1, x = 2 } }, "Parameters", "mixes")
      raises({ Parameters = nest(40, "v") }, "Parameters", "deeper than 32")
    end)
  end)

  it("does not modify its argument", function()
    local params = { InstanceId = { "i-1" }, Tag = { a = "b" }, Parameters = { k = "v" } }
    flatten(params)
    assert.are.same({ InstanceId = { "i-1" }, Tag = { a = "b" }, Parameters = { k = "v" } }, params)
  end)

  it("returns only string values", function()
    local f = flatten { A = 1, B = true, C = { 1, 2 }, Parameters = { x = 1 }, Tag = { k = 2 } }
    for _, k in ipairs(keys(f)) do assert.are.equal("string", type(f[k]), k) end
  end)
end)
