/* The C client: configuration, signing a request into a form-encoded POST,
 * sending it with libcurl (one keep-alive handle; a multi handle for batches)
 * and decoding the answer, all without leaving C. */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/crypto.h>

#include "encode.h"
#include "http.h"
#include "lcore.h"
#include "sign.h"

#define MAX_CONCURRENCY 256
#define MAX_HEADERS 16
#define ECS_MAX_OFFSET 3155760000.0 /* 100 years, in seconds */
#define ECS_MAX_EPOCH 253402300799.0 /* 9999-12-31T23:59:59Z */

typedef struct client {
  ecs_handle easy;
  CURLM *multi;
  ecs_handle pool[MAX_CONCURRENCY];
  size_t npool;
  ecs_http_opts http;
  char *url, *host, *path, *region, *akid, *secret, *token, *version, *ua;
  char *ca_file, *ca_path, *proxy, *no_proxy;
  int v3, closed;
  double offset;
  double requests, connections;
  ecs_xfer x;
  ecs_buf body, sts, cr, sh, tmp, auth; /* auth: the Authorization value, kept apart from tmp */
} client;

typedef struct hdr_list {
  const char *name[MAX_HEADERS];
  const char *value[MAX_HEADERS];
  int n;
} hdr_list;

typedef struct req_state {
  const char *action;
  char date[21];
  char nonce[129];
  char sha[65];
  char sig[65];
  hdr_list h;
} req_state;

static void wipe_free(char **p) {
  if (*p) {
    OPENSSL_cleanse(*p, strlen(*p));
    free(*p);
    *p = NULL;
  }
}

static char *dup_str(lua_State *L, const char *s) {
  char *d;
  size_t n;
  if (s == NULL) return NULL;
  n = strlen(s);
  d = (char *)malloc(n + 1);
  if (d == NULL) {
    luaL_error(L, "not enough memory");
    return NULL;
  }
  memcpy(d, s, n + 1);
  return d;
}

