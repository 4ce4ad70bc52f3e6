#!/usr/bin/env bash
# Benchmark: pipeline scheduler overhead. One run of a pipeline of TASKS no-op
# tasks (`true`) laid out as a layered DAG (layers of 100; every task after
# the first layer depends on 2 tasks of the layer before), PARALLELISM at once,
# on the process runtime; side by side in the same script with ninja running
# the same DAG (`build.ninja`, one `true` edge per task, `ninja -j PARALLELISM`).
#
#   bench/pipeline_dag.sh [build/quader] [TASKS=10000] [PARALLELISM=8]
#   RUNTIME=docker bench/pipeline_dag.sh build/quader 200 8   (on Podman)
#
# Prints the wall times and two ratios: quader/ninja running `true` (the
# figure users feel; goal <= 2.0) and quader/ninja running each edge in the
# same wrapper and sandbox as a task (scheduling overhead; goal <= 1.5);
# CPU per task of the server and of the workloads, the ready->started
# latency of the tasks (p50/p99) and the server's
# memory. Environment: SHAPE=random (1 to 3 upstream tasks each, seeded),
# LAYER (100), POLL (seconds between progress polls; 2 from 2,000
# tasks up, else 0.25), STALL (seconds without progress before giving up, 300),
# KEEP=1 (keep the temporary directory: server log, run JSON, build.ninja),
# RUNTIME=docker (the server on its own Podman service, every task a container
# of localhost/quader-test:busybox running `true`; the second ninja peer runs
# each edge as `podman run --rm` of the same image).
set -euo pipefail
bin=${1:-build/quader}
tasks=${2:-10000}
par=${3:-8}
layer=${LAYER:-100}
shape=${SHAPE:-regular}
runtime=${RUNTIME:-process}
[[ $runtime == process || $runtime == docker ]] || { echo "pipeline_dag: RUNTIME is process or docker" >&2; exit 1; }
image=localhost/quader-test:busybox  # RUNTIME=docker: the tasks' image (scripts/test-images.sh)
[[ $shape == regular || $shape == random ]] || { echo "pipeline_dag: SHAPE is regular or random" >&2; exit 1; }
PY=/usr/bin/python3
[[ -x $bin ]] || { echo "pipeline_dag: no quader binary at $bin (build it: make build)" >&2; exit 1; }
bin=$(realpath "$bin")
[[ $tasks =~ ^[1-9][0-9]*$ && $par =~ ^[1-9][0-9]*$ ]] || { echo "pipeline_dag: TASKS and PARALLELISM are positive integers" >&2; exit 1; }
command -v ninja >/dev/null || { echo "pipeline_dag: ninja is missing (apt-get install ninja-build)" >&2; exit 1; }
command -v curl >/dev/null || { echo "pipeline_dag: curl is missing" >&2; exit 1; }
[[ -x $PY ]] || { echo "pipeline_dag: $PY is missing" >&2; exit 1; }
if ((tasks >= 2000)); then poll=${POLL:-2}; else poll=${POLL:-0.25}; fi
stall=${STALL:-300}
password=bench-admin-pw
work=$(mktemp -d /tmp/quader-bench-dag-XXXXXX)
data=$work/data
qpid='' api='' token='' run_id='' run_done=''

cleanup() {
  local rc=$?
  # A run still going when the script stops (error, ^C): stop it so no sandbox is left.
  if [[ -n $run_id && -z $run_done && -n $token ]]; then
    curl -s -m 5 -o /dev/null -X POST "$api/api/v1/runs/$run_id/stop" -H "Authorization: Bearer $token" -d '{}' || true
  fi
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
  echo "pipeline_dag: $*" >&2
  if [[ -f $work/server.log ]]; then
    echo "--- last lines of the server log ($work/server.log; KEEP=1 keeps it)" >&2
    tail -n 30 "$work/server.log" >&2
  fi
  exit 1
}

# call METHOD PATH OUTFILE [curl args...]: fails with the status and body unless 2xx.
call() {
  local method=$1 path=$2 out=$3 code
  shift 3
  local auth=()
  [[ -n $token ]] && auth=(-H "Authorization: Bearer $token")
  code=$(curl -sS -o "$out" -w '%{http_code}' -X "$method" "$api$path" "${auth[@]}" "$@") ||
    die "$method $path: curl failed"
  [[ $code == 2?? ]] || die "$method $path: HTTP $code: $(head -c 2000 "$out")"
}

