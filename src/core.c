/* luaopen_ecs_core: the module table and its stage functions (encode, sign,
 * flatten, digests), on top of the plain-C encode.c and sign.c. */
#include <string.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "encode.h"
#include "lcore.h"
#include "sign.h"

#ifndef ECS_VERSION
#define ECS_VERSION "0.0.0"
#endif

#if defined(__GNUC__)
#define ECS_EXPORT __attribute__((visibility("default")))
#else
#define ECS_EXPORT
#endif

static int push_buf(lua_State *L, ecs_buf *b) {
  if (b->oom) return luaL_error(L, "not enough memory");
  lua_pushlstring(L, b->p ? b->p : "", b->len);
  return 1;
}

static int l_percent_encode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  ecs_buf *b = ecs_lbuf_push(L);
  ecs_pct_encode(b, s, n);
  return push_buf(L, b);
}

static int l_percent_decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  ecs_buf *b = ecs_lbuf_push(L);
  ecs_pct_decode(b, s, n, 0);
  return push_buf(L, b);
}

/* Pushes a sorted param array (userdata) for a flat table whose values are
 * strings or scalars (converted in place into a fresh table). */
static ecs_param *flat_params(lua_State *L, int t, size_t *np) {
  int strs;
  luaL_checktype(L, t, LUA_TTABLE);
  lua_newtable(L);
  strs = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "bad parameter name: expected a string, got a %s", luaL_typename(L, -2));
    lua_pushvalue(L, -2);
    if (!ecs_push_scalar(L, -2, lua_tostring(L, -1)))
      luaL_error(L, "bad value for '%s': expected a string, number or boolean, got a %s", lua_tostring(L, -3),
                 luaL_typename(L, -2));
    lua_rawset(L, strs);
    lua_pop(L, 1);
  }
  return ecs_collect_params(L, strs, np);
}

static int l_canonical_query(lua_State *L) {
  size_t n;
  ecs_param *p = flat_params(L, 1, &n);
  ecs_buf *b = ecs_lbuf_push(L);
  ecs_canonical_query(b, p, n);
  return push_buf(L, b);
}

static int query_cb(void *ud, const char *k, size_t klen, const char *v, size_t vlen) {
  lua_State *L = (lua_State *)ud;
  lua_pushlstring(L, k, klen);
  lua_pushlstring(L, v, vlen);
  lua_rawset(L, -3);
  return 0;
}

static int l_parse_query(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  lua_newtable(L);
  /* the callback only pushes Lua strings: an OOM raise there cannot leak,
   * since the scratch buffers are freed by ecs_parse_query only on return */
  if (ecs_parse_query(s, n, query_cb, L) != 0) return luaL_error(L, "not enough memory");
  return 1;
}

static int l_flatten(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  ecs_flatten(L, 1);
  return 1;
}

static int l_json_encode(lua_State *L) {
  ecs_buf *b;
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  b = ecs_lbuf_push(L);
  ecs_json_encode(L, 1, b);
  return push_buf(L, b);
}

static int l_v2_string_to_sign(lua_State *L) {
  size_t ml, n;
  const char *m = luaL_checklstring(L, 1, &ml);
  ecs_param *p = flat_params(L, 2, &n);
  ecs_buf *b = ecs_lbuf_push(L);
  ecs_v2_string_to_sign(b, m, ml, p, n);
  return push_buf(L, b);
}

static int l_v2_signature(lua_State *L) {
  size_t sl, n;
  const char *secret = luaL_checklstring(L, 1, &sl), *sts = luaL_checklstring(L, 2, &n);
  char out[29];
  if (ecs_v2_signature(secret, sl, sts, n, out) != 0) return luaL_error(L, "HMAC-SHA1 failed");
  lua_pushstring(L, out);
  return 1;
}

