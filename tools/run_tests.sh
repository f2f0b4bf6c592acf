#!/bin/sh
# Builds and runs the whole suite twice: a plain -O2 build and an ASan+UBSan build.
# The last line is the total: "N passed, N failed".
set -u
jobs=$(nproc 2>/dev/null || echo 2)
total_pass=0; total_fail=0
for variant in plain asan; do
  if [ $variant = plain ]; then args="BUILD=build"; dir=build; else args="BUILD=build/asan SAN=1"; dir=build/asan; fi
  echo "== building the $variant suite"
  mkdir -p "$dir"
  if ! make --no-print-directory -j"$jobs" $args test-build >"$dir/build.log" 2>&1; then
    tail -n 40 "$dir/build.log"
    echo "the $variant build failed"
    total_fail=$((total_fail + 1))
    continue
  fi
  echo "== running the $variant suite"
  out=$(mktemp)
  BM_BINDIR=$dir ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    LSAN_OPTIONS=suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0 \
    "$dir/tests/bm_tests" -j 3 "$@" | tee "$out"
  last=$(tail -n 1 "$out")
  rm -f "$out"
  p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
  f=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
  if [ -z "$p" ]; then echo "the $variant suite did not finish"; total_fail=$((total_fail + 1)); continue; fi
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