# Field of a JSON file: jget FILE 'python expression on j'.
jget() { "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

mem_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$2/status"; }

# CPU seconds of PID: "SELF CHILDREN" (utime+stime, and of the reaped
# descendants: the workloads' wrappers, sandboxes and commands). Less skewed
# by other work on the machine than wall time.
cpu_s() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f %.3f\n", ($12 + $13) / hz, ($14 + $15) / hz }' "/proc/$1/stat"
}

# --- the documents: the pipeline and the same DAG as build.ninja
"$PY" - "$tasks" "$par" "$layer" "$work" "$shape" "$runtime" "$image" <<'PY'
import random, sys
n, par, width, work, shape = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
runtime, image = sys.argv[6], sys.argv[7]
rng = random.Random(17)
picked = {}

def deps(i):
    """Task i's upstream tasks in the previous layer: 2 chosen by a formula,
    or (SHAPE=random) 1 to 3 chosen by a seeded generator."""
    k, j = divmod(i, width)
    if k == 0:
        return []
    start = (k - 1) * width               # the previous layer is always full
    if shape == "random":
        if i not in picked:
            picked[i] = sorted(start + x for x in rng.sample(range(width), rng.randint(1, 3)))
        return picked[i]
    a, b = j % width, (j * 37 + 11) % width
    if b == a:
        b = (a + 1) % width
    return [start + a, start + b]

with open(f"{work}/dag.yaml", "w") as y:
    y.write(f"kind: JobTemplate\nname: noop\nimage: {image if runtime == 'docker' else 'quader/base:bookworm'}\n"
            "description: does nothing (pipeline_dag benchmark)\ncommand: [\"true\"]\n---\n")
    y.write(f"kind: Pipeline\nname: bench-dag\ndescription: {n} no-op tasks, layers of {width}\n"
            f"parallelism: {par}\nmax_active_runs: 1\ntasks:\n")
    for i in range(n):
        y.write(f"  - name: t{i}\n    template: noop\n")
        d = deps(i)
        if d:
            y.write("    depends_on: [" + ", ".join(f"t{x}" for x in d) + "]\n")

with open(f"{work}/build.ninja", "w") as f:
    f.write("rule noop\n  command = true\n\n")
    for i in range(n):
        f.write(f"build t{i}: noop" + "".join(f" t{x}" for x in deps(i)) + "\n")

# The same DAG with each edge run as a task is: bubblewrap recording the exit
# code (--json-status-fd) with a task's namespaces, mounts and
# environment (as src/runtime/process/sandbox.cpp lays them out; no cgroup,
# no uid change), around `true`.
env = " ".join(f"--setenv {k} v" for k in
               ["HOME", "KFJ_CREATOR", "KFJ_EXECUTION_DATE", "KFJ_NAMESPACE", "KFJ_PIPELINE_ID", "KFJ_PIPELINE_NAME",
                "KFJ_RUNNER", "KFJ_RUN_ID", "KFJ_TASK_ID", "KFJ_TASK_IMAGES", "KFJ_TASK_NAME", "KFJ_TASK_NODE_SELECTOR",
                "KFJ_TASK_PROJECT_NAME", "KFJ_TASK_RESOURCE_CPU", "KFJ_TASK_RESOURCE_GPU", "KFJ_TASK_RESOURCE_MEMORY",
                "KFJ_TASK_VOLUME_MOUNT", "LOGNAME", "NVIDIA_VISIBLE_DEVICES", "PATH", "QUADER_ATTEMPT",
                "QUADER_INPUTS", "QUADER_OUTPUTS", "USER", "USERNAME"])
sandbox = ("bwrap --setenv QUADER_WORKLOAD_MARKER quader-workload:bench --json-status-fd 3 --unshare-user --unshare-pid --unshare-ipc --unshare-uts --unshare-cgroup-try --hostname quader "
           "--symlink usr/bin /bin --ro-bind /etc /etc --symlink usr/lib /lib --symlink usr/lib32 /lib32 "
           "--symlink usr/lib64 /lib64 --ro-bind /opt /opt --symlink usr/sbin /sbin --ro-bind /usr /usr "
           "--ro-bind /sys /sys --tmpfs /sys/fs/cgroup --proc /proc --dev /dev --tmpfs /tmp --tmpfs /run "
           "--dir /var --tmpfs /var/tmp --tmpfs /home --dir /home/u "
           f"--bind {work}/out /outputs --chdir /home/u --clearenv {env} -- /usr/bin/true")
if runtime == "docker":
    # On a container engine the peer runs each edge as a container: `podman run --rm`.
    sandbox = f"podman run --rm {image} true"
with open(f"{work}/sandbox.ninja", "w") as f:
    f.write(f"rule noop\n  command = {sandbox} 3>/dev/null\n\n")
    for i in range(n):
        f.write(f"build s{i}: noop" + "".join(f" s{x}" for x in deps(i)) + "\n")