static int l_v3_canonical_request(lua_State *L) {
  size_t ml, pl, hl, nq, nh = 0, i = 0;
  const char *m = luaL_checklstring(L, 1, &ml), *path = luaL_checklstring(L, 2, &pl);
  const char *hash = luaL_checklstring(L, 5, &hl);
  ecs_param *q;
  ecs_header *h;
  ecs_buf *out, *sh;
  luaL_checktype(L, 4, LUA_TTABLE);
  q = flat_params(L, 3, &nq);
  lua_pushnil(L);
  while (lua_next(L, 4)) { nh++; lua_pop(L, 1); }
  h = (ecs_header *)ecs_newuserdata(L, (nh ? nh : 1) * sizeof *h);
  lua_pushnil(L);
  while (lua_next(L, 4)) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) { /* { name = value } */
      h[i].name = lua_tolstring(L, -2, &h[i].nlen);
      h[i].value = lua_tolstring(L, -1, &h[i].vlen);
    } else if (lua_type(L, -1) == LUA_TTABLE) { /* { {name, value}, ... } */
      lua_rawgeti(L, -1, 1);
      lua_rawgeti(L, -2, 2);
      if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
        return luaL_error(L, "bad header #%d: expected {name, value} strings", (int)(i + 1));
      h[i].name = lua_tolstring(L, -2, &h[i].nlen);
      h[i].value = lua_tolstring(L, -1, &h[i].vlen);
      lua_pop(L, 2); /* still referenced by the pair table */
    } else {
      return luaL_error(L, "bad headers: expected { name = value } or a list of {name, value}");
    }
    i++;
    lua_pop(L, 1);
  }
  out = ecs_lbuf_push(L);
  sh = ecs_lbuf_push(L);
  if (ecs_v3_canonical_request(out, sh, m, ml, path, pl, q, nq, h, nh, hash, hl) != 0)
    return luaL_error(L, "not enough memory");
  push_buf(L, out);
  push_buf(L, sh);
  return 2;
}

static int l_v3_string_to_sign(lua_State *L) {
  size_t n;
  const char *cr = luaL_checklstring(L, 1, &n);
  ecs_buf *b = ecs_lbuf_push(L);
  ecs_v3_string_to_sign(b, cr, n);
  return push_buf(L, b);
}

static int l_v3_signature(lua_State *L) {
  size_t sl, n;
  const char *secret = luaL_checklstring(L, 1, &sl), *sts = luaL_checklstring(L, 2, &n);
  char out[65];
  if (ecs_v3_signature(secret, sl, sts, n, out) != 0) return luaL_error(L, "HMAC-SHA256 failed");
  lua_pushstring(L, out);
  return 1;
}

static int l_sha256_hex(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  char out[65];
  ecs_sha256_hex(s, n, out);
  lua_pushstring(L, out);
  return 1;
}

static int l_hmac_sha1(lua_State *L) {
  size_t kl, n;
  const char *k = luaL_checklstring(L, 1, &kl), *s = luaL_checklstring(L, 2, &n);
  unsigned char md[20];
  if (ecs_hmac_sha1(k, kl, s, n, md) != 0) return luaL_error(L, "HMAC-SHA1 failed");
  lua_pushlstring(L, (const char *)md, sizeof md);
  return 1;
}

static int l_hmac_sha256(lua_State *L) {
  size_t kl, n;
  const char *k = luaL_checklstring(L, 1, &kl), *s = luaL_checklstring(L, 2, &n);
  unsigned char md[32];
  if (ecs_hmac_sha256(k, kl, s, n, md) != 0) return luaL_error(L, "HMAC-SHA256 failed");
  lua_pushlstring(L, (const char *)md, sizeof md);
  return 1;
}

static int l_base64_encode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  ecs_buf *b = ecs_lbuf_push(L);
  ecs_base64_encode(b, (const unsigned char *)s, n);
  return push_buf(L, b);
}

static int l_base64_decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  ecs_buf *b = ecs_lbuf_push(L);
  if (ecs_base64_decode(b, s, n) != 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "invalid Base64 input");
    return 2;
  }
  return push_buf(L, b);
}