static double now_epoch(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static client *check_client(lua_State *L, int idx) {
  client *c = (client *)luaL_checkudata(L, idx, ECS_CLIENT_MT);
  if (c->closed) luaL_error(L, "ecs.core client is closed");
  return c;
}

static void client_release(client *c) {
  size_t i;
  if (c->closed) return;
  c->closed = 1;
  for (i = 0; i < c->npool; i++) {
    if (c->multi) curl_multi_remove_handle(c->multi, c->pool[i].e);
    ecs_handle_free(&c->pool[i]);
  }
  c->npool = 0;
  if (c->multi) curl_multi_cleanup(c->multi);
  ecs_handle_free(&c->easy);
  c->multi = NULL;
  ecs_xfer_free(&c->x);
  ecs_buf_free(&c->body);
  ecs_buf_free(&c->sts);
  ecs_buf_free(&c->cr);
  ecs_buf_free(&c->sh);
  ecs_buf_free(&c->tmp);
  if (c->auth.p) OPENSSL_cleanse(c->auth.p, c->auth.cap);
  ecs_buf_free(&c->auth);
  free(c->url); free(c->host); free(c->path); free(c->region); free(c->akid);
  wipe_free(&c->secret);
  wipe_free(&c->token);
  free(c->version); free(c->ua); free(c->ca_file); free(c->ca_path);
  wipe_free(&c->proxy); /* a proxy URL may carry a password */
  free(c->no_proxy);
  c->url = c->host = c->path = c->region = c->akid = c->version = c->ua = NULL;
  c->ca_file = c->ca_path = c->no_proxy = NULL;
}

static int l_close(lua_State *L) {
  client *c = (client *)luaL_checkudata(L, 1, ECS_CLIENT_MT);
  client_release(c);
  return 0;
}

static int l_tostring(lua_State *L) {
  client *c = (client *)luaL_checkudata(L, 1, ECS_CLIENT_MT);
  if (c->closed) {
    lua_pushliteral(L, "ecs.core.client(closed)");
    return 1;
  }
  lua_pushfstring(L, "ecs.core.client(endpoint=%s, region=%s, access_key_id=%s, signature=%s)",
                  c->url, c->region ? c->region : "none", c->akid ? "****" : "none",
                  c->v3 ? "v3" : "v2");
  if (c->akid && strlen(c->akid) > 4) {
    lua_pop(L, 1);
    lua_pushfstring(L, "ecs.core.client(endpoint=%s, region=%s, access_key_id=%c%c%c%c****, signature=%s)",
                    c->url, c->region ? c->region : "none", c->akid[0], c->akid[1], c->akid[2],
                    c->akid[3], c->v3 ? "v3" : "v2");
  }
  return 1;
}

/* ---- configuration ---- */

/* Pushes at most the first 40 bytes of s (then "..."), for quoting a bad
 * value in an error message without copying a huge one. */
static const char *short_str(lua_State *L, const char *s) {
  size_t n = strlen(s);
  if (n <= 40) {
    lua_pushstring(L, s);
  } else {
    lua_pushlstring(L, s, 40);
    lua_pushliteral(L, "...");
    lua_concat(L, 2);
  }
  return lua_tostring(L, -1);
}


static int set_endpoint(lua_State *L, client *c, const char *ep) {
  const char *p = strstr(ep, "://"), *auth, *slash;
  size_t alen;
  if (p == NULL || !((p - ep == 4 && strncmp(ep, "http", 4) == 0) || (p - ep == 5 && strncmp(ep, "https", 5) == 0)))
    return luaL_error(L, "bad option 'endpoint': expected an http:// or https:// URL, got '%s'", short_str(L, ep));
  auth = p + 3;
  slash = strchr(auth, '/');
  alen = slash ? (size_t)(slash - auth) : strlen(auth);
  if (alen == 0) return luaL_error(L, "bad option 'endpoint': no host in '%s'", short_str(L, ep));
  if (strchr(ep, '?') || strchr(ep, '#'))
    return luaL_error(L, "bad option 'endpoint': a query or fragment is not allowed in '%s'", short_str(L, ep));
  free(c->url); free(c->host); free(c->path);
  c->url = c->host = c->path = NULL; /* a raise below must not leave them dangling */
  c->host = (char *)malloc(alen + 1);
  if (c->host == NULL) return luaL_error(L, "not enough memory");
  memcpy(c->host, auth, alen);
  c->host[alen] = '\0';
  c->path = dup_str(L, slash ? slash : "/");
  if (slash) {
    c->url = dup_str(L, ep);
  } else {
    size_t n = strlen(ep);
    c->url = (char *)malloc(n + 2);
    if (c->url == NULL) return luaL_error(L, "not enough memory");
    memcpy(c->url, ep, n);
    c->url[n] = '/';
    c->url[n + 1] = '\0';
  }
  return 0;
}

static const char *opt_string(lua_State *L, int vidx, const char *key) {
  if (lua_type(L, vidx) != LUA_TSTRING)
    luaL_error(L, "bad option '%s': expected a string, got %s", key, luaL_typename(L, vidx));
  if (strlen(lua_tostring(L, vidx)) != ecs_rawlen(L, vidx)) /* C strings would silently stop at the NUL */
    luaL_error(L, "bad option '%s': contains a NUL byte", key);
  return lua_tostring(L, vidx);
}

/* Sets *slot to a copy of the string option at vidx. The old value is freed
 * only once the new one exists, so a raise leaves the client consistent. */
static void replace_str(lua_State *L, char **slot, int vidx, const char *key, int wipe) {
  char *d = dup_str(L, opt_string(L, vidx, key));
  if (wipe) wipe_free(slot);
  else free(*slot);
  *slot = d;
}

static double opt_seconds(lua_State *L, int vidx, const char *key) {
  double v;
  if (lua_type(L, vidx) != LUA_TNUMBER)
    luaL_error(L, "bad option '%s': expected a number of seconds, got %s", key, luaL_typename(L, vidx));
  v = lua_tonumber(L, vidx);
  if (!(v > 0 && v <= 86400)) luaL_error(L, "bad option '%s': %f is not between 0 and 86400 seconds", key, v);
  return v;
}

static void apply_config(lua_State *L, client *c, int cfg) {
  lua_pushnil(L);
  while (lua_next(L, cfg)) {
    const char *k;
    int v = lua_gettop(L);
    if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "bad config: option names must be strings");
    k = lua_tostring(L, -2);
    if (strcmp(k, "endpoint") == 0) set_endpoint(L, c, opt_string(L, v, k));
    else if (strcmp(k, "region") == 0) replace_str(L, &c->region, v, k, 0);
    else if (strcmp(k, "access_key_id") == 0) replace_str(L, &c->akid, v, k, 0);
    else if (strcmp(k, "access_key_secret") == 0) replace_str(L, &c->secret, v, k, 1);
    else if (strcmp(k, "security_token") == 0) replace_str(L, &c->token, v, k, 1);
    else if (strcmp(k, "version") == 0) replace_str(L, &c->version, v, k, 0);
    else if (strcmp(k, "user_agent") == 0) replace_str(L, &c->ua, v, k, 0);
    else if (strcmp(k, "ca_file") == 0) replace_str(L, &c->ca_file, v, k, 0);
    else if (strcmp(k, "ca_path") == 0) replace_str(L, &c->ca_path, v, k, 0);
    else if (strcmp(k, "proxy") == 0) replace_str(L, &c->proxy, v, k, 1);
    else if (strcmp(k, "no_proxy") == 0) replace_str(L, &c->no_proxy, v, k, 0);
    else if (strcmp(k, "connect_timeout") == 0) c->http.connect_timeout_ms = (long)(opt_seconds(L, v, k) * 1000 + 0.5);
    else if (strcmp(k, "timeout") == 0) c->http.timeout_ms = (long)(opt_seconds(L, v, k) * 1000 + 0.5);
    else if (strcmp(k, "verify") == 0) {
      if (lua_type(L, v) != LUA_TBOOLEAN) luaL_error(L, "bad option 'verify': expected a boolean");
      c->http.verify = lua_toboolean(L, v);
    } else if (strcmp(k, "signature_version") == 0) {
      const char *s = opt_string(L, v, k);
      if (strcmp(s, "v3") == 0) c->v3 = 1;
      else if (strcmp(s, "v2") == 0) c->v3 = 0;
      else luaL_error(L, "bad option 'signature_version': expected \"v3\" or \"v2\", got '%s'", short_str(L, s));
    } else {
      luaL_error(L, "bad config: unknown option '%s'", short_str(L, k));
    }
    lua_pop(L, 1);
  }
  c->http.ca_file = c->ca_file;
  c->http.ca_path = c->ca_path;
  c->http.proxy = c->proxy;
  c->http.no_proxy = c->no_proxy;
  c->http.user_agent = c->ua;
}

