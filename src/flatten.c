/* flatten: Lua request values -> flat RPC parameters; compact JSON for
 * JSON-typed parameters. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcore.h"

#define MAX_DEPTH 32

static int lbuf_gc(lua_State *L) {
  ecs_buf *b = (ecs_buf *)luaL_checkudata(L, 1, ECS_BUF_MT);
  ecs_buf_free(b);
  return 0;
}

ecs_buf *ecs_lbuf_push(lua_State *L) {
  ecs_buf *b = (ecs_buf *)ecs_newuserdata(L, sizeof *b);
  ecs_buf_init(b);
  if (luaL_newmetatable(L, ECS_BUF_MT)) {
    lua_pushcfunction(L, lbuf_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return b;
}

/* Formats a number the way the service expects: integers without ".0",
 * other values in the shortest form that reads back equal. */
static void format_number(lua_State *L, int idx, char *out, size_t cap, const char *what) {
  lua_Number v;
#if ECS_HAS_INTEGERS
  if (lua_isinteger(L, idx)) {
    snprintf(out, cap, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, idx));
    return;
  }
#endif
  v = lua_tonumber(L, idx);
  if (v != v || v == HUGE_VAL || v == -HUGE_VAL) {
    luaL_error(L, "bad value for '%s': %s is not a number the service accepts", what,
               v != v ? "NaN" : "infinity");
    return;
  }
  if (v == 0) { /* also -0 */
    snprintf(out, cap, "0");
    return;
  }
  if (floor(v) == v && fabs(v) < 1e21) { /* integral: every digit, no exponent */
    snprintf(out, cap, "%.0f", (double)v);
    return;
  }
  {
    int prec;
    for (prec = 15; prec <= 17; prec++) {
      snprintf(out, cap, "%.*g", prec, (double)v);
      if (strtod(out, NULL) == (double)v) break;
    }
  }
}

int ecs_push_scalar(lua_State *L, int idx, const char *what) {
  char num[64];
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: lua_pushvalue(L, idx); return 1;
    case LUA_TBOOLEAN: lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false"); return 1;
    case LUA_TNUMBER:
      format_number(L, idx, num, sizeof num, what);
      lua_pushstring(L, num);
      return 1;
    default: return 0;
  }
}

/* 0: not JSON-typed; 1: a JSON object (Parameters); 2: a JSON array */
static int is_json_name(const char *k) {
  static const char *const lists[] = {"InstanceIds", "PrivateIpAddresses", "PublicIpAddresses",
                                      "EipAddresses", "InnerIpAddresses", NULL};
  int i;
  if (strcmp(k, "Parameters") == 0) return 1;
  for (i = 0; lists[i]; i++)
    if (strcmp(k, lists[i]) == 0) return 2;
  return 0;
}

static int is_tag_name(const char *k, size_t n) {
  return (n >= 3 && strcmp(k + n - 3, "Tag") == 0) || (n >= 4 && strcmp(k + n - 4, "Tags") == 0);
}

/* 0 empty, 1 list (keys 1..n only), 2 map (string keys only), -1 mixed */
static int table_kind(lua_State *L, int idx, size_t *count) {
  size_t n = ecs_rawlen(L, idx), total = 0, strkeys = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    total++;
    if (lua_type(L, -2) == LUA_TSTRING) strkeys++;
    lua_pop(L, 1);
  }
  *count = total;
  if (total == 0) return 0;
  if (strkeys == total) return 2;
  if (strkeys == 0 && total == n) return 1;
  return -1;
}

typedef struct key_ref {
  const char *s;
  size_t n;
} key_ref;

static int key_cmp(const void *a, const void *b) {
  const key_ref *x = (const key_ref *)a, *y = (const key_ref *)b;
  size_t m = x->n < y->n ? x->n : y->n;
  int r = memcmp(x->s, y->s, m);
  return r ? r : (x->n > y->n) - (x->n < y->n);
}

/* Pushes a userdata array of the table's string keys, sorted. The strings
 * stay alive because they are keys of the table, which the caller anchors. */
static key_ref *sorted_keys(lua_State *L, int idx, size_t count) {
  key_ref *keys = (key_ref *)ecs_newuserdata(L, (count ? count : 1) * sizeof *keys);
  size_t i = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (i < count) {
      keys[i].s = lua_tolstring(L, -1, &keys[i].n);
      i++;
    }
  }
  qsort(keys, i, sizeof *keys, key_cmp);
  return keys;
}

static void check_cycle(lua_State *L, int seen, int idx, const char *what) {
  lua_pushvalue(L, idx);
  lua_rawget(L, seen);
  if (!lua_isnil(L, -1)) luaL_error(L, "bad value for '%s': the table contains itself (a cycle)", what);
  lua_pop(L, 1);
  lua_pushvalue(L, idx);
  lua_pushboolean(L, 1);
  lua_rawset(L, seen);
}