static int l_random_hex(lua_State *L) {
  lua_Integer n = luaL_optinteger(L, 1, 16);
  char out[129];
  luaL_argcheck(L, n >= 1 && n <= 64, 1, "expected 1 to 64 bytes");
  if (ecs_random_hex(out, (size_t)n) != 0) return luaL_error(L, "OpenSSL could not produce random bytes");
  lua_pushstring(L, out);
  return 1;
}

/* A random (version 4) UUID: the client's ClientToken. */
static int l_uuid(lua_State *L) {
  static const char H[] = "0123456789abcdef";
  unsigned char r[16];
  char out[37];
  int i, j = 0;
  if (RAND_bytes(r, sizeof r) != 1) return luaL_error(L, "OpenSSL could not produce random bytes");
  r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
  r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
  for (i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[j++] = '-';
    out[j++] = H[r[i] >> 4];
    out[j++] = H[r[i] & 15];
  }
  lua_pushlstring(L, out, 36);
  return 1;
}

static int l_timestamp(lua_State *L) {
  char out[21];
  double t;
  if (lua_isnoneornil(L, 1)) {
    t = (double)time(NULL);
  } else {
    t = luaL_checknumber(L, 1);
    luaL_argcheck(L, t == t && t > -62135596800.0 && t < 253402300800.0, 1, "epoch seconds out of range");
  }
  ecs_format_timestamp(t, out);
  lua_pushstring(L, out);
  return 1;
}

static int l_parse_timestamp(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  double t;
  if (ecs_parse_timestamp(s, n, &t) != 0) return 0;
  lua_pushnumber(L, t);
  return 1;
}

static int l_parse_http_date(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  double t;
  if (ecs_parse_http_date(s, n, &t) != 0) return 0;
  lua_pushnumber(L, t);
  return 1;
}

static const luaL_Reg FUNCS[] = {
    {"percent_encode", l_percent_encode},
    {"percent_decode", l_percent_decode},
    {"canonical_query", l_canonical_query},
    {"parse_query", l_parse_query},
    {"flatten", l_flatten},
    {"json_encode", l_json_encode},
    {"v2_string_to_sign", l_v2_string_to_sign},
    {"v2_signature", l_v2_signature},
    {"v3_canonical_request", l_v3_canonical_request},
    {"v3_string_to_sign", l_v3_string_to_sign},
    {"v3_signature", l_v3_signature},
    {"sha256_hex", l_sha256_hex},
    {"hmac_sha1", l_hmac_sha1},
    {"hmac_sha256", l_hmac_sha256},
    {"base64_encode", l_base64_encode},
    {"base64_decode", l_base64_decode},
    {"random_hex", l_random_hex},
    {"uuid", l_uuid},
    {"timestamp", l_timestamp},
    {"parse_timestamp", l_parse_timestamp},
    {"parse_http_date", l_parse_http_date},
    {"new", ecs_client_new},
    {NULL, NULL},
};

ECS_EXPORT int luaopen_ecs_core(lua_State *L);
ECS_EXPORT int luaopen_ecs_core(lua_State *L) {
  static int curl_ready = 0;
  if (!curl_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return luaL_error(L, "libcurl failed to initialise");
    curl_ready = 1;
  }
  ecs_error_setup(L);
  lua_newtable(L);
  ecs_setfuncs(L, FUNCS, 0);
  lua_pushliteral(L, ECS_API_VERSION);
  lua_setfield(L, -2, "API_VERSION");
  lua_pushliteral(L, ECS_VERSION);
  lua_setfield(L, -2, "_VERSION");
  {
    /* curl_version_info, not curl_version: the latter initialises LDAP/SASL
     * just to print their versions, and those allocations are never freed */
    const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
    lua_pushfstring(L, "libcurl/%s %s", vi->version, vi->ssl_version ? vi->ssl_version : "no-tls");
    lua_setfield(L, -2, "curl_version");
  }
  ecs_decode_setup(L);
  ecs_client_setup(L);
  return 1;
}