int ecs_client_new(lua_State *L) {
  client *c;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  c = (client *)ecs_newuserdata(L, sizeof *c);
  memset(c, 0, sizeof *c);
  c->closed = 1; /* nothing to free until set up */
  luaL_getmetatable(L, ECS_CLIENT_MT);
  lua_setmetatable(L, -2);
  c->closed = 0;
  ecs_xfer_init(&c->x);
  ecs_buf_init(&c->body); ecs_buf_init(&c->sts); ecs_buf_init(&c->cr);
  ecs_buf_init(&c->sh); ecs_buf_init(&c->tmp); ecs_buf_init(&c->auth);
  c->v3 = 1;
  c->http.connect_timeout_ms = 5000;
  c->http.timeout_ms = 10000;
  c->http.verify = 1;
  c->version = dup_str(L, ECS_API_VERSION);
  c->ua = dup_str(L, "aliyun-ecs-lua");
  apply_config(L, c, 1);
  if (c->url == NULL) luaL_error(L, "bad config: option 'endpoint' is required");
  c->multi = curl_multi_init();
  if (ecs_handle_init(&c->easy) != 0 || c->multi == NULL) luaL_error(L, "libcurl could not create a handle");
  return 1;
}

static int l_set_credentials(lua_State *L) {
  client *c = check_client(L, 1);
  const char *id = luaL_checkstring(L, 2), *secret = luaL_checkstring(L, 3);
  const char *token = luaL_optstring(L, 4, NULL);
  char *nid, *nsecret, *ntoken = NULL;
  int i;
  for (i = 2; i <= 4; i++)
    if (lua_type(L, i) == LUA_TSTRING && strlen(lua_tostring(L, i)) != ecs_rawlen(L, i))
      return luaL_argerror(L, i, "contains a NUL byte");
  nid = dup_str(L, id);
  nsecret = (char *)malloc(strlen(secret) + 1);
  if (nsecret == NULL) { free(nid); return luaL_error(L, "not enough memory"); }
  memcpy(nsecret, secret, strlen(secret) + 1);
  if (token && *token) {
    ntoken = (char *)malloc(strlen(token) + 1);
    if (ntoken == NULL) { free(nid); wipe_free(&nsecret); return luaL_error(L, "not enough memory"); }
    memcpy(ntoken, token, strlen(token) + 1);
  }
  /* swap only once every copy exists, so a failure leaves the old set whole */
  free(c->akid);
  c->akid = nid;
  wipe_free(&c->secret);
  c->secret = nsecret;
  wipe_free(&c->token);
  c->token = ntoken;
  return 0;
}

static int l_set_time_offset(lua_State *L) {
  client *c = check_client(L, 1);
  lua_Number off = luaL_checknumber(L, 2);
  /* the signing clock must stay a real date: a century either way is plenty */
  if (!(off >= -ECS_MAX_OFFSET && off <= ECS_MAX_OFFSET))
    return luaL_argerror(L, 2, "set_time_offset: expected a finite number of seconds within 100 years");
  c->offset = off;
  return 0;
}

static int l_time(lua_State *L) {
  client *c = check_client(L, 1);
  lua_pushnumber(L, now_epoch() + c->offset);
  return 1;
}

static int l_stats(lua_State *L) {
  client *c = check_client(L, 1);
  lua_createtable(L, 0, 2);
  lua_pushnumber(L, c->requests);
  lua_setfield(L, -2, "requests");
  lua_pushnumber(L, c->connections);
  lua_setfield(L, -2, "connections");
  return 1;
}

/* ---- building a signed request ---- */

static void add_hdr(hdr_list *h, const char *n, const char *v) {
  if (h->n < MAX_HEADERS) {
    h->name[h->n] = n;
    h->value[h->n] = v;
    h->n++;
  }
}

static void set_flat(lua_State *L, int flat, const char *k, const char *v) {
  lua_pushstring(L, v);
  lua_setfield(L, flat, k);
}

