/* libFuzzer target: the Lua-facing stages (flatten, json_encode, decode,
 * parse_query) and the emulator's request handling, driven through a real
 * Lua 5.4 state by fuzz/driver.lua. Lua errors are expected outcomes; a
 * crash, a sanitizer report or a leak is a bug. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int luaopen_ecs_core(lua_State *L);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lua_State *L;
static int driver_ref;

static void setup(void) {
  const char *root = getenv("ECS_ROOT");
  char path[4096];
  L = luaL_newstate();
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_ecs_core);
  lua_setfield(L, -2, "ecs.core");
  lua_pop(L, 1);
  if (root == NULL) root = ".";
  snprintf(path, sizeof path, "package.path = '%s/lua/?.lua;%s/lua/?/init.lua;' .. package.path", root, root);
  if (luaL_dostring(L, path) != 0) abort();
  snprintf(path, sizeof path, "%s/fuzz/driver.lua", root);
  if (luaL_dofile(L, path) != 0) {
    fprintf(stderr, "fuzz driver: %s\n", lua_tostring(L, -1));
    abort();
  }
  driver_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (L == NULL) setup();
  lua_rawgeti(L, LUA_REGISTRYINDEX, driver_ref);
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 0) != 0) {
    /* the driver itself catches expected errors; anything else is a bug */
    fprintf(stderr, "fuzz driver raised: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_settop(L, 0);
  lua_gc(L, LUA_GCSTEP, 0);
  return 0;
}