PY
mkdir -p "$work/out"
edges=$(awk '/depends_on/ {n += split($0, a, ",")} END {print n + 0}' "$work/dag.yaml")

# --- the server
QUADER_ADMIN_PASSWORD=$password "$bin" server --data "$data" --listen 127.0.0.1:0 --gateway-listen 127.0.0.1:0 --runtime "$runtime" \
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
if [[ $runtime == docker ]]; then
  # The tasks' image, in the store of the server's own Podman service.
  CONTAINERS_CONF=$data/podman/containers.conf "$(dirname "$0")/../scripts/test-images.sh" ||
    die "cannot build $image (scripts/test-images.sh)"
fi
[[ -n $token ]] || die "login returned no token: $(cat "$work/login.json")"
hwm_login_kb=$(mem_kb VmHWM "$spid")  # the password hash (libsodium, 64 MiB) peaks here

t_apply=$(date +%s.%N)
call POST /api/v1/apply "$work/apply.json" -H 'Content-Type: application/yaml' --data-binary @"$work/dag.yaml"
t_applied=$(date +%s.%N)
rss_before_kb=$(mem_kb VmRSS "$spid")

echo "# pipeline DAG ($shape): $tasks no-op tasks in layers of $layer ($edges edges), parallelism $par, $(nproc) cores"
echo "# quader: process runtime, every task in a bubblewrap sandbox with its mounts (outputs, inputs, work dir);"
echo "#         ninja: the same DAG, each edge runs 'sh -c true', then each edge in a task's sandbox"
awk -v a="$t_apply" -v b="$t_applied" 'BEGIN { printf "apply (template + pipeline): %.2f s\n", b - a }'

# --- the Quader run: poll the summarised run list (cheap), then read the whole run once.
read -r cpu_self0 cpu_kids0 < <(cpu_s "$spid")
t0=$(date +%s.%N)
call POST /api/v1/pipelines/bench-dag/run "$work/run0.json" -H 'Content-Type: application/json' -d '{}'
t_posted=$(date +%s.%N)
run_id=$(jget "$work/run0.json" 'j["id"]')
pipeline_id=$(jget "$work/run0.json" 'j["pipeline_id"]')
last_progress='' last_change=$(date +%s) rss_peak_kb=0 rss_1k_kb=0
while :; do
  call GET "/api/v1/runs?pipeline=$pipeline_id&limit=1" "$work/poll.json"
  read -r state progress < <("$PY" - "$work/poll.json" "$run_id" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))["items"]
r = next((x for x in items if x["id"] == int(sys.argv[2])), None)
if r is None:
    print("missing -")
else:
    counts = r.get("task_states", {})
    print(r["state"], ",".join(f"{k}={v}" for k, v in sorted(counts.items())) or "-")
PY
)
  r=$(mem_kb VmRSS "$spid")
  ((r > rss_peak_kb)) && rss_peak_kb=$r
  # Resident memory once 1,000 tasks have finished (for the flatness figure).
  if ((rss_1k_kb == 0)); then
    done_count=$(awk -F, '{n = 0; for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] != "pending" && kv[1] != "running" && kv[1] != "-") n += kv[2] } print n}' <<<"$progress")
    ((done_count >= 1000)) && rss_1k_kb=$r
  fi
  case $state in
    succeeded | failed | stopped) break ;;
    pending | running) ;;
    missing) die "run $run_id is not in GET /api/v1/runs?pipeline=$pipeline_id&limit=1: $(head -c 1000 "$work/poll.json")" ;;
    *) die "run $run_id: unexpected state '$state'" ;;
  esac
  if [[ $progress != "$last_progress" ]]; then
    last_progress=$progress last_change=$(date +%s)
  elif (($(date +%s) - last_change > stall)); then
    die "run $run_id made no progress for ${stall}s (state $state, tasks $progress)"
  fi
  sleep "$poll"
done
t1=$(date +%s.%N)
run_done=1
read -r cpu_self1 cpu_kids1 < <(cpu_s "$spid")
rss_end_kb=$(mem_kb VmRSS "$spid")  # every task finished, before the run is read
# The whole run: its tasks in pages of 1,000 (a run of more than 500 tasks is
# answered a page at a time), joined into run.json.
offset=0 pages=()
while [[ -n $offset ]]; do
  call GET "/api/v1/runs/$run_id?tasks_limit=1000&tasks_offset=$offset" "$work/page-$offset.json"
  pages+=("$work/page-$offset.json")
  offset=$(jget "$work/page-$offset.json" '"" if j.get("tasks_next_offset") is None else j["tasks_next_offset"]')
