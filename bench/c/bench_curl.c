/* Baselines: how fast a bare libcurl loop can send the benchmark request.
 *
 *   bench_curl plain  URL N [v2|v3]   one easy handle, keep-alive, one body signed once, POSTed N times
 *   bench_curl signed URL N [v2|v3]   the same, signing every request (sigreq.c)
 *   bench_curl multi  URL N [v2|v3] [inflight]   multi interface, 16 in flight, signed per request
 *   bench_curl sign   -   N [v2|v3]   signing only, nothing sent
 *
 * Prints "rate <per second>", "cpu_us <CPU microseconds per request>",
 * "n <requests>" and "seconds <wall>". Exits non-zero if any response is not
 * a 200 with an InvokeId in its body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "sigreq.h"

#define WARMUP 200
#define MAX_INFLIGHT 256

typedef struct slot {
  CURL *e;
  sigreq req;
  ecs_buf resp;
} slot;

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud) {
  ecs_buf *b = (ecs_buf *)ud;
  ecs_buf_add(b, p, size * nmemb);
  return b->oom ? 0 : size * nmemb;
}

static void easy_setup(CURL *e, const char *url, ecs_buf *resp) {
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, resp);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "aliyun-ecs-bench");
  curl_easy_setopt(e, CURLOPT_POST, 1L);
}

static void easy_body(CURL *e, sigreq *r) {
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body.p);
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
}

static int check_response(CURL *e, CURLcode rc, ecs_buf *resp) {
  long status = 0;
  if (rc != CURLE_OK) {
    fprintf(stderr, "bench_curl: %s\n", curl_easy_strerror(rc));
    return -1;
  }
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200 || ecs_buf_cstr(resp) == NULL || strstr(resp->p, "\"InvokeId\"") == NULL) {
    fprintf(stderr, "bench_curl: unexpected response (HTTP %ld)\n", status);
    return -1;
  }
  ecs_buf_reset(resp);
  return 0;
}

static void report(long n, double wall, double cpu) {
  printf("rate %.1f\n", n / wall);
  printf("cpu_us %.2f\n", cpu * 1e6 / n);
  printf("n %ld\n", n);
  printf("seconds %.4f\n", wall);
}

static int run_sign(long n, int v3) {
  sigreq r;
  long i;
  double t0, c0;
  sigreq_init(&r, v3, "127.0.0.1");
  for (i = 0; i < WARMUP; i++)
    if (sigreq_build(&r) != 0) return 1;
  t0 = bench_now();
  c0 = bench_cpu();
  for (i = 0; i < n; i++)
    if (sigreq_build(&r) != 0) return 1;
  report(n, bench_now() - t0, bench_cpu() - c0);
  sigreq_free(&r);
  return 0;
}

static int run_easy(const char *url, const char *host, long n, int v3, int sign_each) {
  slot s;
  long i;
  double t0, c0;
  s.e = curl_easy_init();
  if (s.e == NULL) return 1;
  ecs_buf_init(&s.resp);
  sigreq_init(&s.req, v3, host);
  easy_setup(s.e, url, &s.resp);
  if (sigreq_build(&s.req) != 0) return 1;
  easy_body(s.e, &s.req);
  for (i = 0; i < WARMUP; i++)
    if (check_response(s.e, curl_easy_perform(s.e), &s.resp) != 0) return 1;
  t0 = bench_now();
  c0 = bench_cpu();
  for (i = 0; i < n; i++) {
    if (sign_each) {
      if (sigreq_build(&s.req) != 0) return 1;
      easy_body(s.e, &s.req);
    }
    if (check_response(s.e, curl_easy_perform(s.e), &s.resp) != 0) return 1;
  }
  report(n, bench_now() - t0, bench_cpu() - c0);
  curl_easy_cleanup(s.e);
  sigreq_free(&s.req);
  ecs_buf_free(&s.resp);
  return 0;
}

/* Runs total transfers, at most k in flight; returns 0 or -1. */
static int multi_run(CURLM *m, slot *slots, int k, long total) {
  long started = 0, done = 0;
  int i, running = 0;
  for (i = 0; i < k && started < total; i++, started++) {
    if (sigreq_build(&slots[i].req) != 0) return -1;
    easy_body(slots[i].e, &slots[i].req);
    curl_multi_add_handle(m, slots[i].e);
  }
  while (done < total) {
    CURLMsg *msg;
    int left;
    if (curl_multi_perform(m, &running) != CURLM_OK) return -1;
    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
      slot *s = NULL;
      if (msg->msg != CURLMSG_DONE) continue;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
      if (check_response(s->e, msg->data.result, &s->resp) != 0) return -1;
      curl_multi_remove_handle(m, s->e);
      done++;
      if (started < total) {
        if (sigreq_build(&s->req) != 0) return -1;
        easy_body(s->e, &s->req);
        curl_multi_add_handle(m, s->e);
        started++;
      }
    }
    if (done < total && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK) return -1;
  }
  return 0;
}

static int run_multi(const char *url, const char *host, long n, int v3, int k) {
  slot slots[MAX_INFLIGHT];
  CURLM *m = curl_multi_init();
  double t0, c0;
  int i;
  if (m == NULL) return 1;
  for (i = 0; i < k; i++) {
    slots[i].e = curl_easy_init();
    if (slots[i].e == NULL) return 1;
    ecs_buf_init(&slots[i].resp);
    sigreq_init(&slots[i].req, v3, host);
    easy_setup(slots[i].e, url, &slots[i].resp);
    curl_easy_setopt(slots[i].e, CURLOPT_PRIVATE, (char *)&slots[i]);
  }
  if (multi_run(m, slots, k, WARMUP > k ? WARMUP : k) != 0) return 1;
  t0 = bench_now();
  c0 = bench_cpu();
  if (multi_run(m, slots, k, n) != 0) return 1;
  report(n, bench_now() - t0, bench_cpu() - c0);
  for (i = 0; i < k; i++) {
    curl_easy_cleanup(slots[i].e);
    sigreq_free(&slots[i].req);
    ecs_buf_free(&slots[i].resp);
  }
  curl_multi_cleanup(m);
  return 0;
}

int main(int argc, char **argv) {
  const char *mode, *url;
  char host[256];
  long n;
  int v3 = 1, k = 16, rc;
  if (argc < 4) {
    fprintf(stderr, "usage: bench_curl plain|signed|multi|sign URL N [v2|v3] [inflight]\n");
    return 2;
  }
  mode = argv[1];
  url = argv[2];
  n = strtol(argv[3], NULL, 10);
  if (argc > 4) v3 = strcmp(argv[4], "v2") != 0;
  if (argc > 5) k = atoi(argv[5]);
  if (n <= 0 || k < 1 || k > MAX_INFLIGHT) {
    fprintf(stderr, "bench_curl: bad N or inflight\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (strcmp(mode, "sign") == 0) {
    rc = run_sign(n, v3);
  } else {
    if (bench_url_host(url, host, sizeof host) != 0) {
      fprintf(stderr, "bench_curl: bad URL '%s'\n", url);
      return 2;
    }
    if (strcmp(mode, "plain") == 0) rc = run_easy(url, host, n, v3, 0);
    else if (strcmp(mode, "signed") == 0) rc = run_easy(url, host, n, v3, 1);
    else if (strcmp(mode, "multi") == 0) rc = run_multi(url, host, n, v3, k);
    else {
      fprintf(stderr, "bench_curl: unknown mode '%s'\n", mode);
      rc = 2;
    }
  }
  curl_global_cleanup();
  return rc;
}
