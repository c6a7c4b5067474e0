#include "http.h"

#include <stdlib.h>
#include <string.h>

void ecs_xfer_init(ecs_xfer *x) {
  memset(x, 0, sizeof *x);
  ecs_buf_init(&x->resp_headers);
  ecs_buf_init(&x->resp_body);
}

void ecs_xfer_free(ecs_xfer *x) {
  if (x->headers) curl_slist_free_all(x->headers);
  x->headers = NULL;
  ecs_buf_free(&x->resp_headers);
  ecs_buf_free(&x->resp_body);
}

int ecs_xfer_add_header(ecs_xfer *x, const char *line) {
  struct curl_slist *n = curl_slist_append(x->headers, line);
  if (n == NULL) return -1;
  x->headers = n;
  return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud) {
  ecs_buf *b = (ecs_buf *)ud;
  size_t n = size * nmemb;
  ecs_buf_add(b, p, n);
  return b->oom ? 0 : n; /* 0 aborts the transfer with CURLE_WRITE_ERROR */
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud) {
  ecs_buf *b = (ecs_buf *)ud;
  size_t n = size * nmemb;
  /* a new status line (100 Continue, redirects) starts a new header block */
  if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) ecs_buf_reset(b);
  ecs_buf_add(b, p, n);
  return b->oom ? 0 : n;
}

int ecs_handle_init(ecs_handle *h) {
  memset(h, 0, sizeof *h);
  h->e = curl_easy_init();
  return h->e ? 0 : -1;
}

void ecs_handle_free(ecs_handle *h) {
  if (h->e) curl_easy_cleanup(h->e);
  free(h->url);
  memset(h, 0, sizeof *h);
}

static int same_opts(const ecs_http_opts *a, const ecs_http_opts *b) {
  return a->connect_timeout_ms == b->connect_timeout_ms && a->timeout_ms == b->timeout_ms &&
         a->verify == b->verify && a->ca_file == b->ca_file && a->ca_path == b->ca_path &&
         a->proxy == b->proxy && a->no_proxy == b->no_proxy && a->user_agent == b->user_agent;
}

/* Options that stay the same from one request to the next. The string
 * options point at the client's own copies, so comparing pointers is enough. */
static void setup_handle(ecs_handle *h, const ecs_http_opts *o) {
  CURL *e = h->e;
  if (h->ready && same_opts(&h->applied, o)) return;
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, o->verify ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, o->verify ? 2L : 0L);
  curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
  curl_easy_setopt(e, CURLOPT_CAPATH, o->ca_path);
  curl_easy_setopt(e, CURLOPT_PROXY, o->proxy);
  curl_easy_setopt(e, CURLOPT_NOPROXY, o->no_proxy);
  curl_easy_setopt(e, CURLOPT_USERAGENT, o->user_agent);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  h->applied = *o;
  h->ready = 1;
}

static void setup(ecs_handle *h, const ecs_http_opts *o, ecs_xfer *x) {
  CURL *e = h->e;
  setup_handle(h, o);
  if (h->url == NULL || strcmp(h->url, x->url) != 0) {
    size_t n = strlen(x->url);
    char *copy = (char *)malloc(n + 1);
    curl_easy_setopt(e, CURLOPT_URL, x->url); /* libcurl keeps its own copy */
    free(h->url);
    h->url = copy; /* NULL on OOM: the URL is then simply set again next time */
    if (copy) memcpy(copy, x->url, n + 1);
  }
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &x->resp_body);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &x->resp_headers);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
  if (strcmp(x->method, "GET") == 0) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
  } else {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body ? x->body : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, strcmp(x->method, "POST") == 0 ? NULL : x->method);
  }
  x->errbuf[0] = '\0';
  ecs_buf_reset(&x->resp_headers);
  ecs_buf_reset(&x->resp_body);
}

