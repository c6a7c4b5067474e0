#include "buf.h"

#include <stdlib.h>
#include <string.h>

void ecs_buf_init(ecs_buf *b) {
  b->p = NULL;
  b->len = b->cap = 0;
  b->oom = 0;
}

void ecs_buf_free(ecs_buf *b) {
  free(b->p);
  ecs_buf_init(b);
}

void ecs_buf_reset(ecs_buf *b) {
  b->len = 0;
  b->oom = 0;
}

int ecs_buf_reserve(ecs_buf *b, size_t extra) {
  size_t need, ncap;
  char *np;
  if (b->oom) return 0;
  if (extra > ((size_t)-1) / 2 - b->len) { b->oom = 1; return 0; }
  need = b->len + extra + 1;
  if (need <= b->cap) return 1;
  ncap = b->cap ? b->cap : 256;
  while (ncap < need) ncap *= 2;
  np = (char *)realloc(b->p, ncap);
  if (np == NULL) { b->oom = 1; return 0; }
  b->p = np;
  b->cap = ncap;
  return 1;
}

void ecs_buf_add(ecs_buf *b, const char *s, size_t n) {
  if (n == 0 || !ecs_buf_reserve(b, n)) return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

void ecs_buf_adds(ecs_buf *b, const char *s) { ecs_buf_add(b, s, strlen(s)); }

void ecs_buf_addc(ecs_buf *b, char c) {
  if (!ecs_buf_reserve(b, 1)) return;
  b->p[b->len++] = c;
}

const char *ecs_buf_cstr(ecs_buf *b) {
  if (!ecs_buf_reserve(b, 0)) return NULL;
  b->p[b->len] = '\0';
  return b->p;
}
