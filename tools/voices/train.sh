#!/bin/sh
# Trains the timbre decoder on the voice data set and places the shipped voices with its encoder
# (docs/voices.md). make voices runs it after make voices-data.
# Usage: tools/voices/train.sh BANDMATE DATADIR OUTDIR     (OUTDIR: voices/)
# The log of the run, with every command, goes to OUTDIR/train.log. An interrupted training
# resumes from its checkpoint (build/voices/decoder-ckpt.bmnn) when run again. With
# VOICES_PLACE_ONLY=1 the decoder in OUTDIR is kept and only the voices are placed again.
set -eu

bin=$1
data=$2
out=$3
epochs=${VOICES_EPOCHS:-60}
ckdir=build/voices
mkdir -p "$out" "$ckdir"
log="$out/train.log"

[ -d "$data/features" ] || { echo "voices: $data/features is missing; run 'make voices-data' first." >&2; exit 1; }
start=$(date +%s)
hash=$(cat "$data"/features/*.bmvf | sha256sum | cut -d' ' -f1)

# The shipped voices: name and the data-set instrument each is placed from (the last five are the
# voices the example patches name, placed from the nearest instrument the data set has).
voices="strings:048-string-ensemble-1 flute:073-flute trumpet:056-trumpet clarinet:071-clarinet
epiano:004-electric-piano-1 bass:033-electric-bass-finger organ:020-reed-organ choir:052-choir-aahs
cello:042-cello sax:065-alto-sax oboe:068-oboe guitar:024-acoustic-guitar-nylon horn:060-french-horn
viola:041-viola upright:032-acoustic-bass picked:033-electric-bass-finger rhodes:004-electric-piano-1
kalimba:011-vibraphone glass:089-pad-2-warm"

train="$bin voice train-model --data $data/features --out $out/decoder.bmnn --checkpoint $ckdir/decoder-ckpt.bmnn --epochs $epochs --data-sha256 $hash"
placeonly=0
if [ "${VOICES_PLACE_ONLY:-0}" = 1 ] && [ -f "$out/decoder.bmnn" ] && [ -f "$log" ]; then
  sed -i '/^== placing the voices/,$d' "$log"
  placeonly=1
else
  {
    echo "bandmate voices, trained $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m), $(nproc) cores"
    echo "data: $data/features, sha256 of the feature files in name order: $hash"
    echo "\$ $train"
  } > "$log"
  $train 2>&1 | tee -a "$log"
  rm -f "$ckdir/decoder-ckpt.bmnn"
fi
trained=$(date +%s)
echo "== placing the voices ($(date -u +%Y-%m-%dT%H:%M:%SZ))" >> "$log"
for v in $voices; do
  name=${v%%:*}
  file=${v#*:}
  place="$bin voice place $data/features/$file.bmvf --name $name --out $out"
  echo "\$ $place" >> "$log"
  $place 2>&1 | tee -a "$log"
done
end=$(date +%s)
if [ $placeonly = 1 ]; then
  echo "placing the voices took $((end - trained)) s" | tee -a "$log"
else
  echo "training took $((trained - start)) s, placing the voices $((end - trained)) s" | tee -a "$log"
fi