static void finish(CURL *e, ecs_xfer *x, CURLcode rc) {
  curl_off_t reqsize = 0;
  long conns = 0;
  x->rc = rc;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &x->status);
  curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &conns);
  x->connects = conns;
  {
    long rs = 0;
    curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &rs);
    reqsize = rs;
  }
  x->sent = reqsize > 0;
  if (rc == CURLE_OK && (x->resp_body.oom || x->resp_headers.oom)) x->rc = CURLE_OUT_OF_MEMORY;
  /* detach borrowed pointers so a stale handle never reads freed memory */
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
}

void ecs_http_perform(ecs_handle *h, const ecs_http_opts *o, ecs_xfer *x) {
  CURLcode rc;
  setup(h, o, x);
  rc = curl_easy_perform(h->e);
  finish(h->e, x, rc);
}

int ecs_http_batch(CURLM *multi, ecs_handle *pool, size_t *npool, size_t cap, const ecs_http_opts *o,
                   ecs_xfer *xs, size_t n) {
  size_t next = 0, done = 0, i;
  size_t *slot_of; /* which xfer each pooled handle runs; (size_t)-1 when idle */
  int running = 0, rc = 0;
  if (cap == 0) cap = 1;
  if (cap > n) cap = n;
  if (n == 0) return 0;
  slot_of = (size_t *)malloc(cap * sizeof *slot_of);
  if (slot_of == NULL) return -1;
  for (i = 0; i < cap; i++) {
    if (i >= *npool) {
      if (ecs_handle_init(&pool[i]) != 0) { rc = -1; break; }
      *npool = i + 1;
    }
    slot_of[i] = (size_t)-1;
  }
  if (rc != 0) cap = *npool < cap ? *npool : cap;
  if (cap == 0) { free(slot_of); return -1; }
  rc = 0;
  for (i = 0; i < cap && next < n; i++) {
    setup(&pool[i], o, &xs[next]);
    curl_easy_setopt(pool[i].e, CURLOPT_PRIVATE, (char *)(&slot_of[i]));
    slot_of[i] = next++;
    curl_multi_add_handle(multi, pool[i].e);
  }
  while (done < n) {
    CURLMsg *msg;
    int left;
    CURLMcode mc = curl_multi_perform(multi, &running);
    if (mc != CURLM_OK) { rc = -1; break; }
    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
      CURL *e;
      size_t *slotp = NULL, slot, idx;
      if (msg->msg != CURLMSG_DONE) continue;
      e = msg->easy_handle;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&slotp);
      slot = (size_t)(slotp - slot_of);
      idx = slot_of[slot];
      finish(e, &xs[idx], msg->data.result);
      curl_multi_remove_handle(multi, e);
      done++;
      slot_of[slot] = (size_t)-1;
      if (next < n) {
        setup(&pool[slot], o, &xs[next]);
        slot_of[slot] = next++;
        curl_multi_add_handle(multi, e);
      }
    }
    if (done < n) {
      mc = curl_multi_poll(multi, NULL, 0, 100, NULL);
      if (mc != CURLM_OK) { rc = -1; break; }
    }
  }
  if (rc != 0) {
    /* the multi failed: detach whatever is still attached and mark it */
    for (i = 0; i < cap; i++) {
      if (slot_of[i] != (size_t)-1) {
        curl_multi_remove_handle(multi, pool[i].e);
        finish(pool[i].e, &xs[slot_of[i]], CURLE_FAILED_INIT);
      }
    }
    for (i = next; i < n; i++) xs[i].rc = CURLE_FAILED_INIT;
  }
  free(slot_of);
  return rc;
}

const char *ecs_http_error_code(CURLcode rc) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return "Network.Timeout";
    case CURLE_COULDNT_CONNECT: return "Network.ConnectFailed";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return "Network.ResolveFailed";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED: return "Network.TLS";
    case CURLE_SEND_ERROR: return "Network.SendFailed";
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE: return "Network.ReceiveFailed";
    case CURLE_GOT_NOTHING: return "Network.EmptyReply";
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return "Network.BadURL";
    case CURLE_OUT_OF_MEMORY: return "Network.OutOfMemory";
    default: return "Network.Error";
  }
}

int ecs_http_retryable(CURLcode rc) {
  switch (rc) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT: return 0;
    default: return 1;
  }
}
