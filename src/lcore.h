/* Internal declarations shared by the Lua-binding files of ecs.core.
 * Nothing here is exported: the build uses hidden visibility and only
 * luaopen_ecs_core is public. */
#ifndef ECS_LCORE_H
#define ECS_LCORE_H

#include "compat.h"
#include "buf.h"
#include "encode.h"

#define ECS_API_VERSION "2014-05-26"
#define ECS_ERROR_MT "ecs.error"
#define ECS_BUF_MT "ecs.core.buf"
#define ECS_CLIENT_MT "ecs.core.client"
#define ECS_REG_DECODE "ecs.core.json_decode"
#define ECS_REG_NULL "ecs.core.json_null"

/* A malloc'd buffer owned by a userdata pushed on the stack (freed by __gc),
 * so a Lua error between allocation and use can never leak it. */
ecs_buf *ecs_lbuf_push(lua_State *L);

/* flatten.c */
/* Flattens the params table at idx into a new flat table pushed on the stack. */
void ecs_flatten(lua_State *L, int idx);
/* A sorted ecs_param array (a userdata pushed on the stack) viewing the
 * strings of the flat table at idx, which must stay on the stack. */
ecs_param *ecs_collect_params(lua_State *L, int idx, size_t *np);
/* Appends compact JSON of the value at idx (object keys sorted). */
void ecs_json_encode(lua_State *L, int idx, ecs_buf *out);
/* Pushes the string form of a scalar (string, number, boolean) at idx, or
 * returns 0 without pushing for other types. Raises on NaN/inf. */
int ecs_push_scalar(lua_State *L, int idx, const char *what);

/* decode.c */
void ecs_decode_setup(lua_State *L);
/* Decodes a response. On success pushes the result table and returns 1;
 * otherwise pushes nil and an error object and returns 2. hdr_idx: the
 * response headers table or 0. */
int ecs_decode_response(lua_State *L, long status, const char *body, size_t len, int hdr_idx,
                        const char *action);
/* Pushes an error object with the given code and message. */
void ecs_push_error(lua_State *L, const char *code, const char *message, long http_status,
                    int retryable, const char *action);
/* Parses raw "Name: value\r\n" header lines into a table (lowercase names). */
void ecs_push_headers(lua_State *L, const char *raw, size_t n);
void ecs_error_setup(lua_State *L);

/* client.c */
void ecs_client_setup(lua_State *L);
int ecs_client_new(lua_State *L);

#endif
