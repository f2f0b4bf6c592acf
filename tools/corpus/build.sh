#!/bin/sh
# Builds bandmate's default training corpus from Debian's mma package (see docs/corpus.md).
# usage: tools/corpus/build.sh [OUTDIR [SONGS [SEED [JOBS]]]]
#   OUTDIR  where the corpus goes (default: corpus); it is replaced
#   SONGS   how many songs to plan (default 5000)
#   SEED    the seed: the same seed gives the same corpus (default 1)
#   JOBS    MMA processes at once (default: the number of cores)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-corpus}
songs=${2:-5000}
seed=${3:-1}
jobs=${4:-$(nproc 2>/dev/null || echo 2)}

for tool in lua5.4 mma; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "corpus: $tool is missing; run 'make deps' (as root) first" >&2
    exit 1
  fi
done
case "$songs$seed$jobs" in
  *[!0-9]*) echo "corpus: SONGS, SEED and JOBS must be whole numbers" >&2; exit 2 ;;
esac

now() { date +%s; }
t0=$(now)

# A fresh corpus every time: nothing from an earlier build can leak into this one.
case "$out" in
  ""|/) echo "corpus: refusing to use '$out' as the output folder" >&2; exit 2 ;;
esac
rm -rf "$out"
mkdir -p "$out/work"
out=$(cd "$out" && pwd)

echo "corpus: planning $songs songs (seed $seed)" >&2
lua5.4 "$here/plan.lua" "$out" "$songs" "$seed"
t1=$(now)

echo "corpus: rendering with mma, $jobs at a time" >&2
"$here/render.sh" "$out" "$jobs"
t2=$(now)

echo "corpus: checking songs against their charts" >&2
# Every planned song (MMA renderings and converted tunes), shared round-robin among the checkers.
i=0
pids=""
while [ "$i" -lt "$jobs" ]; do
  awk -v n="$jobs" -v k="$i" '(NR - 1) % n == k' "$out/work/songs.txt" > "$out/work/check.$i"
  lua5.4 "$here/report.lua" scan "$out" "$out/work/check.$i" "$out/work/stats.$i" &
  pids="$pids $!"
  i=$((i + 1))
done
for p in $pids; do wait "$p"; done
t3=$(now)

# CPU seconds of everything the build ran (user + system): unlike the wall time it does not
# depend on what else the machine is doing.
times > "$out/work/times.txt"
cpu=$(tail -n 1 "$out/work/times.txt" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] } printf "%d", t }')
CORPUS_JOBS=$jobs CORPUS_CPU=$cpu lua5.4 "$here/report.lua" summary "$out" $((t1 - t0)) $((t2 - t1)) $((t3 - t2)) $((t3 - t0))
rm -f "$out"/work/check.*
echo "corpus: done in $(( $(now) - t0 )) s; see $out/REPORT.txt" >&2