/* Reads per-call opts (nonce, timestamp, timeout, connect_timeout). */
static void read_call_opts(lua_State *L, int opts, client *c, req_state *r, ecs_http_opts *http) {
  double ts = now_epoch() + c->offset;
  *http = c->http;
  r->nonce[0] = '\0';
  if (opts && !lua_isnoneornil(L, opts)) {
    luaL_checktype(L, opts, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, opts)) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
      int v = lua_gettop(L);
      if (strcmp(k, "nonce") == 0) {
        size_t n;
        const char *s = opt_string(L, v, k);
        n = ecs_rawlen(L, v);
        if (n == 0 || n >= sizeof r->nonce) luaL_error(L, "bad option 'nonce': 1 to 128 characters");
        memcpy(r->nonce, s, n + 1);
      } else if (strcmp(k, "timestamp") == 0) {
        if (lua_type(L, v) != LUA_TNUMBER) luaL_error(L, "bad option 'timestamp': expected epoch seconds");
        ts = lua_tonumber(L, v);
        if (!(ts >= 0 && ts <= ECS_MAX_EPOCH))
          luaL_error(L, "bad option 'timestamp': expected epoch seconds from 1970 to 9999");
      } else if (strcmp(k, "timeout") == 0) {
        http->timeout_ms = (long)(opt_seconds(L, v, k) * 1000 + 0.5);
      } else if (strcmp(k, "connect_timeout") == 0) {
        http->connect_timeout_ms = (long)(opt_seconds(L, v, k) * 1000 + 0.5);
      } else {
        luaL_error(L, "bad call option: unknown option '%s'", k);
      }
      lua_pop(L, 1);
    }
  }
  ecs_format_timestamp(ts, r->date);
  if (r->nonce[0] == '\0' && ecs_random_hex(r->nonce, 16) != 0)
    luaL_error(L, "OpenSSL could not produce random bytes for the nonce");
}

/* Signs action+params into c->body and r->h. Leaves the stack as it found it
 * plus the anchors it needs (flat table, param array), which the caller pops
 * after the request has gone out. */
static void build_request(lua_State *L, client *c, const char *action, int params, int opts,
                          req_state *r, ecs_http_opts *http) {
  int flat;
  size_t np;
  ecs_param *p;
  if (c->akid == NULL || c->secret == NULL)
    luaL_error(L, "no credentials: set access_key_id and access_key_secret");
  {
    /* the name goes into a header (V3) and the signed parameters: API names only */
    size_t i, n = strlen(action);
    if (n == 0 || n > 128) luaL_error(L, "bad action: expected an API name of 1 to 128 letters and digits");
    for (i = 0; i < n; i++)
      if (!((action[i] >= 'A' && action[i] <= 'Z') || (action[i] >= 'a' && action[i] <= 'z') ||
            (action[i] >= '0' && action[i] <= '9')))
        luaL_error(L, "bad action '%s': an API name has only letters and digits", short_str(L, action));
  }
  r->action = action;
  read_call_opts(L, opts, c, r, http);
  ecs_flatten(L, params);
  flat = lua_gettop(L);
  if (c->region) {
    lua_getfield(L, flat, "RegionId");
    if (lua_isnil(L, -1)) set_flat(L, flat, "RegionId", c->region);
    lua_pop(L, 1);
  }
  r->h.n = 0;
  ecs_buf_reset(&c->body);
  if (!c->v3) {
    set_flat(L, flat, "Action", action);
    set_flat(L, flat, "Version", c->version);
    set_flat(L, flat, "Format", "JSON");
    set_flat(L, flat, "AccessKeyId", c->akid);
    set_flat(L, flat, "SignatureMethod", "HMAC-SHA1");
    set_flat(L, flat, "SignatureVersion", "1.0");
    set_flat(L, flat, "SignatureNonce", r->nonce);
    set_flat(L, flat, "Timestamp", r->date);
    if (c->token) set_flat(L, flat, "SecurityToken", c->token);
    lua_pushnil(L);
    lua_setfield(L, flat, "Signature");
    p = ecs_collect_params(L, flat, &np);
    ecs_buf_reset(&c->sts);
    ecs_v2_string_to_sign(&c->sts, "POST", 4, p, np);
    if (c->sts.oom || ecs_v2_signature(c->secret, strlen(c->secret), c->sts.p, c->sts.len, r->sig) != 0)
      luaL_error(L, "signing failed (out of memory)");
    ecs_canonical_query(&c->body, p, np);
    ecs_buf_adds(&c->body, np ? "&Signature=" : "Signature=");
    ecs_pct_encode(&c->body, r->sig, strlen(r->sig));
    add_hdr(&r->h, "content-type", "application/x-www-form-urlencoded");
    add_hdr(&r->h, "accept", "application/json");
  } else {
    ecs_header hs[MAX_HEADERS];
    int nh = 0, i;
    p = ecs_collect_params(L, flat, &np);
    ecs_canonical_query(&c->body, p, np);
    ecs_sha256_hex(c->body.p ? c->body.p : "", c->body.len, r->sha);
    add_hdr(&r->h, "host", c->host);
    add_hdr(&r->h, "x-acs-action", action);
    add_hdr(&r->h, "x-acs-version", c->version);
    add_hdr(&r->h, "x-acs-date", r->date);
    add_hdr(&r->h, "x-acs-signature-nonce", r->nonce);
    add_hdr(&r->h, "x-acs-content-sha256", r->sha);
    add_hdr(&r->h, "content-type", "application/x-www-form-urlencoded");
    if (c->token) add_hdr(&r->h, "x-acs-security-token", c->token);
    for (i = 0; i < r->h.n; i++) {
      hs[nh].name = r->h.name[i];
      hs[nh].nlen = strlen(r->h.name[i]);
      hs[nh].value = r->h.value[i];
      hs[nh].vlen = strlen(r->h.value[i]);
      nh++;
    }
    ecs_buf_reset(&c->cr);
    ecs_buf_reset(&c->sh);
    ecs_buf_reset(&c->sts);
    if (ecs_v3_canonical_request(&c->cr, &c->sh, "POST", 4, c->path, strlen(c->path), NULL, 0, hs,
                                 (size_t)nh, r->sha, 64) != 0)
      luaL_error(L, "signing failed (out of memory)");
    ecs_v3_string_to_sign(&c->sts, c->cr.p, c->cr.len);
    if (c->sts.oom || ecs_v3_signature(c->secret, strlen(c->secret), c->sts.p, c->sts.len, r->sig) != 0)
      luaL_error(L, "signing failed (out of memory)");
    ecs_buf_reset(&c->auth);
    ecs_buf_adds(&c->auth, "ACS3-HMAC-SHA256 Credential=");
    ecs_buf_adds(&c->auth, c->akid);
    ecs_buf_adds(&c->auth, ",SignedHeaders=");
    ecs_buf_add(&c->auth, c->sh.p, c->sh.len);
    ecs_buf_adds(&c->auth, ",Signature=");
    ecs_buf_adds(&c->auth, r->sig);
    if (ecs_buf_cstr(&c->auth) == NULL) luaL_error(L, "not enough memory");
    add_hdr(&r->h, "authorization", c->auth.p);
    add_hdr(&r->h, "accept", "application/json");
  }
  if (c->body.oom || ecs_buf_cstr(&c->body) == NULL) luaL_error(L, "not enough memory");
}

