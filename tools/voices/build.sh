#!/bin/sh
# Builds the voice data set (docs/voices-data.md): single notes of the General MIDI instruments in
# tools/voices/instruments.tsv, rendered from the FluidR3 GM soundfont with fluidsynth and analysed
# into one feature file per instrument, one instrument per core at a time.
# Usage: tools/voices/build.sh BANDMATE OUTDIR     (make voices-data runs it into voicedata/)
# An instrument whose feature file is newer than the binary and the table is not rebuilt.
set -eu

bin=$1
out=$2
table=tools/voices/instruments.tsv
sf2=/usr/share/sounds/sf2/FluidR3_GM.sf2
jobs=$(nproc 2>/dev/null || echo 2)

# One instrument: MIDI plan -> fluidsynth -> slice and analyse -> feature file.
job() {
  p=$1
  name=$(awk -F '\t' -v p="$p" '$1 == p { print $5 }' "$out/work/plan")
  slug=$(printf '%03d-%s' "$p" "$name" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9\n' '-' | sed 's/--*/-/g; s/-$//')
  feat="$out/features/$slug.bmvf"
  if [ -f "$feat" ] && [ "$feat" -nt "$bin" ] && [ "$feat" -nt "$table" ]; then
    echo "voice data: $name is up to date" >&2
    return 0
  fi
  "$bin" voice data-midi "$table" "$p" "$out/work/$p.mid"
  if ! fluidsynth -ni -q -R 0 -C 0 -g 1.0 -r 48000 -O float -T wav -F "$out/work/$p.wav" "$sf2" \
       "$out/work/$p.mid" >"$out/work/$p.fluidsynth.log" 2>&1; then
    echo "voices-data: fluidsynth failed on $name (see $out/work/$p.fluidsynth.log)" >&2
    return 1
  fi
  "$bin" voice data-analyse "$table" "$p" "$out/work/$p.wav" "$feat"
  rm -f "$out/work/$p.wav"
}

# xargs runs each job by calling this script again with VOICES_JOB set.
if [ -n "${VOICES_JOB:-}" ]; then
  job "$VOICES_JOB" || exit 255 # 255 makes xargs stop
  exit 0
fi

for tool in fluidsynth sha256sum; do
  command -v "$tool" >/dev/null || { echo "voices-data: $tool is missing; run 'make deps'." >&2; exit 1; }
done
[ -r "$sf2" ] || { echo "voices-data: $sf2 is missing; run 'make deps' (package fluid-soundfont-gm)." >&2; exit 1; }

mkdir -p "$out/features" "$out/work"
start=$(date +%s)
# The longest instruments first, so that every core stays busy to the end.
"$bin" voice data-plan "$table" 2>/dev/null | sort -t "$(printf '\t')" -k3,3 -g -r > "$out/work/plan"
cut -f1 "$out/work/plan" | xargs -P "$jobs" -I{} env VOICES_JOB={} sh "$0" "$bin" "$out" ||
  { echo "voices-data: the build failed" >&2; exit 1; }
end=$(date +%s)

"$bin" voice data-report "$out"/features/*.bmvf > "$out/REPORT.txt"
{
  echo "bandmate voice data set, built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $((end - start)) s with $jobs jobs"
  echo "fluidsynth $(fluidsynth --version 2>/dev/null | sed -n 's/^FluidSynth runtime version //p')," \
       "fluid-soundfont-gm $(dpkg-query -W -f '${Version}' fluid-soundfont-gm 2>/dev/null || echo '?')"
  echo "size: $(du -sh "$out/features" | cut -f1)"
  (cd "$out/features" && sha256sum *.bmvf)
} > "$out/MANIFEST.txt"
cat "$out/REPORT.txt"
head -n 3 "$out/MANIFEST.txt"