done
"$PY" - "$work/run.json" "${pages[@]}" <<'PY'
import json, sys
run = json.load(open(sys.argv[2]))
for p in sys.argv[3:]:
    run["tasks"] += json.load(open(p))["tasks"]
json.dump(run, open(sys.argv[1], "w"))
PY
# GET /runs/{id} as a poller uses it: as answered by default (a big run: its first
# page of tasks), a page of 100 tasks and the counts alone, 20 times each
# (seconds and bytes per answer).
get_stats() {
  local q=$1 n=$2
  for _ in $(seq "$n"); do
    curl -sS -o /dev/null -w '%{time_total} %{size_download}\n' -H "Authorization: Bearer $token" "$api/api/v1/runs/$run_id$q"
  done | sort -n | awk '{t[NR] = $1; b = $2} END {i = int(NR * 0.99 + 0.999); if (i < 1) i = 1; printf "%.1f %.1f %d\n", t[int((NR + 1) / 2)] * 1000, t[i] * 1000, b}'
}
read -r get_all_p50 get_all_p99 get_all_bytes < <(get_stats "" 20)
read -r get_page_p50 get_page_p99 get_page_bytes < <(get_stats "?tasks_limit=100" 20)
read -r get_sum_p50 get_sum_p99 get_sum_bytes < <(get_stats "?tasks_limit=0" 20)
hwm_kb=$(mem_kb VmHWM "$spid")
rss_kb=$(mem_kb VmRSS "$spid")

# Checks and figures from the run's JSON.
"$PY" - "$work/run.json" "$tasks" "$par" >"$work/quader.txt" <<'PY' || die "run $run_id: $(cat "$work/quader.txt")"
import json, math, sys
from datetime import datetime
r = json.load(open(sys.argv[1]))
want = int(sys.argv[2])

def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()

def pct(xs, p):
    return xs[max(0, math.ceil(p / 100 * len(xs)) - 1)]

tasks = r.get("tasks", [])
if r["state"] != "succeeded":
    bad = [t for t in tasks if t["state"] != "succeeded"]
    lines = [f"ended {r['state']} ({r.get('reason') or 'no reason'}); {len(bad)} of {len(tasks)} tasks not succeeded, e.g.:"]
    for t in bad[:5]:
        lines.append(f"  {t['name']}: {t['state']} exit_code={t.get('exit_code')} reason={t.get('reason')!r}")
    print("\n".join(lines))
    sys.exit(1)
if len(tasks) != want or any(t["state"] != "succeeded" for t in tasks):
    print(f"succeeded with {len(tasks)} tasks listed, {sum(t['state'] == 'succeeded' for t in tasks)} succeeded; expected {want}")
    sys.exit(1)
if not r.get("finished_at"):
    print("ended succeeded without finished_at")
    sys.exit(1)
lat = sorted((ts(t["started_at"]) - ts(t["ready_at"])) * 1000 for t in tasks if t.get("ready_at") and t.get("started_at"))
if not lat:
    print("no task has both ready_at and started_at")
    sys.exit(1)
# ready->started includes waiting for one of the `parallelism` slots. Dispatch: from the
# moment a task was ready *and* a slot was free to its start. With at most P tasks running,
# the k-th start (0-based, k >= P) needs the (k-P+1)-th finish: that finish frees its slot.
par = r.get("parallelism") or int(sys.argv[3])
runs = sorted((ts(t["started_at"]), ts(t["ready_at"])) for t in tasks if t.get("ready_at") and t.get("started_at"))
fin = sorted(ts(t["finished_at"]) for t in tasks if t.get("finished_at"))
disp = []
for k, (s, ready) in enumerate(runs):
    slot = fin[k - par] if k >= par and k - par < len(fin) else ts(r["created_at"])
    disp.append(max(0.0, s - max(ready, slot)) * 1000)
disp.sort()
print(f"{ts(r['finished_at']) - ts(r['created_at']):.3f} {pct(lat, 50):.1f} {pct(lat, 99):.1f} {lat[-1]:.1f} {len(lat)} "
      f"{pct(disp, 50):.1f} {pct(disp, 99):.1f}")
PY
read -r q_wall lat50 lat99 latmax latn disp50 disp99 <"$work/quader.txt"