static void uncheck_cycle(lua_State *L, int seen, int idx) {
  lua_pushvalue(L, idx);
  lua_pushnil(L);
  lua_rawset(L, seen);
}

/* ---- JSON ---- */

static void json_string(ecs_buf *out, const char *s, size_t n) {
  size_t i;
  ecs_buf_addc(out, '"');
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
      case '"': ecs_buf_add(out, "\\\"", 2); break;
      case '\\': ecs_buf_add(out, "\\\\", 2); break;
      case '\n': ecs_buf_add(out, "\\n", 2); break;
      case '\r': ecs_buf_add(out, "\\r", 2); break;
      case '\t': ecs_buf_add(out, "\\t", 2); break;
      case '\b': ecs_buf_add(out, "\\b", 2); break;
      case '\f': ecs_buf_add(out, "\\f", 2); break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char esc[8];
          snprintf(esc, sizeof esc, "\\u%04x", c);
          ecs_buf_add(out, esc, 6);
        } else {
          ecs_buf_addc(out, (char)c);
        }
    }
  }
  ecs_buf_addc(out, '"');
}

static void json_value(lua_State *L, int idx, ecs_buf *out, int seen, int depth, const char *what);

static void json_table(lua_State *L, int idx, ecs_buf *out, int seen, int depth, const char *what) {
  size_t count, i;
  int kind;
  if (depth > MAX_DEPTH) luaL_error(L, "bad value for '%s': nested deeper than %d levels", what, MAX_DEPTH);
  luaL_checkstack(L, 8, "nesting too deep");
  check_cycle(L, seen, idx, what);
  kind = table_kind(L, idx, &count);
  if (kind < 0) luaL_error(L, "bad value for '%s': a table mixes list items and named keys", what);
  if (kind == 1) {
    ecs_buf_addc(out, '[');
    for (i = 1; i <= count; i++) {
      if (i > 1) ecs_buf_addc(out, ',');
      lua_pushfstring(L, "%s.%d", what, (int)i); /* the element's name, for errors */
      lua_rawgeti(L, idx, (int)i);
      json_value(L, lua_gettop(L), out, seen, depth + 1, lua_tostring(L, -2));
      lua_pop(L, 2);
    }
    ecs_buf_addc(out, ']');
  } else {
    key_ref *keys = sorted_keys(L, idx, count);
    ecs_buf_addc(out, '{');
    for (i = 0; i < count; i++) {
      if (i > 0) ecs_buf_addc(out, ',');
      json_string(out, keys[i].s, keys[i].n);
      ecs_buf_addc(out, ':');
      lua_pushfstring(L, "%s.%s", what, keys[i].s);
      lua_pushlstring(L, keys[i].s, keys[i].n);
      lua_rawget(L, idx);
      json_value(L, lua_gettop(L), out, seen, depth + 1, lua_tostring(L, -2));
      lua_pop(L, 2);
    }
    ecs_buf_addc(out, '}');
    lua_pop(L, 1); /* keys */
  }
  uncheck_cycle(L, seen, idx);
}

static void json_value(lua_State *L, int idx, ecs_buf *out, int seen, int depth, const char *what) {
  char num[64];
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      json_string(out, s, n);
      break;
    }
    case LUA_TNUMBER:
      format_number(L, idx, num, sizeof num, what);
      ecs_buf_adds(out, num);
      break;
    case LUA_TBOOLEAN: ecs_buf_adds(out, lua_toboolean(L, idx) ? "true" : "false"); break;
    case LUA_TTABLE: json_table(L, idx, out, seen, depth, what); break;
    case LUA_TLIGHTUSERDATA: {
      int isnull;
      lua_getfield(L, LUA_REGISTRYINDEX, ECS_REG_NULL);
      isnull = lua_rawequal(L, -1, idx);
      lua_pop(L, 1);
      if (isnull) { ecs_buf_adds(out, "null"); break; }
    } /* fallthrough */
    default:
      luaL_error(L, "bad value for '%s': a %s cannot be sent (use strings, numbers, booleans or tables)",
                 what, luaL_typename(L, idx));
  }
  if (out->oom) luaL_error(L, "not enough memory");
}

void ecs_json_encode(lua_State *L, int idx, ecs_buf *out) {
  int seen;
  idx = ecs_absindex(L, idx);
  lua_newtable(L);
  seen = lua_gettop(L);
  json_value(L, idx, out, seen, 0, "value");
  lua_pop(L, 1);
}

/* Collects a flat table (string keys and string values) into a sorted
 * param array, pushed as a userdata so it is freed by the collector; the
 * strings stay alive because the table, which the caller keeps on the stack,
 * holds them. */
