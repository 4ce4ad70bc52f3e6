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
a command to the README adds it here. What this shares with the docs test
(docs_test.py) is in shell_docs.py.

  readme_test.py SOURCE_DIR BUILD_DIR
"""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from shell_docs import Checkout, call, check_fences, check_line, commands, shell_lines

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
    (r"^build/quader get models$", "run", ["iris", "public"]),
    (r"^build/quader model deploy iris 1$", "run", ["inference service serving-iris-1 created: serves iris@1"]),
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
    ("8. Models -> iris, Inference services -> serving-iris-1, deploy buttons",
     "models.test.mjs: versions side by side ..., deploy ... and roll it back; services.test.mjs: an inference service's deploy buttons ..."),
    ("9. Notebooks -> Open lab", "notebooks.test.mjs: the admin creates a Jupyter notebook ... runs 2+2"),
]


def examples_succeed(checkout, seconds=240):
    """`make run`'s promise: every example it loaded succeeds (experiments end
    `succeeded`, the notebook `lab` runs). Returns the failures."""
    print("\nThe examples make run loaded:")
    api, token = checkout.api, checkout.token()
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


def main():
    failures = []
    readme = os.path.join(SOURCE, "README.md")
    lines = shell_lines(readme)
    if not lines:
        print("FAIL: README.md has no shell blocks")
        return 1
    failures += check_fences(readme, "README.md")

    checkout = Checkout(SOURCE, BUILD, PASSWORD, "quader-readme-")
    t0 = time.monotonic()
    print(f"README.md in {checkout.dir} (API :{checkout.api}, gateway :{checkout.gateway})")
    try:
        for where, cmd, action, expected in commands(lines, "README.md", LINES, "readme_test.py", failures):
            if action == "server":
                error = checkout.start_server(f"{where}: {cmd}")
                if error:
                    failures.append(f"{where}: {error}")
                    break
                continue
            check_line(checkout, where, cmd, action, expected, failures)
        if checkout.server_up():
            failures += examples_succeed(checkout)
    finally:
        log = checkout.server_log_tail() if failures else ""
        checkout.close(keep=bool(failures))
    print("\nSteps in the web UI, each covered by a browser test (web/tests/):")
    for step, test in UI_STEPS:
        print(f"  {step}: {test}")
    print(f"\n{len(lines)} shell lines, {len(failures)} failed, {time.monotonic() - t0:.0f} s")
    if failures:
        print("\n--- server log (last 4000 bytes) ---")
        print(log)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
