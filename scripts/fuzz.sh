#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for a
# bounded time from the seed corpus in fuzz/corpus/. Prints the executions
# per target and fails on any crash, sanitizer report or driver error.
#   FUZZ_SECONDS=20 (default; `make fuzz` uses 300)
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_EACH=${FUZZ_SECONDS:-20}
OUT=${FUZZ_OUT:-$ROOT/build-fuzz/runs}
mkdir -p "$OUT"
if ! { CC=clang cmake -S . -B build-fuzz -DECS_FUZZ=ON -DECS_TESTS=OFF -DECS_DEV=ON && cmake --build build-fuzz -j 2; } \
  >"$OUT/build.log" 2>&1; then
  tail -20 "$OUT/build.log"
  echo "fuzz: build failed"
  exit 1
fi
total=0
failed=0
for t in encode sign lua; do
  corpus=$(mktemp -d)
  cp fuzz/corpus/$t/* "$corpus"/
  extra=""
  # Lua's collector frees lazily, so per-input leak checks only see noise;
  # leaks of the core are checked under valgrind instead
  [ "$t" = lua ] && extra="-detect_leaks=0"
  ECS_ROOT=$ROOT ./build-fuzz/fuzz_$t -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -max_len=4096 \
    -artifact_prefix="$OUT/crash-$t-" $extra "$corpus" >"$OUT/$t.log" 2>&1
  rc=$?
  runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$OUT/$t.log" | tail -1)
  runs=${runs:-0}
  total=$((total + runs))
  if [ $rc -ne 0 ]; then
    failed=$((failed + 1))
    echo "fuzz_$t: FAILED after $runs executions (see $OUT/$t.log)"
    grep -E "ERROR|SUMMARY|raised|abort" "$OUT/$t.log" | head -10
  else
    echo "fuzz_$t: $runs executions in ${SECONDS_EACH}s, nothing found"
  fi
  rm -rf "$corpus"
done
echo "fuzz: $total executions in all, $failed targets failed"
[ $failed -eq 0 ]
