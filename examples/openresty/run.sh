#!/usr/bin/env bash
# Starts the OpenResty example in the foreground: nginx with the Lua module on
# 127.0.0.1:PORT (0 picks a free port), in front of the endpoint in
# ECS_ENDPOINT (when unset, a local emulator started here, with the test
# credentials). The first line on stdout is "listening <port>".
#
#   examples/openresty/run.sh 8080
#   curl -s -X POST 127.0.0.1:8080/invoke -d '{"CommandId":"c-...","InstanceId":["i-..."]}'
#
# Environment: ECS_ENDPOINT, ALIBABA_CLOUD_REGION_ID, ALIBABA_CLOUD_ACCESS_KEY_ID,
# ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN, ECS_SIGNATURE_VERSION
# (v3 or v2), ECS_TLS_SERVER_NAME (name the endpoint's certificate is checked
# against; default its host), ECS_CA_FILE (CAs trusted for https endpoints; default the system
# bundle), ECS_NGINX_PREFIX (nginx prefix directory, kept; default a temporary
# one, removed on exit), NGINX_MODULES (default /usr/lib/nginx/modules).
set -euo pipefail

PORT="${1:-}"
if [[ ! "$PORT" =~ ^[0-9]+$ ]] || (( PORT > 65535 )); then
  echo "usage: $0 PORT   (0 picks a free port)" >&2
  exit 2
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODULES="${NGINX_MODULES:-/usr/lib/nginx/modules}"
OWN_PREFIX=""
if [[ -n "${ECS_NGINX_PREFIX:-}" ]]; then
  PREFIX="$ECS_NGINX_PREFIX"
else
  PREFIX="$(mktemp -d /tmp/ecs-openresty.XXXXXX)"
  OWN_PREFIX=1
fi
mkdir -p "$PREFIX/conf" "$PREFIX/logs" "$PREFIX/tmp"
chmod 755 "$PREFIX"

EMU_PID=""
NGINX_PID=""
cleanup() {
  [[ -n "$NGINX_PID" ]] && kill -TERM "$NGINX_PID" 2>/dev/null || true
  [[ -n "$EMU_PID" ]] && kill -TERM "$EMU_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  [[ -n "$OWN_PREFIX" ]] && rm -rf "$PREFIX"
  return 0
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

for m in ndk_http_module.so ngx_http_lua_module.so; do
  [[ -f "$MODULES/$m" ]] || { echo "run.sh: $MODULES/$m not found (install libnginx-mod-http-lua)" >&2; exit 1; }
done

# the C core for LuaJIT, which nginx's Lua module runs
configure_jit() {
  [[ -f "$ROOT/build-jit/CMakeCache.txt" ]] \
    || cmake -S "$ROOT" -B "$ROOT/build-jit" -DECS_LUA=jit -DECS_TESTS=OFF -DECS_DEV=OFF
}
if ! { configure_jit && cmake --build "$ROOT/build-jit"; } > "$PREFIX/logs/build.log" 2>&1; then
  echo "run.sh: building the C core for LuaJIT failed:" >&2
  cat "$PREFIX/logs/build.log" >&2
  exit 1
fi

if [[ -z "${ECS_ENDPOINT:-}" ]]; then
  # the emulator runs on Lua 5.4 with the C core built for it
  if [[ ! -f "$ROOT/build/ecs/core.so" ]]; then
    if ! { cmake -S "$ROOT" -B "$ROOT/build" && cmake --build "$ROOT/build"; } >> "$PREFIX/logs/build.log" 2>&1; then
      echo "run.sh: building the C core for the emulator failed:" >&2
      cat "$PREFIX/logs/build.log" >&2
      exit 1
    fi
  fi
  EMU_LUA="${ECS_EMULATOR_LUA:-lua5.4}"
  "$EMU_LUA" "$ROOT/bin/ecs-emulator" --port 0 > "$PREFIX/logs/emulator.out" 2> "$PREFIX/logs/emulator.err" &
  EMU_PID=$!
  for _ in $(seq 1 200); do
    grep -q '^listening ' "$PREFIX/logs/emulator.out" 2>/dev/null && break
    kill -0 "$EMU_PID" 2>/dev/null || { cat "$PREFIX/logs/emulator.err" >&2; exit 1; }
    sleep 0.05
  done
  grep -q '^listening ' "$PREFIX/logs/emulator.out" || { echo "run.sh: the emulator did not start" >&2; exit 1; }
  export ECS_ENDPOINT="http://127.0.0.1:$(awk '{print $2; exit}' "$PREFIX/logs/emulator.out")"
  export ALIBABA_CLOUD_ACCESS_KEY_ID="${ALIBABA_CLOUD_ACCESS_KEY_ID:-testid}"
  export ALIBABA_CLOUD_ACCESS_KEY_SECRET="${ALIBABA_CLOUD_ACCESS_KEY_SECRET:-testsecret}"
fi
export ALIBABA_CLOUD_REGION_ID="${ALIBABA_CLOUD_REGION_ID:-cn-hangzhou}"

if (( PORT == 0 )); then
  PORT="$(luajit -e 'local s = assert(require("socket").bind("127.0.0.1", 0))
                     local _, p = s:getsockname(); s:close(); io.write(p)')"
fi

CA_FILE="${ECS_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}"
NS="$(awk '$1 == "nameserver" { print $2; exit }' /etc/resolv.conf 2>/dev/null || true)"
RESOLVER=""
if [[ -n "$NS" ]]; then
  [[ "$NS" == *:* ]] && NS="[$NS]"
  RESOLVER="resolver $NS ipv6=off;"
fi

sed -e "s|__NGX_MODULES__|$MODULES|g" -e "s|__ROOT__|$ROOT|g" -e "s|__PORT__|$PORT|g" \
    -e "s|__CA_FILE__|$CA_FILE|g" -e "s|__RESOLVER__|$RESOLVER|g" \
    "$ROOT/examples/openresty/nginx.conf" > "$PREFIX/conf/nginx.conf"
if [[ "$(id -u)" == 0 ]]; then
  # started as root, nginx runs its workers as nobody, who may not be able to
  # read lua/ in a checkout under a private folder (such as /root)
  sed -i '1i user root;' "$PREFIX/conf/nginx.conf"
fi

nginx -p "$PREFIX/" -e "$PREFIX/logs/error.log" -c "$PREFIX/conf/nginx.conf" &
NGINX_PID=$!

for _ in $(seq 1 200); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "listening $PORT"
    wait "$NGINX_PID"
    exit $?
  fi
  if ! kill -0 "$NGINX_PID" 2>/dev/null; then
    echo "run.sh: nginx did not start:" >&2
    tail -n 20 "$PREFIX/logs/error.log" >&2
    exit 1
  fi
  sleep 0.05
done
echo "run.sh: nginx did not listen on 127.0.0.1:$PORT within 10 s" >&2
exit 1
