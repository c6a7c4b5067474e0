/* Alibaba Cloud RPC signatures (V2 HMAC-SHA1 and V3 ACS3-HMAC-SHA256) and the
 * primitives they need. Plain C over OpenSSL: no Lua here. */
#ifndef ECS_SIGN_H
#define ECS_SIGN_H

#include <stddef.h>
#include <time.h>
#include "buf.h"
#include "encode.h"

typedef struct ecs_header {
  const char *name;
  size_t nlen;
  const char *value;
  size_t vlen;
} ecs_header;

void ecs_sha256_hex(const char *s, size_t n, char out[65]);
int ecs_hmac_sha1(const char *key, size_t klen, const char *s, size_t n, unsigned char out[20]);
int ecs_hmac_sha256(const char *key, size_t klen, const char *s, size_t n, unsigned char out[32]);
void ecs_hex(const unsigned char *s, size_t n, char *out); /* out: 2n+1 bytes */

void ecs_base64_encode(ecs_buf *out, const unsigned char *s, size_t n);
int ecs_base64_decode(ecs_buf *out, const char *s, size_t n); /* 0 ok, -1 malformed */

/* 2*nbytes hex chars of OpenSSL random bytes plus NUL; 0 ok, -1 failure. */
int ecs_random_hex(char *out, size_t nbytes);

/* yyyy-MM-ddTHH:mm:ssZ (20 chars + NUL) for an epoch second, UTC. */
void ecs_format_timestamp(double epoch, char out[21]);
/* Parses yyyy-MM-ddTHH:mm:ss[.fff]Z; 0 ok, -1 malformed. */
int ecs_parse_timestamp(const char *s, size_t n, double *epoch);
/* RFC 1123 date (Sun, 06 Nov 1994 08:49:37 GMT) to epoch; 0 ok, -1 malformed. */
int ecs_parse_http_date(const char *s, size_t n, double *epoch);

/* V2: METHOD&%2F&percent(canonical query of the sorted params). */
void ecs_v2_string_to_sign(ecs_buf *out, const char *method, size_t mlen,
                           const ecs_param *sorted, size_t n);
/* V2: Base64(HMAC-SHA1(secret + "&", string_to_sign)); out gets 28 chars + NUL. */
int ecs_v2_signature(const char *secret, size_t slen, const char *sts, size_t n, char out[29]);

/* V3 canonical request. Headers are filtered (host, content-type, x-acs-*),
 * lowercased, trimmed, sorted, duplicates joined with ','. signed_headers
 * receives the SignedHeaders list. Returns 0, or -1 on allocation failure. */
int ecs_v3_canonical_request(ecs_buf *out, ecs_buf *signed_headers,
                             const char *method, size_t mlen, const char *path, size_t plen,
                             const ecs_param *sorted_query, size_t nq,
                             const ecs_header *headers, size_t nh,
                             const char *payload_hash, size_t hlen);
/* "ACS3-HMAC-SHA256\n" + hex(sha256(canonical_request)) */
void ecs_v3_string_to_sign(ecs_buf *out, const char *cr, size_t n);
/* lowercase hex HMAC-SHA256(secret, string_to_sign); out gets 64 chars + NUL */
int ecs_v3_signature(const char *secret, size_t slen, const char *sts, size_t n, char out[65]);

#endif
