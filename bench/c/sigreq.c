#include "sigreq.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

#include "encode.h"
#include "sign.h"

#define AKID "testid"
#define SECRET "testsecret"
#define NPARAMS_MAX 24

/* The request after flattening (what core.flatten gives for the Lua table
 * in bench/lua/request.lua), RegionId added from the client's region. */
static const char *const FIXED[][2] = {
    {"CommandId", "c-e996287206324975b5fbe1d0001"},
    {"InstanceId.1", "i-bp185dy2o3o6n0000001"},
    {"InstanceId.2", "i-bp185dy2o3o6n0000002"},
    {"Parameters", "{\"name\":\"Jack\"}"},
    {"RepeatMode", "Period"},
    {"Frequency", "0 */20 * * * ? Asia/Shanghai"},
    {"Username", "root"},
    {"RegionId", "cn-hangzhou"},
};
#define NFIXED (sizeof FIXED / sizeof FIXED[0])

double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double bench_cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

int bench_url_host(const char *url, char *out, size_t n) {
  const char *p = strstr(url, "://"), *e;
  size_t len;
  if (p == NULL) return -1;
  p += 3;
  e = strchr(p, '/');
  len = e ? (size_t)(e - p) : strlen(p);
  if (len == 0 || len >= n) return -1;
  memcpy(out, p, len);
  out[len] = '\0';
  return 0;
}

void sigreq_init(sigreq *r, int v3, const char *host) {
  memset(r, 0, sizeof *r);
  r->v3 = v3;
  r->host = host;
  ecs_buf_init(&r->body);
  ecs_buf_init(&r->sts);
  ecs_buf_init(&r->cr);
  ecs_buf_init(&r->sh);
  ecs_buf_init(&r->tmp);
  ecs_buf_init(&r->auth);
}

void sigreq_free(sigreq *r) {
  if (r->headers) curl_slist_free_all(r->headers);
  r->headers = NULL;
  ecs_buf_free(&r->body);
  ecs_buf_free(&r->sts);
  ecs_buf_free(&r->cr);
  ecs_buf_free(&r->sh);
  ecs_buf_free(&r->tmp);
  ecs_buf_free(&r->auth);
}

static void add(ecs_param *p, size_t *n, const char *k, const char *v) {
  p[*n].k = k;
  p[*n].klen = strlen(k);
  p[*n].v = v;
  p[*n].vlen = strlen(v);
  (*n)++;
}

static int header(sigreq *r, const char *name, const char *value) {
  struct curl_slist *l;
  ecs_buf_reset(&r->tmp);
  ecs_buf_adds(&r->tmp, name);
  ecs_buf_adds(&r->tmp, ": ");
  ecs_buf_adds(&r->tmp, value);
  if (ecs_buf_cstr(&r->tmp) == NULL) return -1;
  l = curl_slist_append(r->headers, r->tmp.p);
  if (l == NULL) return -1;
  r->headers = l;
  return 0;
}

int sigreq_build(sigreq *r) {
  ecs_param p[NPARAMS_MAX];
  size_t n = 0, i;
  char token[37], hex[33], nonce[33], date[21], sig[65], sha[65];
  struct timeval tv;
  int rc = 0;

  /* per logical call: a ClientToken; per attempt: nonce and timestamp */
  if (ecs_random_hex(hex, 16) != 0 || ecs_random_hex(nonce, 16) != 0) return -1;
  snprintf(token, sizeof token, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
  gettimeofday(&tv, NULL);
  ecs_format_timestamp((double)tv.tv_sec + tv.tv_usec / 1e6, date);

  for (i = 0; i < NFIXED; i++) add(p, &n, FIXED[i][0], FIXED[i][1]);
  add(p, &n, "ClientToken", token);
  if (r->headers) curl_slist_free_all(r->headers);
  r->headers = NULL;
  ecs_buf_reset(&r->body);

  if (!r->v3) {
    add(p, &n, "Action", "InvokeCommand");
    add(p, &n, "Version", "2014-05-26");
    add(p, &n, "Format", "JSON");
    add(p, &n, "AccessKeyId", AKID);
    add(p, &n, "SignatureMethod", "HMAC-SHA1");
    add(p, &n, "SignatureVersion", "1.0");
    add(p, &n, "SignatureNonce", nonce);
    add(p, &n, "Timestamp", date);
    ecs_params_sort(p, n);
    ecs_buf_reset(&r->sts);
    ecs_v2_string_to_sign(&r->sts, "POST", 4, p, n);
    if (r->sts.oom || ecs_v2_signature(SECRET, strlen(SECRET), r->sts.p, r->sts.len, sig) != 0) return -1;
    ecs_canonical_query(&r->body, p, n);
    ecs_buf_adds(&r->body, "&Signature=");
    ecs_pct_encode(&r->body, sig, strlen(sig));
    rc |= header(r, "content-type", "application/x-www-form-urlencoded");
    rc |= header(r, "accept", "application/json");
  } else {
    ecs_header hs[8];
    const char *names[7] = {"host", "x-acs-action", "x-acs-version", "x-acs-date",
                            "x-acs-signature-nonce", "x-acs-content-sha256", "content-type"};
    const char *values[7];
    ecs_params_sort(p, n);
    ecs_canonical_query(&r->body, p, n);
    ecs_sha256_hex(r->body.p ? r->body.p : "", r->body.len, sha);
    values[0] = r->host;
    values[1] = "InvokeCommand";
    values[2] = "2014-05-26";
    values[3] = date;
    values[4] = nonce;
    values[5] = sha;
    values[6] = "application/x-www-form-urlencoded";
    for (i = 0; i < 7; i++) {
      hs[i].name = names[i];
      hs[i].nlen = strlen(names[i]);
      hs[i].value = values[i];
      hs[i].vlen = strlen(values[i]);
    }
    ecs_buf_reset(&r->cr);
    ecs_buf_reset(&r->sh);
    if (ecs_v3_canonical_request(&r->cr, &r->sh, "POST", 4, "/", 1, NULL, 0, hs, 7, sha, 64) != 0)
      return -1;
    ecs_buf_reset(&r->sts);
    ecs_v3_string_to_sign(&r->sts, r->cr.p, r->cr.len);
    if (r->sts.oom || ecs_v3_signature(SECRET, strlen(SECRET), r->sts.p, r->sts.len, sig) != 0) return -1;
    ecs_buf_reset(&r->auth);
    ecs_buf_adds(&r->auth, "ACS3-HMAC-SHA256 Credential=" AKID ",SignedHeaders=");
    ecs_buf_add(&r->auth, r->sh.p, r->sh.len);
    ecs_buf_adds(&r->auth, ",Signature=");
    ecs_buf_adds(&r->auth, sig);
    if (ecs_buf_cstr(&r->auth) == NULL) return -1;
    for (i = 1; i < 7; i++) rc |= header(r, names[i], values[i]); /* curl sends Host itself */
    rc |= header(r, "authorization", r->auth.p);
    rc |= header(r, "accept", "application/json");
  }
  {
    struct curl_slist *l = curl_slist_append(r->headers, "Expect:");
    if (l == NULL) return -1;
    r->headers = l;
  }
  if (r->body.oom || ecs_buf_cstr(&r->body) == NULL) return -1;
  return rc ? -1 : 0;
}
