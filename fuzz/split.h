/* Shared by the libFuzzer targets: an input split at NUL bytes into parts
 * (k\0v\0k\0v...), and pairs of parts taken as parameters. */
#ifndef ECS_FUZZ_SPLIT_H
#define ECS_FUZZ_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "encode.h"

/* Splits data at NUL bytes into at most max parts; returns how many. */
static size_t fuzz_split(const uint8_t *data, size_t size, const char **parts, size_t *lens, size_t max) {
  const char *s = (const char *)data;
  size_t j, n = 0, start = 0;
  for (j = 0; j <= size && n < max; j++) {
    if (j == size || s[j] == '\0') {
      parts[n] = s + start;
      lens[n] = j - start;
      n++;
      start = j + 1;
    }
  }
  return n;
}

/* Takes parts 0/1, 2/3, ... as name/value into at most max parameters;
 * returns how many. */
static size_t fuzz_params(const char **parts, const size_t *lens, size_t nparts, ecs_param *p, size_t max) {
  size_t j, np = 0;
  for (j = 0; j + 1 < nparts && np < max; j += 2) {
    p[np].k = parts[j];
    p[np].klen = lens[j];
    p[np].v = parts[j + 1];
    p[np].vlen = lens[j + 1];
    np++;
  }
  return np;
}

#endif
