#!/usr/bin/python3
"""The README, executed (issue 16): every fenced shell block of README.md, in
order, as a newcomer types it, from a fresh directory whose ./data is empty.

Only ports and the admin password are substituted (8080 and 8081 become free
ports; the password is fed to `quader login` on stdin), plus one documented
change: `make run` starts the server as it does (scripts/run.sh, examples
loaded) from the already built tree, with RUNTIME=process, so the tour does
not wait ten minutes for container images (docs/runtimes.md: the examples run
the same on both runtimes). Lines that cannot run here are skipped with their
reason, printed; steps that need the UI are printed with the browser test that
covers each. A shell line this file does not know fails the test: whoever adds
a command to the README adds it here.

  readme_test.py SOURCE_DIR BUILD_DIR
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SOURCE, BUILD = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
PASSWORD = "readme-" + os.urandom(6).hex()

# Each README shell line: (pattern, action, what its output must contain).
# Actions: "run", "server" (make run), "skip: REASON".
LINES = [
    (r"^make run\b", "server", []),
    (r"^make test\b", "skip: this test runs inside `make test`", []),
    (r"^build/quader login --server http://127\.0\.0\.1:8080 --user admin$", "run", ["admin"]),
    (r"^build/quader get projects$", "run", ["public", "ml-team"]),
    (r"^build/quader apply -f examples/projects/ml-team\.yaml$", "run", ["unchanged"]),
    (r"^build/quader get project ml-team -o yaml$", "run", ["volume_mount", "kubeflow-user-workspace"]),
    (r"^build/quader run hello --wait$", "run", ["succeeded"]),
    (r"^build/quader run iris --wait$", "run", ["succeeded"]),
    (r"^build/quader logs 2 train$", "run", ["accuracy"]),
    (r"^build/quader get pipelines$", "run", ["iris", "0 2 * * *", "Asia/Shanghai"]),
    (r"^build/quader get schedules$", "run", []),
    (r"^build/quader get experiments$", "run", ["sgd-digits", "batch-size-search"]),
    (r"^build/quader trials sgd-digits --best$", "run", []),
    (r"^scripts/build-images\.sh predict$", "skip: the process runtime runs the predict server without its image", []),
    (r"^build/quader run iris-model --wait$", "run", ["succeeded"]),
    (r"^build/quader apply -f examples/services/iris-model\.yaml\.example$", "run", ["serving-iris-1"]),
    (r"^curl .*http://127\.0\.0\.1:8081/predict", "run", ['"predictions"']),
    (r"^scripts/install-deps\.sh$", "skip: building by hand is what `make test` did before this test", []),
    (r"^cmake -S \. -B build && cmake --build build$", "skip: building by hand is what `make test` did before this test", []),
    (r"^\(cd web && npm ci && npm run build\)$", "skip: building by hand is what `make test` did before this test", []),
    (r"^scripts/run-tests\.sh build$", "skip: it runs this test", []),
]

# The tour's steps done in the web UI, and the browser tests (web/tests/) doing each.
UI_STEPS = [
    ("1. sign in as admin", "login.test.mjs: admin signs in"),
    ("2. open ml-team, save a bad expand", "projects.test.mjs: a valid expand is saved; a bad one shows the server error"),
    ("3. create alice, add her as dev", "users.test.mjs: an admin creates ...; projects.test.mjs: add a member ..."),
    ("5. New build team/hello:1 with a live log", "images.test.mjs: a build made through the UI lands on its page ..."),
    ("6. the iris canvas, forms, validate and run", "pipelines.test.mjs: build a pipeline on the canvas ...; runs.test.mjs"),
    ("7. Experiments -> sgd-digits: trials, curves, logs", "experiments.test.mjs: an experiment of local nni trials ..."),
    ("8. Inference services -> serving-iris-1, deploy buttons", "services.test.mjs: an inference service's deploy buttons ..."),
    ("9. Notebooks -> Open lab", "notebooks.test.mjs: the admin creates a Jupyter notebook ... runs 2+2"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shell_lines(readme):
    """(line number, command) of every fenced sh/bash block, continuations joined."""
    out, in_block, pending, start = [], False, "", 0
    for n, raw in enumerate(open(readme, encoding="utf-8").read().split("\n"), 1):
        line = raw.strip()
        if line.startswith("```"):
            lang = line[3:].strip()
            if not in_block and lang in ("sh", "bash", "shell", "console"):
                in_block = True
            elif in_block:
                in_block = False
            elif lang == "":
                pass
            continue
        if not in_block or not line or line.startswith("#"):
            continue
        if not pending:
            start = n
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append((start, pending + line))
        pending = ""
    return out


def without_comment(cmd):
    """The command without a trailing `# comment` (outside quotes)."""
    quote = None
    for i, c in enumerate(cmd):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and i > 0 and cmd[i - 1] in " \t":
            return cmd[:i].rstrip()
    return cmd.rstrip()


def call(api, method, path, token, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{api}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def examples_succeed(api, seconds=240):
    """`make run`'s promise: every example it loaded succeeds (experiments end
    `succeeded`, the notebook `lab` runs). Returns the failures."""
    print("\nThe examples make run loaded:")
    token = call(api, "POST", "/api/v1/login", "", {"username": "admin", "password": PASSWORD})["token"]
    deadline = time.monotonic() + seconds
    while True:
        states = {f"experiment {e['name']}": (e.get("state"), e.get("reason", ""))
                  for e in call(api, "GET", "/api/v1/experiments", token)["items"]}
        states.update({f"notebook {n['name']}": (n.get("state"), n.get("reason", ""))
                       for n in call(api, "GET", "/api/v1/notebooks", token)["items"]})
        states.update({f"run {r['id']} of {r['pipeline']}": (r.get("state"), r.get("reason", ""))
                       for r in call(api, "GET", "/api/v1/runs", token)["items"]})
        done = all(s in ("succeeded", "running") if k.startswith("notebook") else s == "succeeded"
                   for k, (s, _) in states.items())
        bad = {k: v for k, v in states.items() if v[0] in ("failed", "stopped")}
        if done or bad or time.monotonic() > deadline:
            break
        time.sleep(2)
    for k, (s, why) in sorted(states.items()):
        print(f"  {k}: {s}{': ' + why if why else ''}")
    if len(states) < 4:
        return [f"make run loaded {len(states)} examples; expected the experiments, the notebook and the runs"]
    return [f"example {k} is {s}: {why}" for k, (s, why) in states.items()
            if not (s == "succeeded" or (k.startswith("notebook") and s == "running"))]


def stop_work(api):
    """Deletes what the tour left running (notebook, services, experiments), as a user would."""
    try:
        token = call(api, "POST", "/api/v1/login", "", {"username": "admin", "password": PASSWORD})["token"]
        for kind in ("notebooks", "services", "inference-services", "experiments"):
            for item in call(api, "GET", f"/api/v1/{kind}", token).get("items", []):
                try:
                    call(api, "DELETE", f"/api/v1/{kind}/{item['id']}", token)
                except OSError:
                    pass
        time.sleep(3)
    except (OSError, KeyError, ValueError) as e:
        print(f"(cleaning up through the API failed: {e})")


def kill_leftovers(work):
    """Kills any process still started from the tour's directory (its command line names it)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        except OSError:
            continue
        if work in cmdline:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def main():
    failures = []
    lines = shell_lines(os.path.join(SOURCE, "README.md"))
    if not lines:
        print("FAIL: README.md has no shell blocks")
        return 1

    work = tempfile.mkdtemp(prefix="quader-readme-")
    os.chmod(work, 0o711)
    home = os.path.join(work, "home")
    os.makedirs(home)
    # A fresh directory that looks like the checkout: the source tree's entries, the built tree as build/.
    for entry in os.listdir(SOURCE):
        if entry in ("build", "data", ".git") or entry.startswith("build"):
            continue
        os.symlink(os.path.join(SOURCE, entry), os.path.join(work, entry))
    os.symlink(BUILD, os.path.join(work, "build"))
    api, gateway = free_port(), free_port()
    env = dict(os.environ, HOME=home, QUADER_ADMIN_PASSWORD=PASSWORD, GATEWAY_LISTEN=f"127.0.0.1:{gateway}",
               QUADER_SKIP_CODE_SERVER="1")
    env.pop("QUADER_CONFIG", None)
    server = None
    server_log = open(os.path.join(work, "server.log"), "w")
    t0 = time.monotonic()
    print(f"README.md in {work} (API :{api}, gateway :{gateway})")
    try:
        for n, line in lines:
            cmd = without_comment(line)
            match = next(((a, e) for p, a, e in LINES if re.search(p, cmd)), None)
            if match is None:
                failures.append(f"README.md:{n}: `{cmd}` is not covered: add it to tests/readme/readme_test.py "
                                "(run it, or skip it with the reason)")
                print("FAIL " + failures[-1])
                continue
            action, expected = match
            if action.startswith("skip"):
                print(f"SKIP README.md:{n}: {cmd}  ({action[5:].strip()})")
                continue
            if action == "server":
                # make run, from the built tree: scripts/run.sh as the Makefile calls it.
                print(f"RUN  README.md:{n}: {cmd}  (as: scripts/run.sh build ./data 127.0.0.1:{api} process)")
                server = subprocess.Popen(["scripts/run.sh", "build", "./data", f"127.0.0.1:{api}", "process"],
                                          cwd=work, env=env, stdout=server_log, stderr=subprocess.STDOUT,
                                          start_new_session=True)
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{api}/healthz", timeout=2) as r:
                            if r.status == 200:
                                break
                    except OSError:
                        pass
                    if server.poll() is not None:
                        break
                    time.sleep(0.3)
                else:
                    failures.append(f"README.md:{n}: the server did not answer /healthz within 90 s")
                if server.poll() is not None:
                    failures.append(f"README.md:{n}: the server exited ({server.returncode})")
                    break
                continue
            real = cmd.replace("127.0.0.1:8080", f"127.0.0.1:{api}").replace("127.0.0.1:8081", f"127.0.0.1:{gateway}")
            started = time.monotonic()
            r = subprocess.run(["bash", "-c", real], cwd=work, env=env, input=PASSWORD + "\n",
                               capture_output=True, text=True, timeout=300)
            took = time.monotonic() - started
            out = r.stdout + r.stderr
            missing = [e for e in expected if e not in out]
            ok = r.returncode == 0 and not missing
            print(f"{'ok  ' if ok else 'FAIL'} README.md:{n}: {cmd}  ({took:.1f} s)")
            if not ok:
                why = f"exit {r.returncode}" if r.returncode else f"output lacks {missing}"
                failures.append(f"README.md:{n}: `{cmd}`: {why}\n{out[-3000:]}")
                print("     " + failures[-1].replace("\n", "\n     "))
        if server and server.poll() is None:
            failures += examples_succeed(api)
    finally:
        stop_work(api)
        if server and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        server_log.close()
        kill_leftovers(work)
    print("\nSteps in the web UI, each covered by a browser test (web/tests/):")
    for step, test in UI_STEPS:
        print(f"  {step}: {test}")
    print(f"\n{len(lines)} shell lines, {len(failures)} failed, {time.monotonic() - t0:.0f} s")
    if failures:
        print("\n--- server log (last 4000 bytes) ---")
        print(open(os.path.join(work, "server.log")).read()[-4000:])
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
