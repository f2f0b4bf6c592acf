#!/bin/sh
# make demo: plays the example performances through bandmate offline in each of its modes (no
# sound card, no JACK server needed), the band on its neural voices (examples/band.lua), and prints
# where each session is and what happened in it. The modes come from the binary itself
# ('bandmate eval together --modes'), so a new mode is demonstrated without touching this script.
set -eu
bin=${1:-build/bandmate}
out=demo-out
patch=examples/band.lua
mkdir -p "$out"
modes=$("$bin" eval together --modes)
echo "bandmate demo: the example performances through the band, in each mode ($(echo $modes | tr ' ' ','))"
for mode in $modes; do
  for ex in melody.mid chords.mid sax-line.wav; do
    name=${ex%.*}-$mode
    case $ex in
      *.wav) input="--in-wav examples/$ex" ;;
      *)     input="--in examples/$ex" ;;
    esac
    echo
    echo "== examples/$ex, mode $mode"
    # shellcheck disable=SC2086
    "$bin" render $input --patch "$patch" --mode "$mode" --seed 1 \
      --out-mid "$out/$name.mid" --out-wav "$out/$name.wav" --out-png "$out/$name.png"
  done
done
echo
echo "Listen to $out/*.wav; open $out/*.mid in any sequencer (tracks: human, bass, drums, comping, lead);"
echo "$out/*.png are piano rolls (the performer in black, each band part in its own colour)."
