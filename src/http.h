/* HTTP over libcurl: one reusable easy handle per client (keep-alive) and a
 * multi-interface batch runner with a concurrency cap. No Lua here. */
#ifndef ECS_HTTP_H
#define ECS_HTTP_H

#include <stddef.h>
#include <curl/curl.h>
#include "buf.h"

typedef struct ecs_http_opts {
  long connect_timeout_ms;
  long timeout_ms;
  int verify;
  const char *ca_file;
  const char *ca_path;
  const char *proxy;
  const char *no_proxy;
  const char *user_agent;
} ecs_http_opts;

/* One request and its outcome. Inputs are borrowed and must stay alive until
 * the transfer is done; outputs are owned and freed by ecs_xfer_reset_out/free. */
typedef struct ecs_xfer {
  /* in */
  const char *method;
  const char *url;
  struct curl_slist *headers; /* owned */
  const char *body;
  size_t body_len;
  /* out */
  CURLcode rc;
  long status;
  long connects; /* new connections this transfer opened */
  int sent;      /* 1 when request bytes went out (the server may have acted) */
  ecs_buf resp_headers;
  ecs_buf resp_body;
  char errbuf[CURL_ERROR_SIZE];
} ecs_xfer;

void ecs_xfer_init(ecs_xfer *x);
void ecs_xfer_free(ecs_xfer *x);
/* adds "Name: value" (a copy) to the request headers; 0 ok, -1 OOM */
int ecs_xfer_add_header(ecs_xfer *x, const char *line);

/* An easy handle and what was last set on it: options that do not change
 * between requests (timeouts, TLS, proxy, user agent, the URL) are set only
 * when they differ, so a request on a kept-alive handle costs what the bare
 * libcurl loop costs. */
typedef struct ecs_handle {
  CURL *e;
  ecs_http_opts applied;
  char *url; /* a copy of the URL last set */
  int ready; /* applied is valid */
} ecs_handle;

/* 0 ok, -1 when libcurl cannot make a handle */
int ecs_handle_init(ecs_handle *h);
void ecs_handle_free(ecs_handle *h);

/* Runs one transfer on the given handle (kept alive across calls). */
void ecs_http_perform(ecs_handle *h, const ecs_http_opts *o, ecs_xfer *x);

/* Runs n transfers through a multi handle with at most cap in flight.
 * pool holds up to cap handles reused across calls (created lazily, *npool
 * updated). Returns 0, or -1 if the multi interface itself failed (each
 * xfer's rc then says what happened to it). */
int ecs_http_batch(CURLM *multi, ecs_handle *pool, size_t *npool, size_t cap,
                   const ecs_http_opts *o, ecs_xfer *xs, size_t n);

/* The client's error code for a libcurl failure, e.g. "Network.Timeout". */
const char *ecs_http_error_code(CURLcode rc);
int ecs_http_retryable(CURLcode rc);

#endif
