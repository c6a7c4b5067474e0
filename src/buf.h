/* Growable byte buffer for the Lua-free parts of the core (encode, sign, http).
 * The owner frees it with ecs_buf_free on every path. */
#ifndef ECS_BUF_H
#define ECS_BUF_H

#include <stddef.h>

typedef struct ecs_buf {
  char *p;
  size_t len;
  size_t cap;
  int oom; /* set once an allocation failed; later appends are ignored */
} ecs_buf;

void ecs_buf_init(ecs_buf *b);
void ecs_buf_free(ecs_buf *b);
void ecs_buf_reset(ecs_buf *b);
int ecs_buf_reserve(ecs_buf *b, size_t extra);
void ecs_buf_add(ecs_buf *b, const char *s, size_t n);
void ecs_buf_adds(ecs_buf *b, const char *s);
void ecs_buf_addc(ecs_buf *b, char c);
/* NUL-terminates without counting the NUL in len; returns the data or NULL after OOM */
const char *ecs_buf_cstr(ecs_buf *b);

#endif
