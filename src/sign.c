#include "sign.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

void ecs_hex(const unsigned char *s, size_t n, char *out) {
  static const char H[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    out[2 * i] = H[s[i] >> 4];
    out[2 * i + 1] = H[s[i] & 15];
  }
  out[2 * n] = '\0';
}

/* OpenSSL 3 resolves EVP_sha256()/EVP_sha1() and HMAC()'s MAC by name on
 * every call (locks, string compares, reference counts): about a quarter of
 * the cost of signing a request. Fetch the digests once per process and do
 * HMAC (RFC 2104) with them directly. */
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
static EVP_MD *md_sha256, *md_sha1;
static CRYPTO_ONCE fetch_once = CRYPTO_ONCE_STATIC_INIT;
static void fetch_digests(void) {
  md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
  md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
}
/* Frees the fetched digests when the module is unloaded (Lua closes its C
 * libraries at exit) or the process ends, so nothing is left unreachable. */
#if defined(__GNUC__)
__attribute__((destructor)) static void free_digests(void) {
  EVP_MD_free(md_sha256);
  EVP_MD_free(md_sha1);
  md_sha256 = md_sha1 = NULL;
}
#endif
static const EVP_MD *digest_sha256(void) {
  if (!CRYPTO_THREAD_run_once(&fetch_once, fetch_digests) || md_sha256 == NULL) return EVP_sha256();
  return md_sha256;
}
static const EVP_MD *digest_sha1(void) {
  if (!CRYPTO_THREAD_run_once(&fetch_once, fetch_digests) || md_sha1 == NULL) return EVP_sha1();
  return md_sha1;
}
#else
static const EVP_MD *digest_sha256(void) { return EVP_sha256(); }
static const EVP_MD *digest_sha1(void) { return EVP_sha1(); }
#endif

void ecs_sha256_hex(const char *s, size_t n, char out[65]) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  unsigned int mdlen = 0;
  EVP_Digest(s, n, md, &mdlen, digest_sha256(), NULL);
  ecs_hex(md, SHA256_DIGEST_LENGTH, out);
}

/* HMAC(key, s) = H((K ^ opad) || H((K ^ ipad) || s)), K = key padded to the
 * block size (hashed first when longer). want: digest length. */
static int hmac(const EVP_MD *md, const char *key, size_t klen, const char *s, size_t n,
                unsigned char *out, unsigned int want) {
  unsigned char k[64], pad[64], inner[EVP_MAX_MD_SIZE];
  unsigned int len = 0, i;
  int ok;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx == NULL) return -1;
  memset(k, 0, sizeof k);
  if (klen > sizeof k) {
    ok = EVP_Digest(key, klen, k, &len, md, NULL);
    if (!ok) { EVP_MD_CTX_free(ctx); return -1; }
  } else if (klen > 0) {
    memcpy(k, key, klen);
  }
  for (i = 0; i < sizeof pad; i++) pad[i] = (unsigned char)(k[i] ^ 0x36);
  ok = EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, pad, sizeof pad) &&
       EVP_DigestUpdate(ctx, s, n) && EVP_DigestFinal_ex(ctx, inner, &len) && len == want;
  for (i = 0; ok && i < sizeof pad; i++) pad[i] = (unsigned char)(k[i] ^ 0x5c);
  ok = ok && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, pad, sizeof pad) &&
       EVP_DigestUpdate(ctx, inner, want) && EVP_DigestFinal_ex(ctx, out, &len) && len == want;
  EVP_MD_CTX_free(ctx);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  return ok ? 0 : -1;
}

int ecs_hmac_sha1(const char *key, size_t klen, const char *s, size_t n, unsigned char out[20]) {
  return hmac(digest_sha1(), key, klen, s, n, out, 20);
}