/* Header lines for libcurl (copied by curl_slist_append). */
static int fill_xfer_headers(client *c, ecs_xfer *x, const hdr_list *h) {
  int i;
  if (x->headers) { curl_slist_free_all(x->headers); x->headers = NULL; }
  for (i = 0; i < h->n; i++) {
    if (strcmp(h->name[i], "host") == 0) continue; /* curl sends Host from the URL */
    ecs_buf_reset(&c->tmp);
    ecs_buf_adds(&c->tmp, h->name[i]);
    ecs_buf_adds(&c->tmp, ": ");
    ecs_buf_adds(&c->tmp, h->value[i]);
    if (ecs_buf_cstr(&c->tmp) == NULL || ecs_xfer_add_header(x, c->tmp.p) != 0) return -1;
  }
  if (ecs_xfer_add_header(x, "Expect:") != 0) return -1;
  return 0;
}

/* Replaces every occurrence of needle in the string at the top of the stack. */
static void replace_top(lua_State *L, const char *needle, size_t nlen) {
  size_t len;
  const char *s, *hit;
  luaL_Buffer b;
  if (nlen == 0) return;
  s = lua_tolstring(L, -1, &len);
  hit = s ? strstr(s, needle) : NULL;
  if (hit == NULL) return;
  luaL_buffinit(L, &b);
  while (hit) {
    luaL_addlstring(&b, s, (size_t)(hit - s));
    luaL_addstring(&b, "<redacted>");
    s = hit + nlen;
    hit = strstr(s, needle);
  }
  luaL_addstring(&b, s);
  luaL_pushresult(&b);
  lua_remove(L, -2);
}

/* Error messages may echo the server's string to sign, which contains the
 * security token (V2 signs it): remove it in plain and encoded forms. */
static void scrub_error(lua_State *L, client *c, int err) {
  ecs_buf e1, e2;
  if (c->token == NULL || lua_type(L, err) != LUA_TTABLE) return;
  ecs_buf_init(&e1);
  ecs_buf_init(&e2);
  ecs_pct_encode(&e1, c->token, strlen(c->token));
  ecs_pct_encode(&e2, e1.p ? e1.p : "", e1.len);
  ecs_buf_cstr(&e1);
  ecs_buf_cstr(&e2);
  lua_getfield(L, err, "message");
  if (lua_type(L, -1) == LUA_TSTRING) {
    if (e2.p) replace_top(L, e2.p, e2.len);
    if (e1.p) replace_top(L, e1.p, e1.len);
    replace_top(L, c->token, strlen(c->token));
    lua_setfield(L, err, "message");
  } else {
    lua_pop(L, 1);
  }
  ecs_buf_free(&e1);
  ecs_buf_free(&e2);
}

static void push_net_error(lua_State *L, ecs_xfer *x, const char *action, const char *host) {
  const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->rc);
  lua_pushfstring(L, "%s (host %s)", detail, host);
  ecs_push_error(L, ecs_http_error_code(x->rc), lua_tostring(L, -1), 0, ecs_http_retryable(x->rc),
                 action);
  lua_remove(L, -2);
  lua_pushinteger(L, (lua_Integer)x->rc);
  lua_setfield(L, -2, "curl_code");
  lua_pushboolean(L, x->sent);
  lua_setfield(L, -2, "sent");
}

