#!/usr/bin/env bash
# Tuner quality and suggest latency, Quader's native tuners beside Optuna 3.1
# (Debian's python3-optuna), one run: median best value over SEEDS seeds of
# TRIALS trials on Branin, Hartmann6, 4-D Rosenbrock and a mixed
# categorical+continuous function (all minimized; lower is better), and the
# time to suggest with 1,000 finished trials.
#
#   bench/hpo_quality.sh [BUILD_DIR=build] [TRIALS=100] [SEEDS=20]
set -euo pipefail
build=${1:-build}
trials=${2:-100}
seeds=${3:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$build/bench/hpo_quality_bench"
[[ -x $bin ]] || { echo "missing $bin: build first (make build)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "# tuner quality: median best over $seeds seeds x $trials trials (minimize; lower is better)"
tuners=TPE,Random,Anneal,Evolution
for extra in GPTuner SMAC MetisTuner; do
  if "$bin" 1 1 "$extra" >/dev/null 2>&1; then tuners="$tuners,$extra"; fi
done
"$bin" "$trials" "$seeds" "$tuners" >"$tmp/quader.tsv"
/usr/bin/python3 "$root/bench/hpo_optuna.py" "$trials" "$seeds" >"$tmp/optuna.tsv"

/usr/bin/python3 - "$tmp/quader.tsv" "$tmp/optuna.tsv" <<'PY'
import sys, collections
rows = collections.defaultdict(dict)
lat = {}
for path in sys.argv[1:]:
    for line in open(path):
        kind, tuner, fn, value = line.rstrip("\n").split("\t")
        if kind == "quality":
            rows[fn][tuner] = float(value)
        elif kind == "latency":
            lat[tuner] = float(value)
fns = list(rows)
tuners = [t for t in ["TPE", "Optuna-TPE", "Random", "Anneal", "Evolution", "GPTuner", "SMAC", "MetisTuner"] if any(t in rows[f] for f in fns)]
print("function".ljust(13) + "".join(t.rjust(12) for t in tuners) + "   TPE<=Optuna?")
for f in fns:
    cells = "".join((("%.4g" % rows[f][t]) if t in rows[f] else "-").rjust(12) for t in tuners)
    ok = "yes" if rows[f].get("TPE", 1e300) <= rows[f].get("Optuna-TPE", -1e300) else "no"
    print(f.ljust(13) + cells + "   " + ok)
if "TPE" in lat and "Optuna-TPE" in lat:
    print(f"suggest latency with 1,000 finished trials: quader TPE {lat['TPE']:.3f} ms, "
          f"Optuna TPE {lat['Optuna-TPE']:.1f} ms, ratio 1/{lat['Optuna-TPE'] / max(lat['TPE'], 1e-9):.0f} (goal <= 1/50)")
PY