int ecs_hmac_sha256(const char *key, size_t klen, const char *s, size_t n, unsigned char out[32]) {
  return hmac(digest_sha256(), key, klen, s, n, out, 32);
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void ecs_base64_encode(ecs_buf *out, const unsigned char *s, size_t n) {
  size_t i;
  char *w;
  if (!ecs_buf_reserve(out, (n + 2) / 3 * 4)) return;
  w = out->p + out->len;
  for (i = 0; i + 2 < n; i += 3) {
    unsigned long v = ((unsigned long)s[i] << 16) | ((unsigned long)s[i + 1] << 8) | s[i + 2];
    *w++ = B64[(v >> 18) & 63];
    *w++ = B64[(v >> 12) & 63];
    *w++ = B64[(v >> 6) & 63];
    *w++ = B64[v & 63];
  }
  if (i < n) {
    unsigned long v = (unsigned long)s[i] << 16;
    if (i + 1 < n) v |= (unsigned long)s[i + 1] << 8;
    *w++ = B64[(v >> 18) & 63];
    *w++ = B64[(v >> 12) & 63];
    *w++ = (i + 1 < n) ? B64[(v >> 6) & 63] : '=';
    *w++ = '=';
  }
  out->len = (size_t)(w - out->p);
}

static int b64val(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

int ecs_base64_decode(ecs_buf *out, const char *s, size_t n) {
  unsigned long acc = 0;
  int bits = 0, pad = 0;
  size_t i;
  if (!ecs_buf_reserve(out, n / 4 * 3 + 3)) return -1;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    int v;
    if (c == '\r' || c == '\n' || c == ' ' || c == '\t') continue;
    if (c == '=') { pad++; continue; }
    if (pad) return -1; /* data after padding */
    v = b64val(c);
    if (v < 0) return -1;
    acc = (acc << 6) | (unsigned long)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->p[out->len++] = (char)((acc >> bits) & 0xff);
    }
  }
  if (bits >= 6 || pad > 2) return -1; /* a lone trailing sextet is not Base64 */
  return 0;
}

int ecs_random_hex(char *out, size_t nbytes) {
  unsigned char raw[64];
  if (nbytes == 0 || nbytes > sizeof raw) return -1;
  if (RAND_bytes(raw, (int)nbytes) != 1) return -1;
  ecs_hex(raw, nbytes, out);
  return 0;
}

/* days from 1970-01-01 of a proleptic Gregorian civil date */
static long days_from_civil(long y, unsigned m, unsigned d) {
  long era;
  unsigned yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (unsigned)(y - era * 400);
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (long)doe - 719468;
}

static void civil_from_days(long z, long *y, unsigned *m, unsigned *d) {
  long era;
  unsigned doe, yoe, doy, mp;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = (unsigned)(z - era * 146097);
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  *y = (long)yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y += *m <= 2;
}

void ecs_format_timestamp(double epoch, char out[21]) {
  long long t;
  /* clamp to the dates the format can hold (NaN counts as 0): casting an
   * out-of-range double to an integer is undefined */
  if (!(epoch >= -62135596800.0)) epoch = epoch != epoch ? 0 : -62135596800.0;
  if (epoch > 253402300799.0) epoch = 253402300799.0;
  t = (long long)epoch;
  long days, y;
  unsigned m, d;
  long secs;
  if ((double)t > epoch) t--; /* floor for negative fractions */
  days = (long)(t / 86400);
  secs = (long)(t % 86400);
  if (secs < 0) { secs += 86400; days--; }
  civil_from_days(days, &y, &m, &d);
  if (y < 0 || y > 9999) y = y < 0 ? 0 : 9999;
  {
    /* digit by digit: snprintf cost more than the rest of this function */
    long v[6];
    int widths[6] = {4, 2, 2, 2, 2, 2}, i, j, k = 0;
    const char seps[6] = {'-', '-', 'T', ':', ':', 'Z'};
    v[0] = y; v[1] = (long)m; v[2] = (long)d; v[3] = secs / 3600; v[4] = (secs / 60) % 60; v[5] = secs % 60;
    for (i = 0; i < 6; i++) {
      for (j = widths[i] - 1; j >= 0; j--) {
        out[k + j] = (char)('0' + v[i] % 10);
        v[i] /= 10;
      }
      k += widths[i];
      out[k++] = seps[i];
    }
    out[20] = '\0';
  }
}

