/* sign.c against every published signature vector (reference §3.7, §4.5). */
#include <stdlib.h>

#include "check.h"
#include "encode.h"
#include "sign.h"

#define P(k, v) {k, sizeof(k) - 1, v, sizeof(v) - 1}

static const char *b64(ecs_buf *b, const unsigned char *md, size_t n) {
  ecs_buf_reset(b);
  ecs_base64_encode(b, md, n);
  return ecs_buf_cstr(b);
}

static void v2_vectors(void) {
  ecs_buf sts, q;
  char sig[29];
  ecs_buf_init(&sts);
  ecs_buf_init(&q);
  /* A. DescribeDedicatedHosts (GET), current official doc */
  {
    ecs_param p[] = {
        P("AccessKeyId", "testid"),   P("Action", "DescribeDedicatedHosts"),
        P("Format", "JSON"),          P("RegionId", "cn-beijing"),
        P("SignatureMethod", "HMAC-SHA1"),
        P("SignatureNonce", "edb2b34af0af9a6d14deaf7c1a5315eb"),
        P("SignatureVersion", "1.0"), P("Timestamp", "2023-03-13T08:34:30Z"),
        P("Version", "2014-05-26"),
    };
    size_t n = sizeof p / sizeof p[0];
    ecs_params_sort(p, n);
    ecs_canonical_query(&q, p, n);
    CHECK_STR(ecs_buf_cstr(&q),
              "AccessKeyId=testid&Action=DescribeDedicatedHosts&Format=JSON&RegionId=cn-beijing&"
              "SignatureMethod=HMAC-SHA1&SignatureNonce=edb2b34af0af9a6d14deaf7c1a5315eb&"
              "SignatureVersion=1.0&Timestamp=2023-03-13T08%3A34%3A30Z&Version=2014-05-26");
    ecs_v2_string_to_sign(&sts, "GET", 3, p, n);
    CHECK_STR(ecs_buf_cstr(&sts),
              "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeDedicatedHosts%26Format%3DJSON%26"
              "RegionId%3Dcn-beijing%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D"
              "edb2b34af0af9a6d14deaf7c1a5315eb%26SignatureVersion%3D1.0%26Timestamp%3D"
              "2023-03-13T08%253A34%253A30Z%26Version%3D2014-05-26");
    CHECK(ecs_v2_signature("testsecret", 10, sts.p, sts.len, sig) == 0);
    CHECK_STR(sig, "9NaGiOspFP5UPcwX8Iwt2YJXXuk=");
    /* the same parameters signed for POST (reference's own check) */
    ecs_buf_reset(&sts);
    ecs_v2_string_to_sign(&sts, "POST", 4, p, n);
    CHECK(ecs_v2_signature("testsecret", 10, sts.p, sts.len, sig) == 0);
    CHECK_STR(sig, "ZvQ9xGiFnquSJRvj+WE6kdSpTwU=");
  }
  /* B. DescribeRegions (GET), classic ECS doc */
  {
    ecs_param p[] = {
        P("Version", "2014-05-26"),       P("Timestamp", "2016-02-23T12:46:24Z"),
        P("SignatureVersion", "1.0"),     P("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
        P("SignatureMethod", "HMAC-SHA1"), P("Format", "XML"),
        P("Action", "DescribeRegions"),   P("AccessKeyId", "testid"),
    };
    size_t n = sizeof p / sizeof p[0];
    ecs_params_sort(p, n);
    ecs_buf_reset(&sts);
    ecs_v2_string_to_sign(&sts, "GET", 3, p, n);
    CHECK_STR(ecs_buf_cstr(&sts),
              "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26"
              "SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26"
              "SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26");
    CHECK(ecs_v2_signature("testsecret", 10, sts.p, sts.len, sig) == 0);
    CHECK_STR(sig, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
  }
  /* C. SDK unit-test vectors */
  {
    ecs_param p[] = {P("query", "test"), P("body", "test")};
    ecs_params_sort(p, 2);
    ecs_buf_reset(&sts);
    ecs_v2_string_to_sign(&sts, "GET", 3, p, 2);
    CHECK_STR(ecs_buf_cstr(&sts), "GET&%2F&body%3Dtest%26query%3Dtest");
    CHECK(ecs_v2_signature("secret", 6, sts.p, sts.len, sig) == 0);
    CHECK_STR(sig, "XlUyV4sXjOuX5FnjUz9IF9tm5rU=");
  }
  {
    ecs_param p[] = {P("test", "ok")};
    ecs_buf_reset(&sts);
    ecs_v2_string_to_sign(&sts, "", 0, p, 1);
    CHECK_STR(ecs_buf_cstr(&sts), "&%2F&test%3Dok");
    CHECK(ecs_v2_signature("accessKeySecret", 15, sts.p, sts.len, sig) == 0);
    CHECK_STR(sig, "jHx/oHoHNrbVfhncHEvPdHXZwHU=");
  }
  {
    ecs_param p[] = {P("queryKey2", "queryValue2"), P("queryKey1", "queryValue1")};
    ecs_params_sort(p, 2);
    ecs_buf_reset(&sts);
    ecs_v2_string_to_sign(&sts, "GET", 3, p, 2);
    CHECK_STR(ecs_buf_cstr(&sts), "GET&%2F&queryKey1%3DqueryValue1%26queryKey2%3DqueryValue2");
  }
  ecs_buf_free(&sts);
  ecs_buf_free(&q);
}

static void hmac_vectors(void) {
  unsigned char md[32];
  ecs_buf b;
  ecs_buf_init(&b);
  CHECK(ecs_hmac_sha1("secret", 6, "source", 6, md) == 0);
  CHECK_STR(b64(&b, md, 20), "Jv4yi8SobFhg5t1C7nWLbhBSFZQ=");
  CHECK(ecs_hmac_sha1("secret", 6, "\xe4\xb8\xad\xe6\x96\x87unicode", 13, md) == 0);
  CHECK_STR(b64(&b, md, 20), "szlfHs3WVaO/HgY3Cg7/uyXDaRw=");
  CHECK(ecs_hmac_sha1("sk#$!~~~", 8, "abc~!@#", 7, md) == 0);
  CHECK_STR(b64(&b, md, 20), "7eV3A584uvdgKVk8Ck8r9ukg1gE=");
  {
    char hex[65];
    ecs_sha256_hex("test", 4, hex);
    CHECK_STR(hex, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    ecs_sha256_hex("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }
  ecs_buf_free(&b);
}

static void v3_vectors(void) {
  ecs_buf cr, sh, sts;
  char sig[65];
  ecs_buf_init(&cr);
  ecs_buf_init(&sh);
  ecs_buf_init(&sts);
  /* A. RunInstances (POST), official doc fixed example */
  {
    const char *empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    ecs_param q[] = {P("RegionId", "cn-shanghai"),
                     P("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd")};
    ecs_header h[] = {
        {"x-acs-version", 13, "2014-05-26", 10},
        {"host", 4, "ecs.cn-shanghai.aliyuncs.com", 28},
        {"x-acs-action", 12, "RunInstances", 12},
        {"x-acs-date", 10, "2023-10-26T10:22:32Z", 20},
        {"x-acs-signature-nonce", 21, "3156853299f313e23d1673dc12e1703d", 32},
        {"x-acs-content-sha256", 20, empty, 64},
        {"user-agent", 10, "not signed", 10},
    };
    ecs_params_sort(q, 2);
    CHECK(ecs_v3_canonical_request(&cr, &sh, "POST", 4, "/", 1, q, 2, h, 7, empty, 64) == 0);
    CHECK_STR(ecs_buf_cstr(&cr),
              "POST\n/\nImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\n"
              "host:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\n"
              "x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
              "x-acs-date:2023-10-26T10:22:32Z\nx-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n"
              "x-acs-version:2014-05-26\n\n"
              "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_STR(ecs_buf_cstr(&sh),
              "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version");
    ecs_v3_string_to_sign(&sts, cr.p, cr.len);
    CHECK_STR(ecs_buf_cstr(&sts),
              "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259");
    CHECK(ecs_v3_signature("YourAccessKeySecret", 19, sts.p, sts.len, sig) == 0);
    CHECK_STR(sig, "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0");
  }
  /* B and C. darabonba-openapi test_get_authorization (GET, and an empty method) */
  {
    const char *hash = "55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23";
    ecs_param q[] = {P("test", "ok"), P("empty", "")};
    ecs_header h[] = {{"x-acs-test", 10, "http", 4}, {"x-acs-TEST", 10, "https", 5}};
    ecs_params_sort(q, 2);
    ecs_buf_reset(&cr);
    ecs_buf_reset(&sh);
    ecs_buf_reset(&sts);
    CHECK(ecs_v3_canonical_request(&cr, &sh, "GET", 3, "/", 1, q, 2, h, 2, hash, 64) == 0);
    CHECK_STR(ecs_buf_cstr(&cr), "GET\n/\nempty=&test=ok\nx-acs-test:http,https\n\nx-acs-test\n"
                                 "55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23");
    CHECK_STR(ecs_buf_cstr(&sh), "x-acs-test");
    ecs_v3_string_to_sign(&sts, cr.p, cr.len);
    CHECK(ecs_v3_signature("secret", 6, sts.p, sts.len, sig) == 0);
    CHECK_STR(sig, "d16b30a7699ae9e43875b13195b2f81bcc3ed10c14a9b5eb780e51619aa50be1");

    ecs_buf_reset(&cr);
    ecs_buf_reset(&sh);
    ecs_buf_reset(&sts);
    CHECK(ecs_v3_canonical_request(&cr, &sh, "", 0, "/", 1, q, 2, h, 2, hash, 64) == 0);
    ecs_v3_string_to_sign(&sts, cr.p, cr.len);
    CHECK(ecs_v3_signature("secret", 6, sts.p, sts.len, sig) == 0);
    CHECK_STR(sig, "4ab59fffe3c5738ff8a2729f90cc04fe18b02a4b15b2102cbaf92f9ff3df2ea3");
  }
  ecs_buf_free(&cr);
  ecs_buf_free(&sh);
  ecs_buf_free(&sts);
}

static void misc(void) {
  ecs_buf b;
  char ts[21], hex[33];
  double t;
  ecs_buf_init(&b);
  ecs_format_timestamp(1678696470.0, ts);
  CHECK_STR(ts, "2023-03-13T08:34:30Z");
  ecs_format_timestamp(0, ts);
  CHECK_STR(ts, "1970-01-01T00:00:00Z");
  ecs_format_timestamp(951782400.0, ts); /* leap day 2000 */
  CHECK_STR(ts, "2000-02-29T00:00:00Z");
  CHECK(ecs_parse_timestamp("2023-03-13T08:34:30Z", 20, &t) == 0 && t == 1678696470.0);
  CHECK(ecs_parse_timestamp("2021-10-20T04:27:09.5Z", 22, &t) == 0 && t == 1634704029.5);
  CHECK(ecs_parse_timestamp("2023-03-13 08:34:30Z", 20, &t) != 0);
  CHECK(ecs_parse_timestamp("2023-13-13T08:34:30Z", 20, &t) != 0);
  CHECK(ecs_parse_timestamp("2023-03-13T08:34:30", 19, &t) != 0);
  CHECK(ecs_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", 29, &t) == 0 && t == 784111777.0);
  CHECK(ecs_parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT", 29, &t) != 0);
  CHECK(ecs_random_hex(hex, 16) == 0 && strlen(hex) == 32);
  {
    char hex2[33];
    CHECK(ecs_random_hex(hex2, 16) == 0 && strcmp(hex, hex2) != 0);
  }
  ecs_base64_encode(&b, (const unsigned char *)"hello", 5);
  CHECK_STR(ecs_buf_cstr(&b), "aGVsbG8=");
  ecs_buf_reset(&b);
  CHECK(ecs_base64_decode(&b, "aGVsbG8=", 8) == 0);
  CHECK_STR(ecs_buf_cstr(&b), "hello");
  ecs_buf_reset(&b);
  CHECK(ecs_base64_decode(&b, "aGVs\nbG8", 8) == 0);
  CHECK_STR(ecs_buf_cstr(&b), "hello");
  ecs_buf_reset(&b);
  CHECK(ecs_base64_decode(&b, "a", 1) != 0);
  ecs_buf_reset(&b);
  CHECK(ecs_base64_decode(&b, "aGVs!G8=", 8) != 0);
  ecs_buf_reset(&b);
  CHECK(ecs_base64_decode(&b, "aA==aA==", 8) != 0);
  ecs_buf_free(&b);
}

int main(void) {
  v2_vectors();
  hmac_vectors();
  v3_vectors();
  misc();
  return check_report("test_sign");
}
