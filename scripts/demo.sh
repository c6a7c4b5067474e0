#!/usr/bin/env bash
# make demo: start the local Cloud Assistant emulator on a free loopback port
# with a fast clock, run examples/quickstart.lua against it, stop it.
# Exit status: the quickstart's (non-zero if anything failed).
set -euo pipefail
cd "$(dirname "$0")/.."

LUA=${LUA:-lua5.4}
TIME_SCALE=${DEMO_TIME_SCALE:-10}

if [ ! -f build/ecs/core.so ]; then
  echo "demo: build/ecs/core.so is missing: build first (make, or cmake -S . -B build && cmake --build build)" >&2
  exit 1
fi

tmp=$(mktemp -d)
emu_pid=
cleanup() {
  exec 3>&- 2>/dev/null || true
  if [ -n "$emu_pid" ]; then
    kill "$emu_pid" 2>/dev/null || true
    wait "$emu_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The emulator's stdin is a pipe held by this shell (--stdin-exit), so it
# also goes away if this script is killed before the trap can run.
exec 3> >(exec "$LUA" bin/ecs-emulator --port 0 --time-scale "$TIME_SCALE" --stdin-exit \
  --log "$tmp/access.log" >"$tmp/out" 2>"$tmp/err")
emu_pid=$!

port=
for _ in $(seq 1 200); do
  if [ -s "$tmp/out" ]; then
    port=$(sed -n 's/^listening \([0-9][0-9]*\)$/\1/p' "$tmp/out")
    [ -n "$port" ] && break
  fi
  kill -0 "$emu_pid" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$port" ]; then
  echo "demo: the emulator did not start:" >&2
  cat "$tmp/err" >&2
  exit 1
fi

echo "== Local Cloud Assistant emulator listening on 127.0.0.1:$port"
echo "   (a stand-in for the real service; its clock runs ${TIME_SCALE}x faster)"
echo

status=0
env -u ALIBABA_CLOUD_SECURITY_TOKEN -u ALIBABA_CLOUD_PROFILE -u ALIBABA_CLOUD_CREDENTIALS_FILE \
  -u ALIBABA_CLOUD_ECS_METADATA -u ALIBABA_CLOUD_ROLE_ARN -u ALIBABA_CLOUD_OIDC_TOKEN_FILE \
  ECS_ENDPOINT="http://127.0.0.1:$port" NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost \
  ALIBABA_CLOUD_ACCESS_KEY_ID=testid ALIBABA_CLOUD_ACCESS_KEY_SECRET=testsecret \
  ALIBABA_CLOUD_REGION_ID=cn-hangzhou \
  LUA_PATH="./lua/?.lua;./lua/?/init.lua;;" LUA_CPATH="./build/?.so;;" \
  "$LUA" examples/quickstart.lua 3>&- || status=$?

echo
if [ "$status" -eq 0 ]; then
  echo "== Demo finished. The emulator served $(wc -l <"$tmp/access.log") requests and is now stopped."
else
  echo "== Demo FAILED (exit $status). Emulator messages:" >&2
  cat "$tmp/err" >&2
fi
exit "$status"
