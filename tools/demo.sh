#!/bin/sh
# make demo: plays the example performances through bandmate offline (no sound card, no JACK
# server needed) and prints where the sessions are.
set -eu
bin=${1:-build/bandmate}
out=demo-out
mkdir -p "$out"
echo "bandmate demo: the example performances through the echo harmoniser"
for ex in melody chords; do
  echo
  echo "== examples/$ex.mid"
  "$bin" render --in "examples/$ex.mid" --out-mid "$out/$ex-echo.mid" --out-wav "$out/$ex-echo.wav" --seed 1
done
echo
echo "Listen to $out/*.wav; open $out/*.mid in any sequencer (tracks: human, bass, drums, comping, lead)."