/* After a transfer: pushes result, or nil + error. Returns 1 or 2. */
static int finish_call(lua_State *L, client *c, ecs_xfer *x, const char *action) {
  int hdr, nret;
  c->requests += 1;
  c->connections += (double)x->connects;
  if (x->rc != CURLE_OK) {
    lua_pushnil(L);
    push_net_error(L, x, action, c->host);
    return 2;
  }
  if (x->status >= 200 && x->status < 300) {
    nret = ecs_decode_response(L, x->status, x->resp_body.p ? x->resp_body.p : "", x->resp_body.len, 0, action);
  } else {
    ecs_push_headers(L, x->resp_headers.p ? x->resp_headers.p : "", x->resp_headers.len);
    hdr = lua_gettop(L);
    nret = ecs_decode_response(L, x->status, x->resp_body.p ? x->resp_body.p : "", x->resp_body.len, hdr, action);
    lua_remove(L, hdr);
  }
  if (nret == 2) scrub_error(L, c, lua_gettop(L));
  return nret;
}

static int do_call(lua_State *L, client *c, const char *action, int params, int opts) {
  req_state r;
  ecs_http_opts http;
  int top = lua_gettop(L);
  luaL_checktype(L, params, LUA_TTABLE);
  build_request(L, c, action, params, opts, &r, &http);
  if (fill_xfer_headers(c, &c->x, &r.h) != 0) luaL_error(L, "not enough memory");
  c->x.method = "POST";
  c->x.url = c->url;
  c->x.body = c->body.p;
  c->x.body_len = c->body.len;
  ecs_http_perform(&c->easy, &http, &c->x);
  curl_slist_free_all(c->x.headers);
  c->x.headers = NULL;
  lua_settop(L, top);
  return finish_call(L, c, &c->x, action);
}

/* The action argument: a string without embedded NUL (build_request checks
 * the characters). */
static const char *check_action(lua_State *L, int idx) {
  size_t n;
  const char *a = luaL_checklstring(L, idx, &n);
  if (strlen(a) != n) luaL_argerror(L, idx, "bad action: an API name has only letters and digits");
  return a;
}

static int l_call(lua_State *L) {
  client *c = check_client(L, 1);
  const char *action = check_action(L, 2);
  return do_call(L, c, action, 3, 4);
}

static int l_action(lua_State *L) {
  client *c = check_client(L, 1);
  const char *action = lua_tostring(L, lua_upvalueindex(1));
  return do_call(L, c, action, 2, 3);
}

static int l_prepare(lua_State *L) {
  client *c = check_client(L, 1);
  const char *action = check_action(L, 2);
  req_state r;
  ecs_http_opts http;
  int i, top;
  luaL_checktype(L, 3, LUA_TTABLE);
  top = lua_gettop(L);
  build_request(L, c, action, 3, top >= 4 ? 4 : 0, &r, &http);
  lua_createtable(L, 0, 6);
  lua_pushliteral(L, "POST");
  lua_setfield(L, -2, "method");
  lua_pushstring(L, c->url);
  lua_setfield(L, -2, "url");
  lua_pushstring(L, c->host);
  lua_setfield(L, -2, "host");
  lua_pushstring(L, c->path);
  lua_setfield(L, -2, "path");
  lua_pushlstring(L, c->body.p, c->body.len);
  lua_setfield(L, -2, "body");
  lua_createtable(L, 0, r.h.n);
  for (i = 0; i < r.h.n; i++) {
    lua_pushstring(L, r.h.value[i]);
    lua_setfield(L, -2, r.h.name[i]);
  }
  lua_setfield(L, -2, "headers");
  return 1;
}

/* ---- generic send ---- */

typedef struct batch {
  ecs_xfer *x;
  size_t n;
} batch;

static int batch_gc(lua_State *L) {
  batch *b = (batch *)lua_touserdata(L, 1);
  size_t i;
  if (b && b->x) {
    for (i = 0; i < b->n; i++) ecs_xfer_free(&b->x[i]);
    free(b->x);
    b->x = NULL;
  }
  return 0;
}

