-- The version of the code is CMake's project(VERSION); it is compiled into
-- ecs.core._VERSION (and ecs._VERSION). Release rockspecs are stamped from it
-- by scripts/release-rockspec.sh.
rockspec_format = "3.0"
package = "aliyun-ecs"
version = "dev-1"
source = {
  url = "git+file://.", -- `luarocks make` builds the checked-out tree
}
description = {
  summary = "Run commands on Alibaba Cloud ECS instances through Cloud Assistant, from Lua",
  detailed = [[
A Lua module with a C core (OpenSSL, libcurl) for Cloud Assistant: InvokeCommand,
RunCommand, DescribeInvocationResults and the rest of the family, with V3/V2
signing, retries with exactly-once invocation, fleet fan-out, schedule helpers,
an OpenResty transport and a local emulator.
  ]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.1, < 5.5",
  "lua-cjson",
}
-- libcurl and OpenSSL are found by CMake (Debian keeps curl.h in a
-- multiarch folder that luarocks' header search does not look in)
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    ECS_DEV = "OFF",
    ECS_TESTS = "OFF",
    LUA_INCDIR = "$(LUA_INCDIR)",
    LUADIR = "$(LUADIR)",
    LIBDIR = "$(LIBDIR)",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
  },
  copy_directories = { "docs", "examples" },
}
