#!/usr/bin/env bash
# After the busted runs: grep every log and output file the suite wrote for
# the canary secrets that spec/95_hardening/secrets_spec.lua used (it appends
# them, one a line, to build/test-logs/secret-canaries or $ECS_CANARY_FILE).
# Each canary is also searched percent-encoded and Base64-encoded. Exit 1
# (naming the files, never printing a canary) when any occurs; exit 1 too
# when the canary file is missing or empty (the secrets spec did not run).
#   scripts/secrets-check.sh [dir-or-file ...]   (default: build/test-logs,
#   build/*.log, the spec temp dirs /tmp/ecs-spec.* left behind)
set -u
cd "$(dirname "$0")/.." || exit 1
CANARIES=${ECS_CANARY_FILE:-build/test-logs/secret-canaries}

if [ ! -s "$CANARIES" ]; then
  echo "secrets-check: no canaries in $CANARIES (did spec/95_hardening/secrets_spec.lua run?)"
  exit 1
fi

if [ $# -gt 0 ]; then
  TARGETS=("$@")
else
  TARGETS=(build/test-logs)
  for f in build/*.log /tmp/ecs-spec.*; do [ -e "$f" ] && TARGETS+=("$f"); done
fi

# every form a canary could take in a log: raw and Base64 (the three
# alignments of a Base64 encoding of a longer text that contains it)
PATTERNS=$(mktemp)
trap 'rm -f "$PATTERNS"' EXIT
sort -u "$CANARIES" | while IFS= read -r c; do
  [ -n "$c" ] || continue
  printf '%s\n' "$c" # (the canaries are unreserved characters: percent-encoding leaves them as they are)
  for pre in "" "x" "xx"; do
    b=$(printf '%s%s' "$pre" "$c" | base64 -w0)
    # drop the characters that depend on the neighbouring bytes
    case ${#pre} in
      0) printf '%s\n' "${b:0:$(( (${#c} / 3) * 4 ))}" ;;
      1) printf '%s\n' "${b:4:$(( ((${#c} - 2) / 3) * 4 ))}" ;;
      2) printf '%s\n' "${b:4:$(( ((${#c} - 1) / 3) * 4 ))}" ;;
    esac
  done
done | awk 'length($0) >= 12' >"$PATTERNS"

found=$(grep -rlaF -f "$PATTERNS" --exclude="$(basename "$CANARIES")" "${TARGETS[@]}" 2>/dev/null)
n=$(sort -u "$CANARIES" | grep -c .)
if [ -n "$found" ]; then
  echo "secrets-check: a canary secret occurs in:"
  printf '%s\n' "$found" | sed 's/^/  /'
  exit 1
fi
echo "secrets-check: $n canary secrets, none in ${TARGETS[*]}"
