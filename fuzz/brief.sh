#!/usr/bin/env bash
# Runs one libFuzzer target of the fuzz build for a few seconds (ctest's
# fuzz_brief_<target>): brief.sh TARGET BUILD_FUZZ_DIR [SECONDS].
# Without a fuzz build (make fuzz) it says so and exits 77 (ctest: skipped);
# the corpus replay (fuzz_replay_<target>) runs either way.
set -uo pipefail
target=$1
build=$2
seconds=${3:-${FUZZ_BRIEF_SECONDS:-5}}
here=$(cd "$(dirname "$0")" && pwd)
bin=$build/fuzz/fuzz_$target
if [[ ! -x $bin ]]; then
  echo "skip: no fuzz build ($bin is missing); 'make fuzz' builds it with clang, libFuzzer, ASan and UBSan"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# New inputs go to $work; the seeds are read only. Crashes land in $work too,
# and are shown with the sanitizer's report.
source "$here/options.sh"
# Exit codes of our own: libFuzzer's default for a crash is 77, ctest's "skipped".
"$bin" "$work" "$here/corpus/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
  -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$work/" $(fuzz_options "$target") 2>&1 | tail -n 25
status=${PIPESTATUS[0]}
found=0
for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
  [[ -f $f ]] || continue
  [[ $found == 0 ]] && echo "fuzz_$target found a failing input:"
  found=1
  xxd "$f" | head -20
done
[[ $found == 1 ]] && exit 1
[[ $status == 0 ]] || exit 1
exit 0
