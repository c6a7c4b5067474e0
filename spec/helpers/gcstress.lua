-- busted --helper for the GC-stress run: the collector in its most aggressive
-- setting (each cycle starts as soon as the previous one ends, in large
-- steps), plus a full collection from a count hook, so a C function that
-- forgets to anchor a value is caught by a crash or a wrong result instead of
-- by luck. Works on Lua 5.1 to 5.4 and LuaJIT.
if _VERSION == "Lua 5.4" then
  collectgarbage("incremental", 1, 1000, 1) -- zero would mean "unchanged" here
else
  collectgarbage("setpause", 1)
  collectgarbage("setstepmul", 1000)
end
collectgarbage("restart")
local hook = function() collectgarbage("collect") end
debug.sethook(hook, "", 20000)
-- hooks are per coroutine: set it in every coroutine busted creates too
-- luacheck: push ignore 122
local create = coroutine.create
coroutine.create = function(f)
  local co = create(f)
  debug.sethook(co, hook, "", 20000)
  return co
end
coroutine.wrap = function(f)
  local co = coroutine.create(f)
  return function(...)
    local r = { coroutine.resume(co, ...) }
    if not r[1] then error(r[2], 0) end
    return (table.unpack or unpack)(r, 2)
  end
end
-- luacheck: pop
