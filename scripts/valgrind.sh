#!/usr/bin/env bash
# The core and client specs under valgrind memcheck: zero errors and zero
# definite leaks, or it fails. No suppressions are needed today: the one
# third-party leak seen (libcurl's curl_version() initialising LDAP/SASL) is
# avoided by the core calling curl_version_info() instead. If a suppression
# ever becomes necessary, it goes in scripts/valgrind.supp with a comment
# saying which library owns the allocation and why it is not ours.
set -u
cd "$(dirname "$0")/.."
log=${1:-build/test-logs/valgrind-memcheck.log}
mkdir -p "$(dirname "$log")"
supp=()
[ -f scripts/valgrind.supp ] && supp=(--suppressions=scripts/valgrind.supp)
valgrind --keep-debuginfo=yes --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
  --error-exitcode=99 --num-callers=30 "${supp[@]}" \
  lua5.4 /usr/bin/busted --cpath='build/?.so' -o TAP spec/00_core spec/10_client spec/20_http >"$log" 2>&1
rc=$?
grep -E "ERROR SUMMARY|definitely lost:" "$log"
ok=$(grep -c '^ok ' "$log" || true)
nok=$(grep -c '^not ok ' "$log" || true)
echo "valgrind: $ok specs passed, $nok failed, exit $rc"
[ "$rc" -eq 0 ]
