#!/bin/sh
# run.sh SECONDS NAME...: runs each harness build/fuzz/bin/NAME in turn
# (one process, one core) for SECONDS, from its committed corpus
# tests/fuzz/corpus/NAME (read only) and build/fuzz/corpus/NAME (where
# new inputs go). A crash or broken invariant is written to
# build/fuzz/crashes/NAME-*, its report kept in build/fuzz/NAME.log, and
# makes the run fail. One line per harness: executions, corpus, result.
set -u
secs=$1
shift
fail=0
# the harnesses chdir to a scratch home: paths given to them are absolute
top=$(pwd)
mkdir -p build/fuzz/crashes build/fuzz/tmp
# the harnesses' scratch homes: whatever an abort leaves is removed below
TMPDIR="$top/build/fuzz/tmp"
export TMPDIR
for n in "$@"; do
  mkdir -p "build/fuzz/corpus/$n"
  log="build/fuzz/$n.log"
  "build/fuzz/bin/$n" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$top/build/fuzz/crashes/$n-" ${FUZZ_FLAGS:-} \
    "$top/build/fuzz/corpus/$n" "$top/tests/fuzz/corpus/$n" > "$log" 2>&1
  rc=$?
  rm -rf "$TMPDIR"/postern-fuzz-*
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  units=$(ls "build/fuzz/corpus/$n" | wc -l)
  if [ "$rc" = 0 ]; then
    echo "fuzz: $n: ${execs:-?} executions in ${secs} s, $units new inputs, no crash"
  else
    fail=1
    echo "fuzz: $n: FAILED (exit $rc) after ${execs:-?} executions; report in $log:"
    grep -E 'ERROR|invariant broken|SUMMARY|Test unit written|runtime error' "$log" | head -n 8
  fi
done
exit $fail
