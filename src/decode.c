/* decode: HTTP responses -> result tables or error objects; the error
 * object's metatable. */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "lcore.h"

static void set_str(lua_State *L, int t, const char *k, const char *v) {
  if (v == NULL) return;
  t = ecs_absindex(L, t);
  lua_pushstring(L, v);
  lua_setfield(L, t, k);
}

void ecs_push_error(lua_State *L, const char *code, const char *message, long http_status,
                    int retryable, const char *action) {
  lua_createtable(L, 0, 8);
  set_str(L, -1, "code", code);
  set_str(L, -1, "message", message);
  if (http_status > 0) {
    lua_pushinteger(L, (lua_Integer)http_status);
    lua_setfield(L, -2, "http_status");
  }
  lua_pushboolean(L, retryable);
  lua_setfield(L, -2, "retryable");
  set_str(L, -1, "action", action);
  ecs_setmetatable(L, ECS_ERROR_MT);
}

static const char *field_str(lua_State *L, int t, const char *k) {
  const char *s;
  lua_getfield(L, t, k);
  s = lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1) : NULL;
  lua_pop(L, 1); /* the string stays alive: it is referenced by the table */
  return s;
}

/* error.__tostring: action: Code (HTTP n): message [RequestId x] (after n attempts) */
static int error_tostring(lua_State *L) {
  luaL_Buffer b;
  const char *s;
  lua_Integer status = 0, attempts = 0;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "http_status");
  status = lua_tointeger(L, -1);
  lua_getfield(L, 1, "attempts");
  attempts = lua_tointeger(L, -1);
  lua_pop(L, 2);
  luaL_buffinit(L, &b);
  if ((s = field_str(L, 1, "action")) != NULL) {
    luaL_addstring(&b, s);
    luaL_addstring(&b, ": ");
  }
  s = field_str(L, 1, "code");
  luaL_addstring(&b, s ? s : "Error");
  if (status > 0) {
    lua_pushfstring(L, " (HTTP %d)", (int)status);
    luaL_addvalue(&b);
  }
  if ((s = field_str(L, 1, "message")) != NULL && *s) {
    luaL_addstring(&b, ": ");
    luaL_addstring(&b, s);
    if (strstr(s, "[attempts: ") != NULL) attempts = 0; /* the retry layer listed them already */
  }
  if ((s = field_str(L, 1, "request_id")) != NULL && *s) {
    luaL_addstring(&b, " [RequestId ");
    luaL_addstring(&b, s);
    luaL_addstring(&b, "]");
  }
  if (attempts > 1) {
    lua_pushfstring(L, " (after %d attempts)", (int)attempts);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return 1;
}

void ecs_error_setup(lua_State *L) {
  luaL_newmetatable(L, ECS_ERROR_MT);
  lua_pushcfunction(L, error_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushstring(L, "ecs.error");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}

void ecs_push_headers(lua_State *L, const char *raw, size_t n) {
  size_t i = 0;
  lua_newtable(L);
  while (i < n) {
    size_t start = i, colon = 0, end, vs, ve;
    while (i < n && raw[i] != '\n') i++;
    end = i;
    if (end > start && raw[end - 1] == '\r') end--;
    i++;
    for (vs = start; vs < end; vs++)
      if (raw[vs] == ':') { colon = vs; break; }
    if (vs == end || colon == start) continue; /* status line or junk */
    {
      luaL_Buffer b;
      size_t j;
      luaL_buffinit(L, &b);
      for (j = start; j < colon; j++) luaL_addchar(&b, (char)tolower((unsigned char)raw[j]));
      luaL_pushresult(&b);
    }
    vs = colon + 1;
    while (vs < end && (raw[vs] == ' ' || raw[vs] == '\t')) vs++;
    ve = end;
    while (ve > vs && (raw[ve - 1] == ' ' || raw[ve - 1] == '\t')) ve--;
    lua_pushvalue(L, -1);
    lua_rawget(L, -3);
    if (lua_isstring(L, -1)) { /* repeated header: join with ", " */
      lua_pushliteral(L, ", ");
      lua_pushlstring(L, raw + vs, ve - vs);
      lua_concat(L, 3);
    } else {
      lua_pop(L, 1);
      lua_pushlstring(L, raw + vs, ve - vs);
    }
    lua_rawset(L, -3);
  }
}

#if ECS_HAS_INTEGERS
/* cjson decodes every number as a float; make integral ones integers so
 * ExitCode prints 0, not 0.0 */
static void integerize(lua_State *L, int idx, int depth) {
  if (depth > 200) return;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1)) {
      lua_Number v = lua_tonumber(L, -1);
      if (floor(v) == v && v >= -9007199254740992.0 && v <= 9007199254740992.0) {
        lua_pushvalue(L, -2);
        lua_pushinteger(L, (lua_Integer)v);
        lua_rawset(L, idx);
      }
    } else if (lua_type(L, -1) == LUA_TTABLE) {
      luaL_checkstack(L, 4, "JSON nested too deep");
      integerize(L, lua_gettop(L), depth + 1);
    }
    lua_pop(L, 1);
  }
}
#endif

/* Pushes a short, printable excerpt of a body (control bytes replaced). */
static void push_excerpt(lua_State *L, const char *body, size_t len) {
  luaL_Buffer b;
  size_t i, n = len > 200 ? 200 : len;
  luaL_buffinit(L, &b);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)body[i];
    luaL_addchar(&b, (c < 0x20 || c == 0x7f) ? ' ' : (char)c);
  }
  if (len > n) luaL_addstring(&b, "...");
  luaL_pushresult(&b);
}

