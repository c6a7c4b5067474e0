#include "encode.h"

#include <stdlib.h>
#include <string.h>

static const char HEX[] = "0123456789ABCDEF";

static int unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_' || c == '.' || c == '~';
}

void ecs_pct_encode(ecs_buf *out, const char *s, size_t n) {
  size_t i;
  char *w;
  if (!ecs_buf_reserve(out, n * 3)) return;
  w = out->p + out->len;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (unreserved(c)) {
      *w++ = (char)c;
    } else {
      *w++ = '%';
      *w++ = HEX[c >> 4];
      *w++ = HEX[c & 15];
    }
  }
  out->len = (size_t)(w - out->p);
}

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void ecs_pct_decode(ecs_buf *out, const char *s, size_t n, int plus_is_space) {
  size_t i;
  char *w;
  if (!ecs_buf_reserve(out, n)) return;
  w = out->p + out->len;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '%' && i + 2 < n) {
      int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        *w++ = (char)(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    *w++ = (plus_is_space && c == '+') ? ' ' : (char)c;
  }
  out->len = (size_t)(w - out->p);
}

static int param_cmp(const void *a, const void *b) {
  const ecs_param *x = (const ecs_param *)a, *y = (const ecs_param *)b;
  size_t m = x->klen < y->klen ? x->klen : y->klen;
  int r = memcmp(x->k, y->k, m);
  if (r != 0) return r;
  return (x->klen > y->klen) - (x->klen < y->klen);
}

void ecs_params_sort(ecs_param *p, size_t n) {
  if (n > 1) qsort(p, n, sizeof *p, param_cmp);
}

void ecs_canonical_query(ecs_buf *out, const ecs_param *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (i > 0) ecs_buf_addc(out, '&');
    ecs_pct_encode(out, p[i].k, p[i].klen);
    ecs_buf_addc(out, '=');
    ecs_pct_encode(out, p[i].v, p[i].vlen);
  }
}

int ecs_parse_query(const char *s, size_t n, ecs_query_cb cb, void *ud) {
  ecs_buf k, v;
  size_t i = 0;
  int rc = 0;
  ecs_buf_init(&k);
  ecs_buf_init(&v);
  while (i < n && rc == 0) {
    size_t start = i, eq = (size_t)-1;
    while (i < n && s[i] != '&') {
      if (s[i] == '=' && eq == (size_t)-1) eq = i;
      i++;
    }
    if (i > start) {
      ecs_buf_reset(&k);
      ecs_buf_reset(&v);
      if (eq == (size_t)-1) {
        ecs_pct_decode(&k, s + start, i - start, 1);
      } else {
        ecs_pct_decode(&k, s + start, eq - start, 1);
        ecs_pct_decode(&v, s + eq + 1, i - eq - 1, 1);
      }
      if (ecs_buf_cstr(&k) == NULL || ecs_buf_cstr(&v) == NULL) { rc = -1; break; }
      rc = cb(ud, k.p, k.len, v.p, v.len);
    }
    i++; /* skip '&' */
  }
  ecs_buf_free(&k);
  ecs_buf_free(&v);
  return rc;
}