static batch *batch_push(lua_State *L, size_t n) {
  batch *b = (batch *)ecs_newuserdata(L, sizeof *b);
  size_t i;
  b->x = NULL;
  b->n = 0;
  if (luaL_newmetatable(L, "ecs.core.batch")) {
    lua_pushcfunction(L, batch_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  b->x = (ecs_xfer *)calloc(n ? n : 1, sizeof *b->x);
  if (b->x == NULL) luaL_error(L, "not enough memory");
  b->n = n;
  for (i = 0; i < n; i++) ecs_xfer_init(&b->x[i]);
  return b;
}

/* Fills x from a request table {method, url, headers, body}; strings stay
 * anchored by the request table, which the caller keeps on the stack. */
static void xfer_from_table(lua_State *L, client *c, int t, ecs_xfer *x, size_t index) {
  luaL_checkstack(L, 6, NULL);
  if (lua_type(L, t) != LUA_TTABLE) luaL_error(L, "bad request #%d: expected a table", (int)index);
  lua_getfield(L, t, "method");
  if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
    luaL_error(L, "bad request #%d: 'method' must be a string", (int)index);
  x->method = lua_isnil(L, -1) ? "POST" : lua_tostring(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, t, "url");
  if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
    luaL_error(L, "bad request #%d: 'url' must be a string", (int)index);
  x->url = lua_isnil(L, -1) ? c->url : lua_tostring(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, t, "body");
  if (lua_isnil(L, -1)) { x->body = ""; x->body_len = 0; }
  else if (lua_type(L, -1) == LUA_TSTRING) x->body = lua_tolstring(L, -1, &x->body_len);
  else luaL_error(L, "bad request #%d: 'body' must be a string", (int)index);
  lua_pop(L, 1);
  lua_getfield(L, t, "headers");
  if (lua_type(L, -1) == LUA_TTABLE) {
    int h = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, h)) {
      const char *k, *v;
      /* check the key's type first: lua_tostring would turn a number key into
       * a string in place and break lua_next */
      if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "bad request #%d: headers must map names to strings", (int)index);
      k = lua_tostring(L, -2);
      v = lua_tostring(L, -1);
      if (strpbrk(k, "\r\n:") != NULL || strpbrk(v, "\r\n") != NULL || strlen(k) != ecs_rawlen(L, -2) ||
          strlen(v) != ecs_rawlen(L, -1))
        luaL_error(L, "bad request #%d: a header name or value contains CR, LF, NUL or ':'", (int)index);
      if (strcmp(k, "host") != 0) {
        ecs_buf_reset(&c->tmp);
        ecs_buf_adds(&c->tmp, k);
        ecs_buf_adds(&c->tmp, ": ");
        ecs_buf_adds(&c->tmp, v);
        if (ecs_buf_cstr(&c->tmp) == NULL || ecs_xfer_add_header(x, c->tmp.p) != 0)
          luaL_error(L, "not enough memory");
      }
      lua_pop(L, 1);
    }
  } else if (!lua_isnil(L, -1)) {
    luaL_error(L, "bad request #%d: 'headers' must be a table", (int)index);
  }
  lua_pop(L, 1);
  if (ecs_xfer_add_header(x, "Expect:") != 0) luaL_error(L, "not enough memory");
}

static void push_response(lua_State *L, client *c, ecs_xfer *x) {
  c->requests += 1;
  c->connections += (double)x->connects;
  if (x->rc != CURLE_OK) {
    push_net_error(L, x, NULL, c->host);
    return;
  }
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)x->status);
  lua_setfield(L, -2, "status");
  ecs_push_headers(L, x->resp_headers.p ? x->resp_headers.p : "", x->resp_headers.len);
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, x->resp_body.p ? x->resp_body.p : "", x->resp_body.len);
  lua_setfield(L, -2, "body");
}

static void batch_opts(lua_State *L, int idx, client *c, ecs_http_opts *http, size_t *cap) {
  *http = c->http;
  *cap = 8;
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    int v = lua_gettop(L);
    if (strcmp(k, "concurrency") == 0) {
      lua_Number n = lua_tonumber(L, v);
      if (lua_type(L, v) != LUA_TNUMBER || !(n >= 1 && n <= MAX_CONCURRENCY))
        luaL_error(L, "bad option 'concurrency': expected a number from 1 to %d", MAX_CONCURRENCY);
      *cap = (size_t)n;
    } else if (strcmp(k, "timeout") == 0) {
      http->timeout_ms = (long)(opt_seconds(L, v, k) * 1000 + 0.5);
    } else if (strcmp(k, "connect_timeout") == 0) {
      http->connect_timeout_ms = (long)(opt_seconds(L, v, k) * 1000 + 0.5);
    } else {
      luaL_error(L, "bad batch option: unknown option '%s'", k);
    }
    lua_pop(L, 1);
  }
}

static int l_send(lua_State *L) {
  client *c = check_client(L, 1);
  ecs_http_opts http;
  size_t cap;
  luaL_checktype(L, 2, LUA_TTABLE);
  batch_opts(L, 3, c, &http, &cap);
  lua_settop(L, 2);
  xfer_from_table(L, c, 2, &c->x, 1);
  ecs_http_perform(&c->easy, &http, &c->x);
  curl_slist_free_all(c->x.headers);
  c->x.headers = NULL;
  push_response(L, c, &c->x);
  if (c->x.rc != CURLE_OK) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  return 1;
}

static int l_send_batch(lua_State *L) {
  client *c = check_client(L, 1);
  ecs_http_opts http;
  size_t cap, n, i;
  batch *b;
  luaL_checktype(L, 2, LUA_TTABLE);
  batch_opts(L, 3, c, &http, &cap);
  lua_settop(L, 2);
  n = ecs_rawlen(L, 2);
  b = batch_push(L, n); /* index 3 */
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, 2, (int)(i + 1));
    xfer_from_table(L, c, lua_gettop(L), &b->x[i], i + 1);
    lua_pop(L, 1); /* still anchored by the requests table */
  }
  ecs_http_batch(c->multi, c->pool, &c->npool, cap, &http, b->x, n);
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    push_response(L, c, &b->x[i]);
    lua_rawseti(L, -2, (int)(i + 1));
  }
  return 1;
}