ecs_param *ecs_collect_params(lua_State *L, int flat, size_t *np) {
  size_t n = 0, i = 0;
  ecs_param *p;
  flat = ecs_absindex(L, flat);
  lua_pushnil(L);
  while (lua_next(L, flat)) { n++; lua_pop(L, 1); }
  p = (ecs_param *)ecs_newuserdata(L, (n ? n : 1) * sizeof *p);
  lua_pushnil(L);
  while (lua_next(L, flat)) {
    p[i].k = lua_tolstring(L, -2, &p[i].klen);
    p[i].v = lua_tolstring(L, -1, &p[i].vlen);
    i++;
    lua_pop(L, 1);
  }
  ecs_params_sort(p, n);
  *np = n;
  return p;
}

/* ---- flatten ---- */

static void flat_value(lua_State *L, int out, int seen, int name, int val, int depth, int tagmap);

/* name and val are stack indexes; the flat table is at out */
static void flat_table(lua_State *L, int out, int seen, int name, int val, int depth, int tagmap) {
  size_t count, i;
  int kind;
  const char *nm = lua_tostring(L, name);
  if (depth > MAX_DEPTH) luaL_error(L, "bad value for '%s': nested deeper than %d levels", nm, MAX_DEPTH);
  luaL_checkstack(L, 10, "nesting too deep");
  check_cycle(L, seen, val, nm);
  kind = table_kind(L, val, &count);
  if (kind < 0) luaL_error(L, "bad value for '%s': a table mixes list items and named keys", nm);
  if (kind == 1) {
    for (i = 1; i <= count; i++) {
      lua_pushfstring(L, "%s.%d", nm, (int)i);
      lua_rawgeti(L, val, (int)i);
      flat_value(L, out, seen, lua_gettop(L) - 1, lua_gettop(L), depth + 1, 0);
      lua_pop(L, 2);
    }
  } else if (kind == 2) {
    key_ref *keys = sorted_keys(L, val, count);
    for (i = 0; i < count; i++) {
      lua_pushlstring(L, keys[i].s, keys[i].n);
      lua_rawget(L, val);
      if (tagmap) {
        if (lua_type(L, -1) == LUA_TTABLE)
          luaL_error(L, "bad value for '%s.%s': a tag value must be a string", nm, keys[i].s);
        lua_pushfstring(L, "%s.%d.Key", nm, (int)(i + 1));
        lua_pushlstring(L, keys[i].s, keys[i].n);
        lua_rawset(L, out);
        lua_pushfstring(L, "%s.%d.Value", nm, (int)(i + 1));
        if (!ecs_push_scalar(L, -2, lua_tostring(L, -1)))
          luaL_error(L, "bad value for '%s.%s': a %s cannot be sent", nm, keys[i].s,
                     luaL_typename(L, -2));
        lua_rawset(L, out);
        lua_pop(L, 1);
      } else {
        lua_pushfstring(L, "%s.%s", nm, keys[i].s);
        lua_insert(L, -2);
        flat_value(L, out, seen, lua_gettop(L) - 1, lua_gettop(L), depth + 1, 0);
        lua_pop(L, 2);
      }
    }
    lua_pop(L, 1); /* keys */
  }
  uncheck_cycle(L, seen, val);
}

static void flat_value(lua_State *L, int out, int seen, int name, int val, int depth, int tagmap) {
  const char *nm = lua_tostring(L, name);
  if (lua_type(L, val) == LUA_TTABLE) {
    flat_table(L, out, seen, name, val, depth, tagmap);
    return;
  }
  lua_pushvalue(L, name);
  if (!ecs_push_scalar(L, val, nm))
    luaL_error(L, "bad value for '%s': a %s cannot be sent (use strings, numbers, booleans or tables)",
               nm, luaL_typename(L, val));
  lua_rawset(L, out);
}

void ecs_flatten(lua_State *L, int idx) {
  int out, seen;
  idx = ecs_absindex(L, idx);
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_newtable(L);
  out = lua_gettop(L);
  lua_newtable(L);
  seen = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t klen;
    const char *k;
    int key = lua_gettop(L) - 1, val = lua_gettop(L);
    if (lua_type(L, key) != LUA_TSTRING)
      luaL_error(L, "bad parameter name: expected a string, got a %s", luaL_typename(L, key));
    k = lua_tolstring(L, key, &klen);
    if (klen == 0) luaL_error(L, "bad parameter name: empty string");
    if (lua_type(L, val) == LUA_TTABLE && is_json_name(k)) {
      ecs_buf *b;
      int box;
      lua_pushvalue(L, key);
      b = ecs_lbuf_push(L);
      box = lua_gettop(L);
      lua_pushnil(L);
      if (is_json_name(k) == 2 && !lua_next(L, val)) {
        ecs_buf_adds(b, "[]"); /* an empty table is an empty list here, not {} */
      } else {
        lua_settop(L, box);
        json_value(L, val, b, seen, 0, k);
      }
      lua_settop(L, box);
      lua_pushlstring(L, b->p ? b->p : "", b->len);
      lua_remove(L, box);
      lua_rawset(L, out);
    } else {
      flat_value(L, out, seen, key, val, 0, is_tag_name(k, klen));
    }
    lua_settop(L, key);
  }
  lua_pop(L, 1); /* seen */
}
