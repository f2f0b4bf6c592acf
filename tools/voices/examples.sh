#!/bin/sh
# Renders the listening examples of the shipped voices (docs/voices.md) into OUTDIR as Ogg Vorbis:
# one phrase per voice (a rising line, then a held chord), a morph and an XY-pad sweep, and the
# FluidR3 GM rendering of the same phrase for a few voices to compare with.
# Usage: tools/voices/examples.sh BANDMATE OUTDIR
set -eu
bin=$1
out=$2
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# name, starting pitch, GM program of the instrument it was placed from
for v in strings:60:48 flute:72:73 trumpet:60:56 clarinet:60:71 epiano:60:4 bass:36:33 organ:60:20 \
         choir:60:52 cello:48:42 sax:60:65 oboe:67:68 guitar:52:24 horn:55:60 viola:60:41; do
  name=${v%%:*}; rest=${v#*:}; pitch=${rest%%:*}; prog=${rest#*:}
  "$bin" voice render "$name" --pitch "$pitch" --out "$out/$name.ogg" --write-mid "$tmp/$name.mid" --program "$prog"
done
"$bin" voice render strings,flute@0 --sweep --pitch 60 --out "$out/morph-strings-to-flute.ogg"
"$bin" voice render choir,trumpet,organ,clarinet@0,0 --sweep --pitch 60 --out "$out/xy-choir-trumpet-organ-clarinet.ogg"
sf2=/usr/share/sounds/sf2/FluidR3_GM.sf2
if command -v fluidsynth >/dev/null && command -v sox >/dev/null && [ -r "$sf2" ]; then
  for name in strings trumpet bass viola; do
    fluidsynth -ni -q -R 0 -C 0 -g 1.0 -r 48000 -F "$tmp/$name.wav" "$sf2" "$tmp/$name.mid" >/dev/null 2>&1
    sox "$tmp/$name.wav" -C 1 "$out/fluidsynth-$name.ogg" remix 1 norm -1 2>/dev/null
  done
fi
du -ch "$out"/*.ogg | tail -1
