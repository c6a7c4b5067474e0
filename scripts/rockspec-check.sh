#!/usr/bin/env bash
# Builds and installs the dev rockspec with `luarocks make` into a temporary
# tree, then loads the installed module from another folder and checks that
# its version is CMake's project(VERSION).
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
want=$(sed -n 's/^project(aliyun_ecs VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
luarocks --lua-version 5.4 --tree "$tree" make --deps-mode=none rockspec/aliyun-ecs-dev-1.rockspec
cd /
got=$(LUA_PATH="$tree/share/lua/5.4/?.lua;$tree/share/lua/5.4/?/init.lua;;" \
  LUA_CPATH="$tree/lib/lua/5.4/?.so;;" lua5.4 -e 'print(require"ecs"._VERSION)')
echo "installed ecs._VERSION=$got, CMake project(VERSION)=$want"
[ "$got" = "$want" ]
