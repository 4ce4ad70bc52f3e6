#!/usr/bin/env bash
# Benchmark: notebook create -> ready on the local (process) runtime, and the
# memory of an idle notebook; side by side with the floor: the same Jupyter
# (Debian's jupyter-notebook) started by hand, without Quader, until its API
# answers.
#
#   bench/notebook_ready.sh [build/quader] [ROUNDS=5]
#
# For each round: POST /api/v1/notebooks, then poll (every 20 ms) GET
# <gateway>/notebook/public/NAME/api/status with the session until it answers
# 200: the time a user waits from "Create" to a notebook they can open (goal
# < 5 s; Kubernetes-based platforms take tens of seconds). Then the resident
# memory (RSS, summed over its processes) of each idle notebook server once
# all are up. The peer: `jupyter-notebook` run directly, until GET /api/status
# answers. Prints medians and the ratio quader / bare.
# Environment: KEEP=1 keeps the temporary directory (server log);
# RUNTIME=docker runs the notebooks in quader/notebook:1 on the container
# engine instead (scripts/build-images.sh notebook; memory is then not shown).
set -euo pipefail
bin=${1:-build/quader}
rounds=${2:-5}
PY=/usr/bin/python3
[[ -x $bin ]] || { echo "notebook_ready: no quader binary at $bin (build it: make build)" >&2; exit 1; }
bin=$(realpath "$bin")
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "notebook_ready: ROUNDS is a positive integer" >&2; exit 1; }
command -v jupyter-notebook >/dev/null || { echo "notebook_ready: jupyter-notebook is missing (make deps)" >&2; exit 1; }
work=$(mktemp -d /tmp/quader-bench-notebook-XXXXXX)
qpid=''

cleanup() {
  local rc=$?
  if [[ -n $qpid ]] && kill -0 "$qpid" 2>/dev/null; then
    kill "$qpid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$qpid" 2>/dev/null || true
  fi
  # Notebook servers outlive Quader by design: stop this run's (each is the
  # process group of a wrapper shell whose command line names the data dir).
  for pid in $(pgrep -f -- "$work/data" 2>/dev/null); do kill -TERM -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n ${KEEP:-} ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

QUADER_ADMIN_PASSWORD=bench-admin-pw "$bin" server --data "$work/data" --listen 127.0.0.1:0 \
  --gateway-listen 127.0.0.1:0 --runtime "${RUNTIME:-process}" --external-port-base 0 >"$work/server.log" 2>&1 &
qpid=$!
for _ in $(seq 200); do [[ -s $work/data/server.json ]] && break; sleep 0.1; done
[[ -s $work/data/server.json ]] || { tail -20 "$work/server.log" >&2; echo "notebook_ready: the server did not start" >&2; exit 1; }

"$PY" - "$work" "$rounds" <<'PYEOF'
import json, os, signal, socket, statistics, subprocess, sys, time, urllib.request, urllib.error

work, rounds = sys.argv[1], int(sys.argv[2])
info = json.load(open(os.path.join(work, "data", "server.json")))
api, gateway = info["api"], info["gateway"]

def call(method, url, body=None, headers=None):
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return 0, b""

deadline = time.time() + 20
while call("GET", api + "/healthz")[0] != 200:
    if time.time() > deadline: sys.exit("the server does not answer")
    time.sleep(0.1)
status, body = call("POST", api + "/api/v1/login", {"username": "admin", "password": "bench-admin-pw"})
token = json.loads(body)["token"]
auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

def wait_200(url, headers, limit=60):
    start = time.time()
    while time.time() - start < limit:
        if call("GET", url, headers=headers)[0] == 200:
            return True
        time.sleep(0.02)
    return False

def rss_of(pids):
    total = 0
    for pid in pids:
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total

def tree(root):
    """root and all its descendants."""
    children = {}
    for p in os.listdir("/proc"):
        if not p.isdigit(): continue
        try:
            ppid = int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(p))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out

quader_times = []
for i in range(rounds):
    name = f"bench{i}"
    t0 = time.time()
    status, body = call("POST", api + "/api/v1/notebooks", {"name": name, "type": "jupyter"}, auth)
    if status != 201: sys.exit(f"create failed: {status} {body[:300]}")
    if not wait_200(f"{gateway}/notebook/public/{name}/api/status", {"Authorization": "Bearer " + token}):
        sys.exit(f"{name} never answered through the gateway")
    quader_times.append(time.time() - t0)

time.sleep(3)  # idle
mems = []
for i in range(rounds):
    state_dir = os.path.join(work, "data", "process")
    for f in (os.listdir(state_dir) if os.path.isdir(state_dir) else []):
        if f.endswith(".json") and f"-nb{i + 1}-" in f:
            pid = json.load(open(os.path.join(state_dir, f))).get("pid")
            if pid: mems.append(rss_of(tree(int(pid))))

# Delete them: the controller stops their servers (containers too).
for i in range(rounds):
    call("DELETE", f"{api}/api/v1/notebooks/bench{i}?project=public", headers=auth)

bare_times, bare_mems = [], []
for i in range(rounds):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    d = os.path.join(work, f"bare{i}"); os.makedirs(d)
    t0 = time.time()
    p = subprocess.Popen(["jupyter-notebook", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
                          f"--notebook-dir={d}", "--NotebookApp.token=bench"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    ok = wait_200(f"http://127.0.0.1:{port}/api/status", {"Authorization": "token bench"})
    bare_times.append(time.time() - t0)
    time.sleep(3)
    bare_mems.append(rss_of(tree(p.pid)))
    os.killpg(p.pid, signal.SIGTERM); p.wait()
    if not ok: sys.exit("bare jupyter-notebook never answered")

med = statistics.median
print(f"notebook create -> ready (median of {rounds}):")
print(f"  quader, {os.environ.get('RUNTIME', 'process')} runtime (POST -> 200 through the gateway): {med(quader_times) * 1000:7.0f} ms   "
      f"(min {min(quader_times) * 1000:.0f}, max {max(quader_times) * 1000:.0f})")
print(f"  bare jupyter-notebook (exec -> 200):      {med(bare_times) * 1000:7.0f} ms   "
      f"(min {min(bare_times) * 1000:.0f}, max {max(bare_times) * 1000:.0f})")
print(f"  ratio quader / bare: {med(quader_times) / med(bare_times):.2f}   goal: quader < 5000 ms")
if mems:
    print(f"idle notebook memory (RSS of its processes, median): quader {med(mems) / 2**20:.0f} MiB, "
          f"bare {med(bare_mems) / 2**20:.0f} MiB")
PYEOF
