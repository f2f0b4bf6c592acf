#!/bin/sh
# Measures the voice data set (docs/voices-data.md): per instrument, the multi-scale spectral
# distance of the resynthesised held-out notes to their originals, and of the average-spectrum
# baseline, with the f0 and loudness errors of both re-analysed; one instrument per core.
# Usage: tools/voices/eval.sh BANDMATE OUTDIR [MAX_NOTES_PER_INSTRUMENT]  -> OUTDIR/EVAL.txt
set -eu
bin=$1
out=$2
max=${3:-0}
jobs=$(nproc 2>/dev/null || echo 2)
ls "$out"/features/*.bmvf >/dev/null 2>&1 || { echo "voices eval: no feature files in $out/features; run 'make voices-data'." >&2; exit 1; }
mkdir -p "$out/work/eval"
rm -f "$out"/work/eval/*.txt
start=$(date +%s)
ls "$out"/features/*.bmvf | xargs -P "$jobs" -I{} sh -c \
  '"$0" voice data-eval --max-notes "$1" "{}" > "$2/work/eval/$(basename "{}" .bmvf).txt" || exit 255' \
  "$bin" "$max" "$out"
end=$(date +%s)
{
  head -n 1 "$(ls "$out"/work/eval/*.txt | head -n 1)"
  for f in "$out"/work/eval/*.txt; do tail -n +2 "$f"; done | grep ' inst '
  for f in "$out"/work/eval/*.txt; do tail -n +2 "$f"; done | grep -v ' inst '
  echo "(measured in $((end - start)) s; means over instruments:)"
  for f in "$out"/work/eval/*.txt; do tail -n +2 "$f"; done | awk '
    { split($0, a, "|"); n = split(a[2], r, " "); split(a[3], b, " ");
      grp = ($0 ~ / inst /) ? "held-out instruments" : "held-out pitches+velocities";
      c[grp]++; rs[grp] += r[1]; bs[grp] += b[1]; }
    END { for (g in c) printf "%-28s %2d instruments: resynthesis %.2f dB, baseline %.2f dB\n", g, c[g], rs[g] / c[g], bs[g] / c[g]; }'
} > "$out/EVAL.txt"
cat "$out/EVAL.txt"
