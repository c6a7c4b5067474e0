#!/usr/bin/env bash
# Static checks of the C core: clang-tidy with the checks in .clang-tidy
# (warnings are errors) and cppcheck. Exits non-zero on any finding.
set -u
cd "$(dirname "$0")/.."
rc=0
echo "clang-tidy:"
if ! clang-tidy --quiet src/*.c -- -Isrc -I/usr/include/lua5.4 -I/usr/include/x86_64-linux-gnu 2>&1 |
  grep -v "warnings generated" | tee /dev/stderr | grep -q "error:"; then echo "  clean"; else rc=1; fi
echo "cppcheck:"
if cppcheck --enable=warning,performance,portability --std=c99 --inline-suppr --quiet --error-exitcode=1 \
  -I src src/*.c; then echo "  clean"; else rc=1; fi
exit $rc