static int l_call_batch(lua_State *L) {
  client *c = check_client(L, 1);
  ecs_http_opts http, call_http;
  size_t cap, n, i;
  batch *b;
  int bodies, actions;
  luaL_checktype(L, 2, LUA_TTABLE);
  batch_opts(L, 3, c, &http, &cap);
  lua_settop(L, 2);
  n = ecs_rawlen(L, 2);
  b = batch_push(L, n); /* 3 */
  lua_createtable(L, (int)n, 0);
  bodies = lua_gettop(L); /* 4: anchors each body */
  lua_createtable(L, (int)n, 0);
  actions = lua_gettop(L); /* 5: anchors each action name */
  for (i = 0; i < n; i++) {
    req_state r;
    int call, top;
    const char *action;
    lua_rawgeti(L, 2, (int)(i + 1));
    call = lua_gettop(L);
    if (lua_type(L, call) != LUA_TTABLE) luaL_error(L, "bad call #%d: expected { action, params }", (int)(i + 1));
    lua_rawgeti(L, call, 1);
    if (lua_type(L, -1) != LUA_TSTRING || strlen(lua_tostring(L, -1)) != ecs_rawlen(L, -1))
      luaL_error(L, "bad call #%d: the action name must be a string of letters and digits", (int)(i + 1));
    lua_pushvalue(L, -1);
    lua_rawseti(L, actions, (int)(i + 1));
    action = lua_tostring(L, -1);
    lua_rawgeti(L, call, 2);
    if (lua_type(L, -1) != LUA_TTABLE) luaL_error(L, "bad call #%d: params must be a table", (int)(i + 1));
    lua_rawgeti(L, call, 3);
    top = lua_gettop(L);
    build_request(L, c, action, top - 1, lua_isnil(L, top) ? 0 : top, &r, &call_http);
    lua_pushlstring(L, c->body.p, c->body.len);
    lua_pushvalue(L, -1);
    lua_rawseti(L, bodies, (int)(i + 1));
    b->x[i].body = lua_tolstring(L, -1, &b->x[i].body_len);
    b->x[i].method = "POST";
    b->x[i].url = c->url;
    if (fill_xfer_headers(c, &b->x[i], &r.h) != 0) luaL_error(L, "not enough memory");
    lua_settop(L, actions);
  }
  ecs_http_batch(c->multi, c->pool, &c->npool, cap, &http, b->x, n);
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    int nret;
    const char *action;
    lua_rawgeti(L, actions, (int)(i + 1));
    action = lua_tostring(L, -1);
    lua_createtable(L, 2, 0);
    nret = finish_call(L, c, &b->x[i], action);
    if (nret == 2) {
      lua_rawseti(L, -3, 2);
      lua_pop(L, 1); /* nil */
    } else {
      lua_rawseti(L, -2, 1);
    }
    lua_remove(L, -2); /* action name */
    lua_rawseti(L, -2, (int)(i + 1));
  }
  return 1;
}

static const struct {
  const char *method, *action;
} ACTIONS[] = {
    {"invoke_command", "InvokeCommand"},
    {"run_command", "RunCommand"},
    {"create_command", "CreateCommand"},
    {"describe_commands", "DescribeCommands"},
    {"modify_command", "ModifyCommand"},
    {"delete_command", "DeleteCommand"},
    {"describe_invocations", "DescribeInvocations"},
    {"describe_invocation_results", "DescribeInvocationResults"},
    {"stop_invocation", "StopInvocation"},
    {"describe_cloud_assistant_status", "DescribeCloudAssistantStatus"},
    {"describe_instances", "DescribeInstances"},
    {"send_file", "SendFile"},
    {"describe_send_file_results", "DescribeSendFileResults"},
    {NULL, NULL},
};

static const luaL_Reg METHODS[] = {
    {"call", l_call},
    {"prepare", l_prepare},
    {"send", l_send},
    {"send_batch", l_send_batch},
    {"call_batch", l_call_batch},
    {"set_credentials", l_set_credentials},
    {"set_time_offset", l_set_time_offset},
    {"time", l_time},
    {"stats", l_stats},
    {"close", l_close},
    {NULL, NULL},
};

void ecs_client_setup(lua_State *L) {
  int mod = lua_gettop(L), i;
  luaL_newmetatable(L, ECS_CLIENT_MT);
  lua_pushcfunction(L, l_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, l_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_newtable(L); /* __index */
  ecs_setfuncs(L, METHODS, 0);
  lua_createtable(L, 16, 0); /* core.actions */
  for (i = 0; ACTIONS[i].method; i++) {
    lua_pushstring(L, ACTIONS[i].action);
    lua_pushcclosure(L, l_action, 1);
    lua_setfield(L, -3, ACTIONS[i].method);
    lua_createtable(L, 0, 2);
    lua_pushstring(L, ACTIONS[i].method);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, ACTIONS[i].action);
    lua_setfield(L, -2, "action");
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, mod, "actions");
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
