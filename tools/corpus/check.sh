#!/bin/sh
# Quick check of the corpus build: builds a tiny corpus in a temporary folder, verifies its
# files, charts, MIDI, splits and report, builds it again with the same seed and checks that
# both builds are identical. Prints "corpus: N passed, M failed"; exits non-zero on failure.
# usage: tools/corpus/check.sh [SONGS]   (default 40; about half a minute on two cores)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
songs=${1:-40}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bandmate-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

if ! "$here/build.sh" "$tmp/a" "$songs" 7 >"$tmp/log.a" 2>&1; then
  cat "$tmp/log.a" >&2
  echo "corpus: 0 passed, 1 failed (the build failed)"
  exit 1
fi
lua5.4 "$here/verify.lua" "$tmp/a" > "$tmp/verify.out" || true
grep -v '^corpus: ' "$tmp/verify.out" || true
passed=$(sed -n 's/^corpus: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$tmp/verify.out")
failed=$(sed -n 's/^corpus: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$tmp/verify.out")
passed=${passed:-0}
failed=${failed:-1}

# Reproducible: the same seed gives the same files (the report's timings may differ).
"$here/build.sh" "$tmp/b" "$songs" 7 >"$tmp/log.b" 2>&1 || true
sums() {
  (cd "$1" && find . -type f \( -name '*.mid' -o -name '*.chart' -o -name '*.mma' \
    -o -name MANIFEST.tsv -o -name REJECTED.tsv \) | LC_ALL=C sort | xargs md5sum)
}
if [ "$(sums "$tmp/a")" = "$(sums "$tmp/b")" ]; then
  passed=$((passed + 1))
else
  echo "FAIL two builds with the same seed differ"
  failed=$((failed + 1))
fi
echo "corpus: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
