/* The benchmark request (InvokeCommand, two instances, Parameters, a
 * Frequency) signed per request with the project's plain-C functions: the
 * same work the core does after flattening, without Lua. */
#ifndef BENCH_SIGREQ_H
#define BENCH_SIGREQ_H

#include <curl/curl.h>
#include "buf.h"

typedef struct sigreq {
  int v3;
  const char *host;
  ecs_buf body, sts, cr, sh, tmp, auth;
  struct curl_slist *headers;
} sigreq;

void sigreq_init(sigreq *r, int v3, const char *host);
void sigreq_free(sigreq *r);
/* Builds a freshly signed body and header list (new ClientToken, nonce and
 * timestamp). Returns 0, or -1 on failure. */
int sigreq_build(sigreq *r);

/* Seconds on the monotonic clock, and CPU seconds (user+system) used so far. */
double bench_now(void);
double bench_cpu(void);
/* "host[:port]" of an http:// URL into out (size n); 0 ok, -1 bad URL. */
int bench_url_host(const char *url, char *out, size_t n);

#endif
