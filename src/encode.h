/* RFC 3986 percent-encoding, canonical query strings and form bodies.
 * Plain C: no Lua here, so it can be unit-tested and fuzzed alone. */
#ifndef ECS_ENCODE_H
#define ECS_ENCODE_H

#include <stddef.h>
#include "buf.h"

typedef struct ecs_param {
  const char *k;
  size_t klen;
  const char *v;
  size_t vlen;
} ecs_param;

/* Appends the RFC 3986 encoding of s (unreserved A-Z a-z 0-9 - _ . ~ kept,
 * every other byte %XY in uppercase hex). */
void ecs_pct_encode(ecs_buf *out, const char *s, size_t n);

/* Appends the decoding of s. plus_is_space: form semantics ('+' -> ' ').
 * Malformed escapes are kept literally. */
void ecs_pct_decode(ecs_buf *out, const char *s, size_t n, int plus_is_space);

/* Sorts params by name in byte order (shorter prefix first). */
void ecs_params_sort(ecs_param *p, size_t n);

/* Appends name=value pairs joined with '&', names and values encoded,
 * in the order given (sort first for canonical form). */
void ecs_canonical_query(ecs_buf *out, const ecs_param *p, size_t n);

/* Splits a query string / form body into pairs. For each pair the callback
 * receives the decoded name and value (each NUL-terminated, valid until the
 * callback returns). Returns 0, or the first non-zero callback result. */
typedef int (*ecs_query_cb)(void *ud, const char *k, size_t klen, const char *v, size_t vlen);
int ecs_parse_query(const char *s, size_t n, ecs_query_cb cb, void *ud);

#endif
