#!/bin/sh
# Renders the planned songs with MMA, JOBS processes at a time.
# usage: tools/corpus/render.sh OUTDIR JOBS
# Reads OUTDIR/work/jobs.txt (MMA sources relative to OUTDIR); writes each song's .mid beside its
# source and one line per song that MMA rejected to OUTDIR/work/render-failures.tsv
# (path <TAB> MMA's first error line).
set -eu

out=$1
jobs=${2:-2}
cd "$out"
rm -f work/render-failures.tsv work/render-failures.*.tsv
: > work/render-failures.tsv

# Split the job list round-robin into one list per worker so that each runs a plain loop.
i=0
while [ "$i" -lt "$jobs" ]; do
  awk -v n="$jobs" -v k="$i" '(NR - 1) % n == k' work/jobs.txt > "work/jobs.$i"
  i=$((i + 1))
done

worker() {
  list=$1
  fails=$2
  : > "$fails"
  while IFS= read -r src; do
    mid=${src%.mma}.mid
    rm -f "$mid"
    if ! msg=$(mma -w "$src" 2>&1) || [ ! -s "$mid" ]; then
      err=$(printf '%s\n' "$msg" | grep -m1 -i 'error' | tr '\t' ' ' || true)
      [ -n "$err" ] || err="mma wrote no MIDI file"
      printf '%s\t%s\n' "${src%.mma}" "$err" >> "$fails"
      rm -f "$mid"
    fi
  done < "$list"
}

i=0
pids=""
while [ "$i" -lt "$jobs" ]; do
  worker "work/jobs.$i" "work/render-failures.$i.tsv" &
  pids="$pids $!"
  i=$((i + 1))
done
status=0
for p in $pids; do wait "$p" || status=1; done
cat work/render-failures.*.tsv | LC_ALL=C sort > work/render-failures.tsv
rm -f work/render-failures.*.tsv work/jobs.[0-9]*
exit $status
