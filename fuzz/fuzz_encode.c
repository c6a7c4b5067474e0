/* libFuzzer target: percent-encoding, canonical query and query parsing.
 * Properties: decode(encode(x)) == x; encode output only has unreserved
 * bytes and %XY; parse_query never reads out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "split.h"

static int count_cb(void *ud, const char *k, size_t kl, const char *v, size_t vl) {
  size_t *n = (size_t *)ud;
  /* names and values are NUL-terminated views */
  if (k[kl] != '\0' || v[vl] != '\0') abort();
  (*n)++;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ecs_buf e, d;
  size_t i, n = 0;
  ecs_buf_init(&e);
  ecs_buf_init(&d);
  ecs_pct_encode(&e, (const char *)data, size);
  for (i = 0; i < e.len; i++) {
    char c = e.p[i];
    int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
             c == '_' || c == '.' || c == '~' || c == '%';
    if (!ok) abort();
  }
  ecs_pct_decode(&d, e.p ? e.p : "", e.len, 0);
  if (d.len != size || (size && memcmp(d.p, data, size) != 0)) abort();
  ecs_buf_reset(&d);
  ecs_pct_decode(&d, (const char *)data, size, 1);
  if (d.len > size) abort();
  ecs_parse_query((const char *)data, size, count_cb, &n);
  {
    /* split the input into params at NUL bytes: k\0v\0k\0v... */
    ecs_param p[16];
    const char *parts[32];
    size_t lens[32], j;
    size_t nparts = fuzz_split(data, size, parts, lens, 32);
    size_t np = fuzz_params(parts, lens, nparts, p, 16);
    ecs_params_sort(p, np);
    for (j = 1; j < np; j++) {
      size_t m = p[j - 1].klen < p[j].klen ? p[j - 1].klen : p[j].klen;
      int r = memcmp(p[j - 1].k, p[j].k, m);
      if (r > 0 || (r == 0 && p[j - 1].klen > p[j].klen)) abort();
    }
    ecs_buf_reset(&e);
    ecs_canonical_query(&e, p, np);
  }
  ecs_buf_free(&e);
  ecs_buf_free(&d);
  return 0;
}
