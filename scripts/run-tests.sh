#!/usr/bin/env bash
# Runs every test suite: C++ unit and end-to-end tests (ctest, against the
# real binary on random ports), then the browser tests (node --test with
# Debian's Chromium). Exits non-zero if any suite fails.
set -uo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
status=0

echo "== C++ unit and end-to-end tests (ctest)"
(cd "$build" && ctest --output-on-failure -j2 --timeout 300) || status=1

echo "== browser tests (playwright-core + /usr/bin/chromium)"
(cd "$root/web" && QUADER_BINARY="$root/$build/quader" node --test tests/) || status=1

exit $status
