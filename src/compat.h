/* Lua 5.1 / LuaJIT .. 5.4 shims. Everything here is static (or a macro) so no
 * shim can clash with a lua_* / luaL_* symbol that LuaJIT itself exports. */
#ifndef ECS_COMPAT_H
#define ECS_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if defined(__GNUC__)
#define ECS_UNUSED __attribute__((unused))
#else
#define ECS_UNUSED
#endif

#if LUA_VERSION_NUM < 502
#define ecs_rawlen(L, i) lua_objlen((L), (i))
#define ecs_absindex(L, i) (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)

ECS_UNUSED static void ecs_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  luaL_checkstack(L, nup + 1, "too many upvalues");
  for (; l->name != NULL; l++) {
    int i;
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}

ECS_UNUSED static void *ecs_testudata(lua_State *L, int i, const char *tname) {
  void *p = lua_touserdata(L, i);
  if (p != NULL && lua_getmetatable(L, i)) {
    luaL_getmetatable(L, tname);
    if (!lua_rawequal(L, -1, -2)) p = NULL;
    lua_pop(L, 2);
    return p;
  }
  return NULL;
}

ECS_UNUSED static void ecs_setmetatable(lua_State *L, const char *tname) {
  luaL_getmetatable(L, tname);
  lua_setmetatable(L, -2);
}
#else
#define ecs_rawlen(L, i) lua_rawlen((L), (i))
#define ecs_absindex(L, i) lua_absindex((L), (i))
#define ecs_setfuncs(L, l, n) luaL_setfuncs((L), (l), (n))
#define ecs_testudata(L, i, t) luaL_testudata((L), (i), (t))
#define ecs_setmetatable(L, t) luaL_setmetatable((L), (t))
#endif

#if LUA_VERSION_NUM >= 503
#define ECS_HAS_INTEGERS 1
#else
#define ECS_HAS_INTEGERS 0
#endif

#if LUA_VERSION_NUM >= 504
#define ecs_newuserdata(L, sz) lua_newuserdatauv((L), (sz), 0)
#else
#define ecs_newuserdata(L, sz) lua_newuserdata((L), (sz))
#endif

#endif
