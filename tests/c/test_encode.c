/* encode.c against the published percent-encoding vectors (reference §3.2). */
#include <stdlib.h>

#include "check.h"
#include "encode.h"

static const char *enc(ecs_buf *b, const char *s, size_t n) {
  ecs_buf_reset(b);
  ecs_pct_encode(b, s, n);
  return ecs_buf_cstr(b);
}

static const char *dec(ecs_buf *b, const char *s, int plus) {
  ecs_buf_reset(b);
  ecs_pct_decode(b, s, strlen(s), plus);
  return ecs_buf_cstr(b);
}

static int collected;
static char seen_k[4][32], seen_v[4][32];

static int cb(void *ud, const char *k, size_t kl, const char *v, size_t vl) {
  (void)ud;
  if (collected < 4 && kl < 32 && vl < 32) {
    memcpy(seen_k[collected], k, kl + 1);
    memcpy(seen_v[collected], v, vl + 1);
  }
  collected++;
  return 0;
}

int main(void) {
  ecs_buf b;
  const char *java = "123abc!@#$%^&*()-=_+ ~|\\/";
  ecs_buf_init(&b);

  /* Java core AcsURLEncoderTest.percentEncodeReturnNormal */
  CHECK(strlen(java) == 25);
  CHECK_STR(enc(&b, java, strlen(java)), "123abc%21%40%23%24%25%5E%26%2A%28%29-%3D_%2B%20~%7C%5C%2F");
  /* darabonba-openapi test_get_canonical_query_string value */
  CHECK_STR(enc(&b, " ~/*-+", 6), "%20~%2F%2A-%2B");
  CHECK_STR(enc(&b, "AZaz09-_.~", 10), "AZaz09-_.~");
  CHECK_STR(enc(&b, "", 0), "");
  CHECK_STR(enc(&b, "\xe4\xb8\xad", 3), "%E4%B8%AD");
  CHECK_STR(enc(&b, "a\0b", 3), "a%00b");
  CHECK_STR(enc(&b, "2023-03-13T08:34:30Z", 20), "2023-03-13T08%3A34%3A30Z");

  /* decoding */
  CHECK_STR(dec(&b, "123abc%21%40%23%24%25%5E%26%2A%28%29-%3D_%2B%20~%7C%5C%2F", 0), java);
  CHECK_STR(dec(&b, "a+b%20c", 0), "a+b c");
  CHECK_STR(dec(&b, "a+b%20c", 1), "a b c");
  CHECK_STR(dec(&b, "%zz%4", 0), "%zz%4"); /* malformed escapes kept */
  CHECK_STR(dec(&b, "%e4%b8%ad", 0), "\xe4\xb8\xad");

  /* canonical query: sorted by name in byte order, both sides encoded */
  {
    ecs_param p[] = {
        {"test", 4, " ~/*-+", 6},
    };
    ecs_buf_reset(&b);
    ecs_canonical_query(&b, p, 1);
    CHECK_STR(ecs_buf_cstr(&b), "test=%20~%2F%2A-%2B");
  }
  {
    ecs_param p[] = {
        {"InstanceId.2", 12, "i-2", 3}, {"InstanceId.10", 13, "i-10", 4}, {"Action", 6, "X", 1},
        {"action", 6, "y", 1},          {"Empty", 5, "", 0},              {"A", 1, "1", 1},
    };
    ecs_params_sort(p, 6);
    ecs_buf_reset(&b);
    ecs_canonical_query(&b, p, 6);
    CHECK_STR(ecs_buf_cstr(&b), "A=1&Action=X&Empty=&InstanceId.10=i-10&InstanceId.2=i-2&action=y");
  }

  /* query / form parsing */
  collected = 0;
  CHECK(ecs_parse_query("a=1&b=x+y%2Bz&&c&d=", 19, cb, NULL) == 0);
  CHECK(collected == 4);
  CHECK_STR(seen_k[0], "a");
  CHECK_STR(seen_v[0], "1");
  CHECK_STR(seen_k[1], "b");
  CHECK_STR(seen_v[1], "x y+z");
  CHECK_STR(seen_k[2], "c");
  CHECK_STR(seen_v[2], "");
  CHECK_STR(seen_k[3], "d");
  CHECK_STR(seen_v[3], "");
  collected = 0;
  CHECK(ecs_parse_query("", 0, cb, NULL) == 0);
  CHECK(collected == 0);

  ecs_buf_free(&b);
  return check_report("test_encode");
}
