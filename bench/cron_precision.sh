#!/usr/bin/env bash
# Benchmark: cron precision. PIPELINES pipelines, each scheduled every minute
# ("* * * * *", UTC) with one no-op task and max_active_runs 1, left to fire
# for MINUTES minute boundaries; then the fire-time error of every schedule
# record: its `fire_delay_ms`, the record's creation minus its fire time.
#
#   bench/cron_precision.sh [build/quader] [PIPELINES=50] [MINUTES=2]
#
# Prints p50, p99, max and the count (goal: p99 < 100 ms). There is no peer:
# the figure is an absolute error against the wall clock, not a ratio.
# Environment: KEEP=1 keeps the temporary directory (server log, records).
set -euo pipefail
bin=${1:-build/quader}
pipelines=${2:-50}
minutes=${3:-2}
PY=/usr/bin/python3
[[ -x $bin ]] || { echo "cron_precision: no quader binary at $bin (build it: make build)" >&2; exit 1; }
bin=$(realpath "$bin")
[[ $pipelines =~ ^[1-9][0-9]*$ && $minutes =~ ^[1-9][0-9]*$ ]] || { echo "cron_precision: PIPELINES and MINUTES are positive integers" >&2; exit 1; }
command -v curl >/dev/null || { echo "cron_precision: curl is missing" >&2; exit 1; }
[[ -x $PY ]] || { echo "cron_precision: $PY is missing" >&2; exit 1; }
password=bench-admin-pw
work=$(mktemp -d /tmp/quader-bench-cron-XXXXXX)
data=$work/data
qpid='' api='' token=''

cleanup() {
  local rc=$?
  if [[ -n $qpid ]] && kill -0 "$qpid" 2>/dev/null; then
    kill "$qpid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$qpid" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  if [[ -n ${KEEP:-} ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  echo "cron_precision: $*" >&2
  if [[ -f $work/server.log ]]; then
    echo "--- last lines of the server log ($work/server.log; KEEP=1 keeps it)" >&2
    tail -n 30 "$work/server.log" >&2
  fi
  exit 1
}

# call METHOD PATH OUTFILE [curl args...]: fails with the status and body unless 2xx.
call() {
  local method=$1 path=$2 out=$3 code auth=()
  shift 3
  [[ -n $token ]] && auth=(-H "Authorization: Bearer $token")
  code=$(curl -sS -o "$out" -w '%{http_code}' -X "$method" "$api$path" "${auth[@]}" "$@") ||
    die "$method $path: curl failed"
  [[ $code == 2?? ]] || die "$method $path: HTTP $code: $(head -c 2000 "$out")"
}

jget() { "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# --- the documents
"$PY" - "$pipelines" "$work/cron.yaml" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as y:
    y.write("kind: JobTemplate\nname: noop\nimage: quader/base:bookworm\n"
            "description: does nothing (cron_precision benchmark)\ncommand: [\"true\"]\n")
    for i in range(n):
        y.write(f"---\nkind: Pipeline\nname: bench-cron-{i:04d}\nmax_active_runs: 1\n"
                "schedule: {cron: \"* * * * *\", timezone: UTC}\n"
                "tasks:\n  - name: noop\n    template: noop\n")
PY

# --- the server
QUADER_ADMIN_PASSWORD=$password "$bin" server --data "$data" --listen 127.0.0.1:0 --gateway-listen 127.0.0.1:0 --runtime process \
  >"$work/server.log" 2>&1 &
qpid=$!
for _ in $(seq 300); do
  [[ -f $data/server.json ]] && break
  kill -0 "$qpid" 2>/dev/null || die "the server exited at start"
  sleep 0.1
done
[[ -f $data/server.json ]] || die "no $data/server.json after 30 s"
api=$(jget "$data/server.json" 'j["api"]')
spid=$(jget "$data/server.json" 'j["pid"]')
call POST /api/v1/login "$work/login.json" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$password\"}"
token=$(jget "$work/login.json" 'j["token"]')
[[ -n $token ]] || die "login returned no token: $(cat "$work/login.json")"
call POST /api/v1/apply "$work/apply.json" -H 'Content-Type: application/yaml' --data-binary @"$work/cron.yaml"
applied=$(date +%s)

# Wait for MINUTES minute boundaries after the apply, plus a few seconds for the
# runs they launch to be recorded.
first=$(((applied / 60 + 1) * 60))
last=$((first + (minutes - 1) * 60))
until_s=$((last + 5))
echo "# cron precision: $pipelines pipelines on \"* * * * *\" (UTC), one no-op task each, max_active_runs 1, $(nproc) cores"
echo "# fire times $(date -u -d "@$first" +%H:%M:%S) to $(date -u -d "@$last" +%H:%M:%S) UTC; waiting $((until_s - $(date +%s))) s (no peer: an absolute error)"
while (($(date +%s) < until_s)); do
  kill -0 "$qpid" 2>/dev/null || die "the server exited while waiting"
  sleep 1
done

call GET "/api/v1/schedules?limit=10000" "$work/schedules.json"
call GET "/api/v1/runs?limit=1000" "$work/runs.json"
rss_kb=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$spid/status")
"$PY" - "$work/schedules.json" "$work/runs.json" "$pipelines" "$first" "$last" "$rss_kb" <<'PY' || die "see above"
import collections, json, math, sys
from datetime import datetime
items = json.load(open(sys.argv[1]))["items"]
runs_by_id = {r["id"]: r for r in json.load(open(sys.argv[2]))["items"]}
pipelines, first, last, rss_kb = (int(x) for x in sys.argv[3:7])

def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()

def pct(xs, p):
    return xs[max(0, math.ceil(p / 100 * len(xs)) - 1)]

want = pipelines * ((last - first) // 60 + 1)
inside = [r for r in items if first <= ts(r["execution_date"]) <= last]
outside = len(items) - len(inside)
states = collections.Counter(r["state"] for r in inside)
delays = sorted(r["fire_delay_ms"] for r in inside)
if not delays:
    print(f"no schedule record between the fire times (of {len(items)} records)", file=sys.stderr)
    sys.exit(1)
# A cross-check the server does not compute: fire time -> the launched run's created_at
# (GET /api/v1/runs returns at most the newest 1,000 runs).
launch = sorted(round((ts(runs_by_id[r["run_id"]]["created_at"]) - ts(r["execution_date"])) * 1000)
                for r in inside if r.get("run_id") in runs_by_id)

def row(name, xs):
    print(f"{name:<38} {len(xs):>7} {pct(xs, 50):>7} {pct(xs, 99):>7} {xs[-1]:>7} {xs[0]:>7}")

print(f"{'ms after the fire time':<38} {'count':>7} {'p50':>7} {'p99':>7} {'max':>7} {'min':>7}")
row("record fire_delay_ms (server's figure)", delays)
if launch:
    row("run created_at (cross-check)", launch)
print(f"fire-time error p99: {pct(delays, 99)} ms (goal < 100 ms)")
print("record states: " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
runs = collections.Counter(r["run_state"] for r in inside if r.get("run_id") is not None)
if runs:
    print("their runs: " + ", ".join(f"{k} {v}" for k, v in sorted(runs.items(), key=lambda kv: str(kv[0]))))
print(f"server resident memory at the end: {rss_kb / 1024:.1f} MB")
print("load average at the end: " + " ".join(open("/proc/loadavg").read().split()[:3]))
problems = []
if len(delays) != want:
    problems.append(f"expected {want} records ({pipelines} pipelines x {want // pipelines} fire times), got {len(delays)}")
if outside:
    problems.append(f"{outside} records outside the fire times waited for")
for p in problems:
    print("warning: " + p)
PY
