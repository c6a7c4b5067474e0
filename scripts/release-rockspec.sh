#!/usr/bin/env bash
# Stamps a release rockspec from the dev rockspec and the one version source,
# CMake's project(VERSION): rockspec/aliyun-ecs-<version>-1.rockspec, whose
# source points at the tag v<version>. Prints the file name.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^project(aliyun_ecs VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[ -n "$version" ] || { echo "no project(VERSION) in CMakeLists.txt" >&2; exit 1; }
url=${1:-}
[ -n "$url" ] || { echo "usage: $0 <git URL of the release repository>" >&2; exit 2; }
out=rockspec/aliyun-ecs-$version-1.rockspec
sed -e "s/^version = \"dev-1\"/version = \"$version-1\"/" \
    -e "s|^  url = \"git+file://.\".*|  url = \"$url\",\n  tag = \"v$version\",|" \
    rockspec/aliyun-ecs-dev-1.rockspec > "$out"
grep -q "version = \"$version-1\"" "$out" && grep -q "tag = \"v$version\"" "$out" || {
  echo "stamping failed" >&2; rm -f "$out"; exit 1; }
echo "$out"