# --- ninja, the same DAG
n0=$(date +%s.%N)
ninja -C "$work" -j "$par" -f build.ninja >"$work/ninja.out" 2>&1 || { tail -n 20 "$work/ninja.out" >&2; die "ninja failed"; }
n1=$(date +%s.%N)
grep -q "^\[$tasks/$tasks\]" "$work/ninja.out" || die "ninja did not run $tasks edges: $(tail -n 2 "$work/ninja.out")"
# ... and each edge in a task's sandbox.
if [[ $runtime == docker ]]; then export CONTAINERS_CONF=$data/podman/containers.conf; fi
s0=$(date +%s.%N)
ninja -C "$work" -j "$par" -f sandbox.ninja >"$work/sandbox.out" 2>&1 || { tail -n 20 "$work/sandbox.out" >&2; die "ninja (sandboxed) failed"; }
s1=$(date +%s.%N)
grep -q "^\[$tasks/$tasks\]" "$work/sandbox.out" || die "ninja (sandboxed) did not run $tasks edges: $(tail -n 2 "$work/sandbox.out")"

awk -v cs0="$cpu_self0" -v cs1="$cpu_self1" -v ck0="$cpu_kids0" -v ck1="$cpu_kids1" -v q="$q_wall" -v c0="$t0" -v cp="$t_posted" -v c1="$t1" -v n0="$n0" -v n1="$n1" -v s0="$s0" -v s1="$s1" -v ga="$get_all_p50" -v ga99="$get_all_p99" -v gab="$get_all_bytes" -v gp50="$get_page_p50" -v gp99="$get_page_p99" -v gpb="$get_page_bytes" -v gs99="$get_sum_p99" -v gsb="$get_sum_bytes" -v n="$tasks" -v poll="$poll" -v rt="$runtime" \
  -v l50="$lat50" -v l99="$lat99" -v lmax="$latmax" -v ln="$latn" -v d50="$disp50" -v d99="$disp99" -v hwm="$hwm_kb" -v rp="$rss_peak_kb" -v hl="$hwm_login_kb" -v rss="$rss_kb" -v rb="$rss_before_kb" -v r1k="$rss_1k_kb" -v rend="$rss_end_kb" 'BEGIN {
  nw = n1 - n0
  printf "%-44s %10s %10s\n", "peer", "wall s", "tasks/s"
  printf "%-44s %10.2f %10.0f\n", "quader run (finished_at - created_at)", q, n / q
  printf "%-44s %10.2f %10s\n", sprintf("quader, client clock (polls every %ss)", poll), c1 - c0, ""
  sw = s1 - s0
  printf "%-44s %10.2f %10.0f\n", "ninja -j (sh -c true)", nw, n / nw
  if (rt == "docker") {
    printf "%-44s %10.2f %10.0f\n", "ninja -j (podman run --rm per edge)", sw, n / sw
    printf "ratio quader/ninja: %.2f\n", q / nw
    printf "ratio quader/ninja running podman run per edge: %.2f\n", q / sw
  } else {
    printf "%-44s %10.2f %10.0f\n", "ninja -j (wrapper + task sandbox + true)", sw, n / sw
    printf "ratio quader/ninja: %.2f (goal <= 2.0)\n", q / nw
    printf "ratio quader/ninja with the same sandbox: %.2f (goal <= 1.5)\n", q / sw
  }
  getline la < "/proc/loadavg"; split(la, l, " ")
  printf "load average at the end: %s %s %s (other work on the machine skews both peers)\n", l[1], l[2], l[3]
  printf "CPU per task: server %.2f ms, workloads (wrapper, sandbox, command) %.2f ms\n", (cs1 - cs0) * 1000 / n, (ck1 - ck0) * 1000 / n
  printf "POST run answered in %.0f ms\n", (cp - c0) * 1000
  printf "GET /runs/{id}: as answered by default p50 %s ms p99 %s ms, %.1f KB (goal <= 50 ms, <= 64 KB); ?tasks_limit=100 p50 %s ms p99 %s ms, %d KB; ?tasks_limit=0 p99 %s ms, %d B\n", ga, ga99, gab / 1024, gp50, gp99, gpb / 1024, gs99, gsb
  printf "task ready->started latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d tasks; includes waiting for a slot)\n", l50, l99, lmax, ln
  printf "dispatch latency (ready and a slot free -> started): p50 %.1f ms, p99 %.1f ms\n", d50, d99
  printf "server memory: resident %.1f MB before the run, %.1f MB at most during it (sampled at each poll), %.1f MB after it\n", rb / 1024, rp / 1024, rss / 1024
  if (r1k > 0) printf "               %.1f MB once 1,000 tasks had finished, %.1f MB once all had (before the run was read): %+.1f MB (goal <= +20)\n", r1k / 1024, rend / 1024, (rend - r1k) / 1024
  printf "               peak (VmHWM) %.1f MB over the process life, %.1f MB of it already reached at the login\n", hwm / 1024, hl / 1024
}'