/* pcall(decode, body) -> pushes the value and returns 1, or returns 0 */
static int json_decode(lua_State *L, const char *body, size_t len) {
  lua_getfield(L, LUA_REGISTRYINDEX, ECS_REG_DECODE);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pushlstring(L, body, len);
  if (lua_pcall(L, 1, 1, 0) != 0) {
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

static int is_retryable_code(const char *code, long status) {
  if (status >= 500 || status == 429) return 1;
  if (code == NULL) return 0;
  return strncmp(code, "Throttling", 10) == 0 || strncmp(code, "ServiceUnavailable", 18) == 0 ||
         strncmp(code, "InternalError", 13) == 0 || strcmp(code, "IdempotentProcessing") == 0 ||
         strcmp(code, "LastTokenProcessing") == 0 || strcmp(code, "UnknownError") == 0;
}

int ecs_decode_response(lua_State *L, long status, const char *body, size_t len, int hdr_idx,
                        const char *action) {
  int ok = status >= 200 && status < 300;
  int decoded = len > 0 && json_decode(L, body, len);
  int top;
  if (decoded && lua_type(L, -1) != LUA_TTABLE) {
    lua_pop(L, 1);
    decoded = 0;
  }
  if (ok && decoded) {
#if ECS_HAS_INTEGERS
    integerize(L, lua_gettop(L), 0);
#endif
    return 1;
  }
  if (!decoded) {
    lua_pushnil(L);
    if (len > 0) {
      lua_pushfstring(L, "the service answered HTTP %d with a body that is not JSON: ", (int)status);
      push_excerpt(L, body, len);
      lua_concat(L, 2);
    } else {
      lua_pushfstring(L, "the service answered HTTP %d with an empty body", (int)status);
    }
    ecs_push_error(L, len > 0 ? "Response.NotJSON" : "Response.Empty", lua_tostring(L, -1), status,
                   status >= 500 || status == 429, action);
    lua_remove(L, -2);
  } else {
    const char *code;
    top = lua_gettop(L);
    lua_pushnil(L);
    lua_insert(L, top); /* nil, decoded */
    code = field_str(L, top + 1, "Code");
    if (code == NULL) code = field_str(L, top + 1, "code");
    ecs_push_error(L, code ? code : "UnknownError", NULL, status, is_retryable_code(code, status),
                   action);
    {
      static const char *const map[][2] = {{"Message", "message"},       {"message", "message"},
                                           {"RequestId", "request_id"},  {"requestId", "request_id"},
                                           {"HostId", "host_id"},        {"Recommend", "recommend"},
                                           {"AccessDeniedDetail", "access_denied_detail"}};
      size_t i;
      for (i = 0; i < sizeof map / sizeof map[0]; i++) {
        lua_getfield(L, top + 1, map[i][0]);
        if (!lua_isnil(L, -1)) lua_setfield(L, -2, map[i][1]);
        else lua_pop(L, 1);
      }
    }
    lua_getfield(L, -1, "message");
    if (lua_type(L, -1) != LUA_TSTRING) { /* an error body without a message */
      lua_pushfstring(L, "the service answered HTTP %d without an error message", (int)status);
      lua_setfield(L, -3, "message");
    }
    lua_pop(L, 1);
    lua_remove(L, top + 1); /* decoded body */
  }
  if (hdr_idx) {
    lua_pushvalue(L, hdr_idx);
    lua_setfield(L, -2, "headers");
  }
  return 2;
}

static int l_decode(lua_State *L) {
  long status = (long)luaL_checkinteger(L, 1);
  size_t len;
  const char *body = luaL_optlstring(L, 2, "", &len);
  int hdr = 0;
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    hdr = 3;
  }
  return ecs_decode_response(L, status, body, len, hdr, luaL_optstring(L, 4, NULL));
}

static int l_new_error(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  ecs_setmetatable(L, ECS_ERROR_MT);
  return 1;
}

void ecs_decode_setup(lua_State *L) {
  /* module table on top */
  int mod = lua_gettop(L);
  lua_pushcfunction(L, l_decode);
  lua_setfield(L, mod, "decode");
  lua_pushcfunction(L, l_new_error);
  lua_setfield(L, mod, "new_error");
  luaL_getmetatable(L, ECS_ERROR_MT);
  lua_setfield(L, mod, "error_mt");
  /* a private cjson instance so the user's cjson settings are untouched */
  lua_getglobal(L, "require");
  lua_pushliteral(L, "cjson");
  if (lua_pcall(L, 1, 1, 0) == 0 && lua_istable(L, -1)) {
    int cj = lua_gettop(L);
    lua_getfield(L, cj, "new");
    if (lua_isfunction(L, -1) && lua_pcall(L, 0, 1, 0) == 0 && lua_istable(L, -1)) {
      lua_replace(L, cj);
    } else {
      lua_pop(L, 1);
    }
    lua_getfield(L, cj, "decode");
    lua_setfield(L, LUA_REGISTRYINDEX, ECS_REG_DECODE);
    lua_getfield(L, cj, "null");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, ECS_REG_NULL);
    lua_setfield(L, mod, "null");
  }
  lua_settop(L, mod);
}
