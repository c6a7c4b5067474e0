/* libFuzzer target: both signers, Base64 and timestamp parsing. The input is
 * split at NUL bytes into parameters and headers. Properties: signatures have
 * their fixed shape; Base64 round-trips; nothing reads out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sign.h"
#include "split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  const char *parts[32];
  size_t lens[32], nparts, j, np, nh = 0;
  ecs_param p[8];
  ecs_header h[8];
  ecs_buf a, b;
  char sig2[29], sig3[65], hex[65];
  double t;
  /* parts 0..15 are parameters, 16.. headers */
  nparts = fuzz_split(data, size, parts, lens, 32);
  np = fuzz_params(parts, lens, nparts < 16 ? nparts : 16, p, 8);
  for (j = 16; j + 1 < nparts && nh < 8; j += 2) {
    h[nh].name = parts[j];
    h[nh].nlen = lens[j];
    h[nh].value = parts[j + 1];
    h[nh].vlen = lens[j + 1];
    nh++;
  }
  ecs_params_sort(p, np);
  ecs_buf_init(&a);
  ecs_buf_init(&b);
  ecs_v2_string_to_sign(&a, "POST", 4, p, np);
  if (ecs_v2_signature(s, size, a.p ? a.p : "", a.len, sig2) != 0 || strlen(sig2) != 28) abort();
  ecs_buf_reset(&a);
  if (ecs_v3_canonical_request(&a, &b, "POST", 4, "/", 1, p, np, h, nh, "e3b0", 4) != 0) abort();
  ecs_buf_reset(&b);
  ecs_v3_string_to_sign(&b, a.p ? a.p : "", a.len);
  if (ecs_v3_signature(s, size, b.p, b.len, sig3) != 0 || strlen(sig3) != 64) abort();
  ecs_sha256_hex(s, size, hex);
  ecs_buf_reset(&a);
  ecs_buf_reset(&b);
  ecs_base64_encode(&a, data, size);
  if (ecs_base64_decode(&b, a.p ? a.p : "", a.len) != 0 || b.len != size ||
      (size && memcmp(b.p, data, size) != 0))
    abort();
  ecs_buf_reset(&b);
  (void)ecs_base64_decode(&b, s, size);
  (void)ecs_parse_timestamp(s, size, &t);
  (void)ecs_parse_http_date(s, size, &t);
  ecs_buf_free(&a);
  ecs_buf_free(&b);
  return 0;
}
