#!/bin/sh
# sensors.sh: a stand-in for an installation's sensors. Five times a second it sends a light level
# (a two-minute "day" with a little flicker) and, now and then, somebody walking by, to bandmate
# over OSC with oscsend (Debian package liblo-tools).
#
#   examples/installation/sensors.sh [HOST] [PORT]     (default 127.0.0.1 57140)
#   COUNT=50 examples/installation/sensors.sh           (stop after 50 readings)
#
# Real sensors would send the same two addresses: /sensor/light f (0..1) and /sensor/motion f.
set -eu
HOST=${1:-127.0.0.1}
PORT=${2:-57140}
COUNT=${COUNT:-0}
PERIOD=${PERIOD:-0.2}

command -v oscsend >/dev/null || { echo "sensors.sh: oscsend is missing; install liblo-tools (make deps)." >&2; exit 1; }

t=0
while [ "$COUNT" -eq 0 ] || [ "$t" -lt "$COUNT" ]; do
  light=$(awk -v t="$t" 'BEGIN { srand(t); v = 0.5 + 0.45 * sin(t / 95.5) + (rand() - 0.5) * 0.06;
                                 if (v < 0) v = 0; if (v > 1) v = 1; printf "%.3f", v }')
  oscsend "$HOST" "$PORT" /sensor/light f "$light"
  # about one passer-by every ten seconds
  if [ "$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')" -lt 5 ]; then
    oscsend "$HOST" "$PORT" /sensor/motion f 1
  fi
  t=$((t + 1))
  sleep "$PERIOD"
done
