#!/usr/bin/env bash
# The whole test suite (what `make test` and CI run). Each step's output goes
# to build/test-logs/; the last line is the summary "N passed, N failed",
# counting C tests, busted tests of every run, and the static checks.
#   QUICK=1 scripts/test.sh   skips the Lua-version matrix and the ASan run
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
LOGS=$ROOT/build/test-logs
JOBS=${JOBS:-2}
PASSED=0
FAILED=0
FAILED_STEPS=()

mkdir -p "$LOGS"
# The canaries the secrets check looks for in every log at the end: the
# secrets spec appends its own; "testsecret" is the secret of the published
# vectors that almost every other spec signs with, so the whole suite is
# covered too.
printf 'testsecret\n' >"$LOGS/secret-canaries"
# the suite never talks to a real endpoint or the ECS metadata service
export ALIBABA_CLOUD_ECS_METADATA_DISABLED=true
unset ALIBABA_CLOUD_ACCESS_KEY_ID ALIBABA_CLOUD_ACCESS_KEY_SECRET ALIBABA_CLOUD_SECURITY_TOKEN \
  ALIBABA_CLOUD_PROFILE ALIBABA_CLOUD_REGION_ID http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

note() { printf '%s\n' "$*"; }

count() { # count <passed> <failed> <step>
  PASSED=$((PASSED + $1))
  FAILED=$((FAILED + $2))
  if [ "$2" -gt 0 ]; then FAILED_STEPS+=("$3"); fi
  note "  $3: $1 passed, $2 failed"
}

build() { # build <dir> <lua> [extra cmake args]
  local dir=$1 lua=$2
  shift 2
  { cmake -S . -B "$dir" -DECS_LUA="$lua" -DECS_DEV=ON "$@" && cmake --build "$dir" -j "$JOBS"; } \
    >"$LOGS/build-$(basename "$dir").log" 2>&1
}

# busted <step> <interpreter> <cpath dir> <spec dirs...> (extra env via BUSTED_ENV)
busted_run() {
  local step=$1 lua=$2 cdir=$3
  shift 3
  local log="$LOGS/$step.log" ok nok rc
  env ${BUSTED_ENV:-} "$lua" /usr/bin/busted --cpath="$cdir/?.so" -o TAP "$@" >"$log" 2>&1
  rc=$?
  ok=$(grep -c '^ok ' "$log" || true)
  nok=$(grep -c '^not ok ' "$log" || true)
  if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then nok=1; fi # crashed or failed to load
  if [ "$nok" -gt 0 ]; then
    grep -A8 '^not ok ' "$log" | head -60
    [ "$rc" -ne 0 ] && tail -5 "$log"
  fi
  count "$ok" "$nok" "$step"
}

note "== build (Lua 5.4, warnings are errors)"
if build build 5.4; then count 1 0 build-5.4; else count 0 1 build-5.4; tail -30 "$LOGS/build-build.log"; fi

note "== C unit tests (ctest)"
(cd build && ctest --output-on-failure) >"$LOGS/ctest.log" 2>&1
c_total=$(sed -n 's/.* tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$LOGS/ctest.log")
c_failed=$(sed -n 's/.* tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' "$LOGS/ctest.log")
if [ -n "$c_total" ]; then count $((c_total - c_failed)) "$c_failed" ctest; else count 0 1 ctest; cat "$LOGS/ctest.log"; fi

note "== luacheck"
if luacheck --no-color lua spec bin examples bench fuzz >"$LOGS/luacheck.log" 2>&1; then count 1 0 luacheck; else
  count 0 1 luacheck; tail -20 "$LOGS/luacheck.log"; fi

note "== static checks of src/ (clang-tidy, cppcheck)"
if bash scripts/static.sh >"$LOGS/static.log" 2>&1; then count 1 0 static; else count 0 1 static; tail -20 "$LOGS/static.log"; fi

note "== busted, Lua 5.4 (whole suite)"
busted_run busted-5.4 lua5.4 build spec

if [ -z "${QUICK:-}" ]; then
  MATRIX_SPECS=()
  for d in spec/00_core spec/10_client spec/40_frequency spec/50_resilience; do [ -d "$d" ] && MATRIX_SPECS+=("$d"); done
  # the emulator's service logic is portable too (its server host is Lua 5.4 only)
  for f in spec/30_emulator/*_spec.lua; do [ "$f" != spec/30_emulator/server_spec.lua ] && MATRIX_SPECS+=("$f"); done
  for v in 5.1 5.2 5.3 jit; do
    note "== Lua $v: core, client, frequency, resilience and emulator specs"
    if build "build-$v" "$v" -DECS_TESTS=OFF; then
      lua=lua$v
      [ "$v" = jit ] && lua=luajit
      busted_run "busted-$v" "$lua" "build-$v" "${MATRIX_SPECS[@]}"
    else
      count 0 1 "build-$v"; tail -20 "$LOGS/build-build-$v.log"
    fi
  done

  note "== ASan+UBSan build of the core: the whole busted suite"
  if build build-asan 5.4 -DECS_SANITIZE=ON -DECS_TESTS=ON; then
    (cd build-asan && ctest --output-on-failure) >"$LOGS/ctest-asan.log" 2>&1 && count 1 0 ctest-asan || {
      count 0 1 ctest-asan; tail -20 "$LOGS/ctest-asan.log"; }
    BUSTED_ENV="LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1" \
      busted_run busted-asan lua5.4 build-asan spec
  else
    count 0 1 build-asan; tail -20 "$LOGS/build-build-asan.log"
  fi

  note "== valgrind memcheck: core, client and HTTP specs"
  if bash scripts/valgrind.sh "$LOGS/valgrind-memcheck.log" >"$LOGS/valgrind.log" 2>&1; then count 1 0 valgrind; else
    count 0 1 valgrind; fi
  cat "$LOGS/valgrind.log"

  note "== GC stress (collector at its most aggressive): core and client specs"
  busted_run busted-gcstress lua5.4 build --helper=spec/helpers/gcstress.lua spec/00_core spec/10_client

  note "== libFuzzer targets (ASan+UBSan), ${FUZZ_SECONDS:-20}s each"
  if FUZZ_SECONDS=${FUZZ_SECONDS:-20} bash scripts/fuzz.sh >"$LOGS/fuzz.log" 2>&1; then count 1 0 fuzz; else
    count 0 1 fuzz; fi
  grep -E '^fuzz' "$LOGS/fuzz.log"

  note "== luarocks make (dev rockspec) into a temporary tree"
  if bash scripts/rockspec-check.sh >"$LOGS/luarocks.log" 2>&1; then count 1 0 luarocks; else
    count 0 1 luarocks; tail -20 "$LOGS/luarocks.log"; fi
fi

note "== secrets: the canary credentials of the secrets spec in any log of the suite"
if grep -q CANARY "$LOGS/secret-canaries" && bash scripts/secrets-check.sh >"$LOGS/secrets-check.log" 2>&1; then
  count 1 0 secrets-check
else
  grep -q CANARY "$LOGS/secret-canaries" || echo "the secrets spec wrote no canaries (did it run?)" >>"$LOGS/secrets-check.log"
  count 0 1 secrets-check; fi
cat "$LOGS/secrets-check.log"

if [ ${#FAILED_STEPS[@]} -gt 0 ]; then note "failed steps: ${FAILED_STEPS[*]} (logs in build/test-logs/)"; fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
