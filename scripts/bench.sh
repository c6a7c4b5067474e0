#!/bin/sh
# `make bench`: builds the C baselines (build-bench/) and, if missing, the
# core (build/), then runs bench/run.lua: a fixed-response nginx on a free
# loopback port, every baseline and project figure, one table, and
# bench/out/results.tsv + results.json. See docs/performance.md.
# Environment: BENCH_RUNS, BENCH_TIME, BENCH_OUT, BENCH_SMOKE, BENCH_PIN,
# BENCH_FLEET, ECS_BUILD (core build folder), BENCH_BUILD (baselines folder),
# BENCH_LUA_ROOT (Lua tree, default lua).
set -eu
cd "$(dirname "$0")/.."
ECS_BUILD=${ECS_BUILD:-build}
BENCH_BUILD=${BENCH_BUILD:-build-bench}
export ECS_BUILD BENCH_BUILD

for tool in cmake nginx lua5.4; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench: '$tool' is needed" >&2; exit 1; }
done

if [ ! -f "$ECS_BUILD/ecs/core.so" ]; then
  cmake -S . -B "$ECS_BUILD" >/dev/null
  cmake --build "$ECS_BUILD" >/dev/null
fi
if [ ! -f "$BENCH_BUILD/CMakeCache.txt" ]; then
  cmake -S bench -B "$BENCH_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BENCH_BUILD" >/dev/null

# BENCH_LUA_ROOT: the Lua tree to measure (default lua/), e.g. a patched copy
LUA_ROOT=${BENCH_LUA_ROOT:-lua}
LUA_PATH="$LUA_ROOT/?.lua;$LUA_ROOT/?/init.lua;bench/lua/?.lua;;"
LUA_CPATH="$ECS_BUILD/?.so;;"
export LUA_PATH LUA_CPATH
exec lua5.4 bench/run.lua "$@"