static int valid_date(int y, int m, int d) {
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m < 1 || m > 12 || d < 1) return 0;
  return d <= mdays[m - 1] + (m == 2 && leap);
}

static int digits(const char *s, int n, int *v) {
  int i, r = 0;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    r = r * 10 + (s[i] - '0');
  }
  *v = r;
  return 0;
}

int ecs_parse_timestamp(const char *s, size_t n, double *epoch) {
  int Y, M, D, h, mi, sec;
  size_t i = 19;
  double frac = 0, scale = 0.1;
  if (n < 20) return -1;
  if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
      digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
      s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
    return -1;
  if (s[i] == '.') {
    i++;
    if (i >= n || s[i] < '0' || s[i] > '9') return -1;
    while (i < n && s[i] >= '0' && s[i] <= '9') { frac += (s[i] - '0') * scale; scale /= 10; i++; }
  }
  if (i + 1 != n || (s[i] != 'Z' && s[i] != 'z')) return -1;
  if (!valid_date(Y, M, D) || h > 23 || mi > 59 || sec > 60) return -1;
  *epoch = (double)days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400.0 + h * 3600 + mi * 60 +
           sec + frac;
  return 0;
}

int ecs_parse_http_date(const char *s, size_t n, double *epoch) {
  static const char *MON[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int D, Y, h, mi, sec, M;
  /* "Sun, 06 Nov 1994 08:49:37 GMT" */
  if (n < 29 || s[3] != ',' || s[4] != ' ') return -1;
  if (digits(s + 5, 2, &D) || s[7] != ' ' || s[11] != ' ' || digits(s + 12, 4, &Y) ||
      s[16] != ' ' || digits(s + 17, 2, &h) || s[19] != ':' || digits(s + 20, 2, &mi) ||
      s[22] != ':' || digits(s + 23, 2, &sec) || memcmp(s + 25, " GMT", 4) != 0)
    return -1;
  for (M = 0; M < 12; M++)
    if (memcmp(s + 8, MON[M], 3) == 0) break;
  if (M == 12 || !valid_date(Y, M + 1, D) || h > 23 || mi > 59 || sec > 60) return -1;
  *epoch = (double)days_from_civil(Y, (unsigned)M + 1, (unsigned)D) * 86400.0 + h * 3600 +
           mi * 60 + sec;
  return 0;
}

void ecs_v2_string_to_sign(ecs_buf *out, const char *method, size_t mlen, const ecs_param *sorted,
                           size_t n) {
  ecs_buf q;
  ecs_buf_init(&q);
  ecs_canonical_query(&q, sorted, n);
  ecs_buf_add(out, method, mlen);
  ecs_buf_adds(out, "&%2F&");
  if (q.oom) out->oom = 1;
  else ecs_pct_encode(out, q.p, q.len);
  ecs_buf_free(&q);
}

int ecs_v2_signature(const char *secret, size_t slen, const char *sts, size_t n, char out[29]) {
  unsigned char md[20];
  ecs_buf key, b;
  int rc;
  ecs_buf_init(&key);
  ecs_buf_init(&b);
  ecs_buf_add(&key, secret, slen);
  ecs_buf_addc(&key, '&');
  rc = key.oom ? -1 : ecs_hmac_sha1(key.p, key.len, sts, n, md);
  /* the key holds the secret: wipe it before freeing */
  if (key.p) OPENSSL_cleanse(key.p, key.cap);
  ecs_buf_free(&key);
  if (rc == 0) {
    ecs_base64_encode(&b, md, sizeof md);
    if (b.oom || b.len != 28) rc = -1;
    else { memcpy(out, b.p, 28); out[28] = '\0'; }
  }
  ecs_buf_free(&b);
  return rc;
}

typedef struct hdr {
  char *name; /* lowercased copy */
  size_t nlen;
  const char *value; /* trimmed view */
  size_t vlen;
} hdr;

static int hdr_cmp(const void *a, const void *b) {
  const hdr *x = (const hdr *)a, *y = (const hdr *)b;
  size_t m = x->nlen < y->nlen ? x->nlen : y->nlen;
  int r = memcmp(x->name, y->name, m);
  if (r == 0) r = (x->nlen > y->nlen) - (x->nlen < y->nlen);
  if (r == 0) {
    m = x->vlen < y->vlen ? x->vlen : y->vlen;
    r = memcmp(x->value, y->value, m);
    if (r == 0) r = (x->vlen > y->vlen) - (x->vlen < y->vlen);
  }
  return r;
}

static int signed_header_name(const char *s, size_t n) {
  if (n == 4 && memcmp(s, "host", 4) == 0) return 1;
  if (n == 12 && memcmp(s, "content-type", 12) == 0) return 1;
  return n >= 6 && memcmp(s, "x-acs-", 6) == 0;
}

int ecs_v3_canonical_request(ecs_buf *out, ecs_buf *signed_headers, const char *method, size_t mlen,
                             const char *path, size_t plen, const ecs_param *sorted_query, size_t nq,
                             const ecs_header *headers, size_t nh, const char *payload_hash,
                             size_t hlen) {
  hdr *h = NULL;
  size_t i, j, k = 0;
  int rc = 0;
  if (nh > 0) {
    h = (hdr *)calloc(nh, sizeof *h);
    if (h == NULL) return -1;
  }
  for (i = 0; i < nh; i++) {
    const char *v = headers[i].value;
    size_t vl = headers[i].vlen;
    char *nm = (char *)malloc(headers[i].nlen + 1);
    if (nm == NULL) { rc = -1; goto done; }
    for (j = 0; j < headers[i].nlen; j++) nm[j] = (char)tolower((unsigned char)headers[i].name[j]);
    nm[headers[i].nlen] = '\0';
    if (!signed_header_name(nm, headers[i].nlen)) { free(nm); continue; }
    while (vl > 0 && isspace((unsigned char)*v)) { v++; vl--; }
    while (vl > 0 && isspace((unsigned char)v[vl - 1])) vl--;
    h[k].name = nm;
    h[k].nlen = headers[i].nlen;
    h[k].value = v;
    h[k].vlen = vl;
    k++;
  }
  if (k > 1) qsort(h, k, sizeof *h, hdr_cmp);

  ecs_buf_add(out, method, mlen);
  ecs_buf_addc(out, '\n');
  ecs_buf_add(out, path, plen);
  ecs_buf_addc(out, '\n');
  ecs_canonical_query(out, sorted_query, nq);
  ecs_buf_addc(out, '\n');
  for (i = 0; i < k; i = j) {
    ecs_buf_add(out, h[i].name, h[i].nlen);
    ecs_buf_addc(out, ':');
    ecs_buf_add(out, h[i].value, h[i].vlen);
    for (j = i + 1; j < k && h[j].nlen == h[i].nlen && memcmp(h[j].name, h[i].name, h[i].nlen) == 0; j++) {
      ecs_buf_addc(out, ',');
      ecs_buf_add(out, h[j].value, h[j].vlen);
    }
    ecs_buf_addc(out, '\n');
    if (signed_headers->len > 0) ecs_buf_addc(signed_headers, ';');
    ecs_buf_add(signed_headers, h[i].name, h[i].nlen);
  }
  ecs_buf_addc(out, '\n');
  ecs_buf_add(out, signed_headers->p ? signed_headers->p : "", signed_headers->len);
  ecs_buf_addc(out, '\n');
  ecs_buf_add(out, payload_hash, hlen);
  if (out->oom || signed_headers->oom) rc = -1;
done:
  for (i = 0; i < k; i++) free(h[i].name);
  free(h);
  return rc;
}

void ecs_v3_string_to_sign(ecs_buf *out, const char *cr, size_t n) {
  char hex[65];
  ecs_sha256_hex(cr, n, hex);
  ecs_buf_adds(out, "ACS3-HMAC-SHA256\n");
  ecs_buf_add(out, hex, 64);
}

int ecs_v3_signature(const char *secret, size_t slen, const char *sts, size_t n, char out[65]) {
  unsigned char md[32];
  if (ecs_hmac_sha256(secret, slen, sts, n, md) != 0) return -1;
  ecs_hex(md, 32, out);
  return 0;
}
