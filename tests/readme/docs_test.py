#!/usr/bin/python3
"""docs/, executed (issue 16): every command of every page of docs/, as the
README's test does for the README (readme_test.py; what they share is in
shell_docs.py).

The rules:
- Commands are the lines of ```sh blocks and the `$ ` lines of ```console
  blocks (transcripts: the other lines are output). Every fence has a
  language; one without fails the test.
- Each page runs in order, from a fresh directory that looks like the checkout
  (its own empty ./data and HOME), against its own server, started as
  `make run` starts it (scripts/run.sh: the examples loaded) with
  RUNTIME=process. The server starts at the page's `make run` line, or else
  before its first command that runs; the test then logs in as admin, as the
  README's tour leaves a reader. A page with nothing to run starts none.
- `quader` is the built binary (build/quader, first on PATH: the docs assume it
  installed), and so is `build/quader`. Only the ports (8080: the API, 8081:
  the gateway) are substituted, and the admin password is on every command's
  stdin (for `quader login`).
- Each line is run (exit status 0 and the expected fragments in its output),
  expected to fail (a documented error: exit status not 0, and the
  fragments), or skipped with the reason, printed (and the test that covers
  it, where another test does).
- A command this file does not know fails the test: whoever adds a command to
  docs/ adds it here.

  docs_test.py SOURCE_DIR BUILD_DIR
"""
import glob
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from shell_docs import Checkout, check_fences, check_line, commands, shell_lines

SOURCE, BUILD = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
PASSWORD = "docs-" + os.urandom(6).hex()

BUILD_BY_HAND = "skip: building by hand is what `make test` did before this test"
IMAGES = "skip: builds container images with podman (minutes); the process runtime needs none"
CLUSTER = "skip: needs a Kubernetes API server (kubectl); the kubernetes runtime's tests use a fake one"
# The manifest validator's npm packages, which `make test` installs.
VALIDATE = ("run" if os.path.exists(os.path.join(SOURCE, "tests/kube/validate/node_modules/.package-lock.json"))
            else "skip: tests/kube/validate has no node_modules (`make test` installs them)")

# Each page's command lines: (pattern, action, what the output must contain).
# Actions: "run", "fail" (a documented error), "server" (make run), "skip: REASON".
DOCS = {
    "cli.md": [
        (r"^quader login --server http://127\.0\.0\.1:8080 --user admin$", "run", ["Logged in to", "as admin"]),
        (r"^echo \"\$PASSWORD\" \| quader login --server http://quader\.example:8080 --user alice$",
         "skip: quader.example is a placeholder; every login of this test reads the password from stdin", []),
        (r"^quader apply -f examples/projects/ml-team\.yaml$", "run", ["project/ml-team unchanged"]),
        (r"^echo '\{\"kind\": \"Project\", \"name\": \"team-a\"\}' \| quader apply -f -$", "run", ["project/team-a "]),
        (r"^quader apply -f examples/templates/$", "run", ["jobtemplate/train-sklearn unchanged (project public)"]),
        (r"^quader apply -f examples/templates/ -f examples/pipelines/$", "run", ["pipeline/iris unchanged"]),
        (r"^echo '\{\"kind\": \"Project\", \"name\": \"x\", \"colour\": \"red\"\}' \| quader apply -f -$", "fail",
         ["error: <stdin>: document 1 (Project \"x\"): colour: unknown field"]),
        (r"^quader apply -f examples/$", "fail", ["error: examples/: holds no .yaml, .yml or .json files"]),
        (r"^quader apply -f missing/$", "fail", ["error: missing/: cannot read: no such file or directory"]),
        (r"^quader get projects$", "run", ["ml-team", "public", "team-a"]),
        (r"^quader get users$", "run", ["USERNAME", "admin"]),
        (r"^quader get project team-a -o yaml$", "run", ["name: team-a"]),
        (r"^quader delete project team-a$", "run", ["project/team-a deleted"]),
        (r"^quader delete -f examples/notebooks/lab\.yaml$", "run", ["notebook/lab "]),
        (r"^quader describe pipeline iris$", "run", ["Kind:         pipeline", "Spec:", "Runs:"]),
        (r"^source <\(quader completion bash\)", "run", []),
        (r"^source <\(quader completion zsh\)",
         "skip: zsh's; this test's shell is bash (the bash line above runs, and tests/cli covers both scripts)", []),
        (r"^quader run iris$", "run", ["run 1 started (pipeline iris, 3 tasks)"]),
        (r"^quader stop 1$", "run", ["run 1 stop"]),
        (r"^quader run iris --wait$", "run", ["run 2 started", "train       running   (attempt 1/3)", "run 2 succeeded"]),
        (r"^quader logs 2 train$", "run", ["[1/4] loading /inputs/make-data/train.csv", "train accuracy"]),
        (r"^quader logs 1$", "run", ["==> make-data", "==> train", "==> evaluate"]),
        (r"^quader trials sgd-digits --best$", "run", ["experiment sgd-digits (", "SEQ   TRIAL"]),
        (r"^quader stop --experiment sgd-digits$", "run", ["experiment sgd-digits"]),
    ],
    "cube-studio.md": [
        (r"^quader import cube-studio init-job-template\.json init-pipeline\.json --project public$",
         "skip: cube-studio's own export files (its myapp/init/*.json), not in this repository; "
         "tests/e2e/cube_studio_e2e_test.cpp imports such files with this command", []),
    ],
    "images.md": [
        (r"^scripts/build-images\.sh( (base|predict|notebook|vscode))?$", IMAGES, []),
    ],
    "kubernetes.md": [
        (r"^quader server --runtime kubernetes --db postgresql://", "skip: needs a Kubernetes cluster and PostgreSQL", []),
        (r"^kubectl ", CLUSTER, []),
        (r"^quader apply -f examples/services/iris-model\.yaml\.example -f examples/services/redis-ui\.yaml\.example$",
         "run", ["inferenceservice/serving-iris-1 created", "service/redis-ui created"]),
        (r"^quader render service redis-ui$", "run", ["kind: Deployment", "kind: Service"]),
        (r"^quader render inference-service serving-iris-1 --istio -n ml$", "run",
         ["kind: VirtualService", "namespace: ml"]),
        (r"^quader render notebook lab -o json$", "run", ['"kind": "Deployment"']),
        (r"^quader render service redis-ui \| node tests/kube/validate/validate\.mjs -$", VALIDATE,
         ["ok  Deployment redis-ui"]),
        (r"^scripts/build-images\.sh server$", IMAGES, []),
        (r"^podman (tag|push) ", "skip: pushes to your registry (registry.example.com is a placeholder)", []),
        (r"^sed -i 's\|image: quader/server:latest\|",
         "skip: edits deploy/kubernetes/quader.yaml for your registry (a placeholder)", []),
    ],
    "model-serving.md": [
        (r"^make run$", "server", []),
        (r"^scripts/build-images\.sh predict$", "skip: the process runtime runs the predict server without its image", []),
        (r"^build/quader login --server http://127\.0\.0\.1:8080 --user admin$", "run", ["as admin"]),
        (r"^build/quader run iris-model --wait$", "run", ["run 1 started (pipeline iris-model, 4 tasks)",
                                                          "run 1 succeeded"]),
        (r"^build/quader logs 1 publish$", "run", ["published /inputs/train/model.joblib as "
                                                   "/mnt/admin/models/iris/model.joblib"]),
        (r"^build/quader apply -f examples/services/iris-model\.yaml\.example$", "run",
         ["inferenceservice/serving-iris-1 created (project public)"]),
        (r"^build/quader get inference-services$", "run", ["serving-iris-1"]),
        (r"^curl --fail --retry 60 --retry-delay 1 --retry-all-errors -H 'Host: serving-iris-1\.service\.localhost' "
         r"http://127\.0\.0\.1:8081/predict -d '\{\"instances\": \[\[5\.1, 3\.5, 1\.4, 0\.2\], \[6\.7, 3\.0, 5\.2, 2\.3\]\]\}'$",
         "run", ['"predictions": [0, 2]']),
        (r"^curl http://serving-iris-1\.service\.localhost:8081/health$", "run", ['"status": "ok"']),
        (r"^curl -H 'Host: serving-iris-1\.service\.localhost' http://127\.0\.0\.1:8081/predict -d "
         r"'\{\"instances\": \[\[5\.1, 3\.5, 1\.4\]\]\}'$", "run", ["instances[0] has 3 values; the model expects 4"]),
        (r"^curl -H 'Host: serving-iris-1\.service\.localhost' http://127\.0\.0\.1:8081/predict -d "
         r"'\{\"instances\": \[\[5\.1, 3\.5'$", "run", ["the body is not valid JSON"]),
        (r"^curl -H 'Host: serving-iris-1\.service\.localhost' http://127\.0\.0\.1:8081/v1/models/iris:predict -d ",
         "run", ['"predictions": [1]']),
    ],
    "datasets.md": [
        (r"^quader dataset upload iris examples/datasets/iris\.csv --description \"the iris flowers\"$", "run",
         ["data set iris created", "uploaded iris.csv (", "data set iris version 1 (iris@1): 1 files,"]),
        (r"^quader get datasets$", "run", ["NAME", "iris   public    1"]),
        (r"^quader dataset preview iris 1 iris\.csv$", "run",
         ["sepal_length:number", "species:string", "5.1  3.5  1.4  0.2  setosa", "(150 rows)"]),
        (r"^quader run iris-stats --wait$", "run", ["run 1 started", "run 1 succeeded"]),
        (r"^quader logs 1 stats$", "run", ["read 150 rows of iris@1: {'setosa': 50, 'versicolor': 50, 'virginica': 50}"]),
        (r"^quader dataset version iris --run 1 --task stats --path setosa --description \"setosa only\"$", "run",
         ["data set iris version 2 (iris@2): 1 files,"]),
        (r"^quader describe dataset iris$", "run", ["setosa.csv", "kind: task", "pipeline: iris-stats", "iris.csv"]),
    ],
    "models.md": [
        (r"^quader apply -f examples/templates/$", "run", ["jobtemplate/train-sklearn"]),
        (r"^quader apply -f examples/pipelines/iris\.yaml$", "run", ["pipeline/iris"]),
        (r"^quader run iris --wait$", "run", ["run 1 started", "run 1 succeeded"]),
        (r"^quader model register iris-classifier --run 1 --task train --path model\.joblib --framework sklearn "
         r"--metric accuracy=0\.95 --param n_estimators=100$", "run",
         ["model iris-classifier created", "model iris-classifier version 1 registered: 1 file,", "from run 1 task train"]),
        (r"^quader get models$", "run", ["NAME", "iris-classifier   public    1"]),
        (r"^quader model stage iris-classifier 1 production$", "run", ["model iris-classifier version 1: production"]),
        (r"^quader describe model iris-classifier$", "run", ["iris-classifier", "model.joblib", "production"]),
        (r"^quader model deploy iris 1$", "run", ["inference service serving-iris-1 ", "serves iris@1"]),
        (r"^curl --fail --retry 60 --retry-delay 1 --retry-all-errors -H 'Host: serving-iris-1\.service\.localhost' "
         r"http://127\.0\.0\.1:8081/health$", "run", ['"ref": "iris@1"', '"status": "ok"']),
    ],
    "notebooks.md": [
        (r"^quader apply -f examples/notebooks/lab\.yaml$", "run", ["notebook/lab unchanged"]),
        (r"^quader get notebooks$", "run", ["NAME   PROJECT   TYPE      STATE", "lab    public    jupyter"]),
        (r"^quader notebook url lab$", "run", ["/notebook/public/lab/"]),
    ],
    "pipelines.md": [
        (r"^quader apply -f examples/templates/$", "run", ["jobtemplate/train-sklearn"]),
        (r"^quader apply -f examples/pipelines/iris\.yaml$", "run", ["pipeline/iris"]),
        (r"^quader run iris --wait$", "run", ["run 1 started", "run 1 succeeded"]),
        (r"^quader logs 1 train -f$", "run", ["wrote /outputs/model.joblib"]),
        (r"^quader get schedules$", "run", ["No schedules found."]),
    ],
    "services.md": [
        (r"^quader apply -f examples/services/iris-model\.yaml\.example$", "run", ["inferenceservice/serving-iris-1"]),
        (r"^quader deploy serving-iris-1 --clear$", "run", ["inference service serving-iris-1: model status offline"]),
        (r"^quader deploy serving-iris-1 --stage (debug|test|prod)$", "run", ["serving-iris-1.service.localhost/"]),
        (r"^quader deploy serving-iris-1 --stage debug --shell$", "run",
         ["its replica waits idle", "quader exec inference-service serving-iris-1"]),
    ],
    "web-ui.md": [
        (r"^make build$", BUILD_BY_HAND, []),
        (r"^cd web$", BUILD_BY_HAND, []),
        (r"^npm (ci|run build)$", BUILD_BY_HAND, []),
        (r"^QUADER_API=http://127\.0\.0\.1:8080 npm run dev$",
         "skip: Vite's dev server runs until stopped; the browser tests (web/tests/) use the built UI", []),
        (r"^cd web && npm test$", "skip: the browser tests; `make test` runs them after ctest (scripts/run-tests.sh)", []),
    ],
}


def run_page(name, path, failures):
    """Runs one page's commands; appends to `failures`. Returns the number of lines."""
    lines = shell_lines(path)
    table = DOCS.get(name)
    if lines and table is None:
        failures.append(f"docs/{name}: {len(lines)} commands and no table: add the page to DOCS in "
                        "tests/readme/docs_test.py")
        print("FAIL " + failures[-1])
        return len(lines)
    checkout = None
    page_failures = len(failures)
    try:
        for where, cmd, action, expected in commands(lines, f"docs/{name}", table, "docs_test.py", failures):
            if checkout is None:
                checkout = Checkout(SOURCE, BUILD, PASSWORD, f"quader-docs-{name[:-3]}-")
                error = checkout.start_server(f"{where}: {cmd}" if action == "server" else f"docs/{name}: make run")
                status, out, _ = (checkout.run("quader login --server http://127.0.0.1:8080 --user admin")
                                  if not error else (1, error, 0))
                if status:
                    failures.append(f"{where}: starting the server and logging in: {out}")
                    print("FAIL " + failures[-1])
                    break
                if action == "server":
                    continue
            if action == "server":
                failures.append(f"{where}: `{cmd}` starts a second server on the page")
                print("FAIL " + failures[-1])
                continue
            check_line(checkout, where, cmd, action, expected, failures)
    finally:
        if checkout:
            failed = len(failures) > page_failures
            if failed:
                print(f"\n--- docs/{name}: server log (last 3000 bytes) ---\n{checkout.server_log_tail(3000)}")
            checkout.close(keep=failed)
    return len(lines)


def main():
    failures, count = [], 0
    t0 = time.monotonic()
    pages = sorted(glob.glob(os.path.join(SOURCE, "docs", "*.md")))
    if not pages:
        print("FAIL: docs/ has no pages")
        return 1
    known = {os.path.basename(p) for p in pages}
    failures += [f"DOCS names docs/{name}, which does not exist" for name in DOCS if name not in known]
    only = os.environ.get("QUADER_DOCS_PAGES", "").split()  # to run some pages by hand: "datasets.md models.md"
    for path in pages:
        name = os.path.basename(path)
        if only and name not in only:
            continue
        failures += check_fences(path, f"docs/{name}")
        started = time.monotonic()
        count += run_page(name, path, failures)
        print(f"     docs/{name}: {time.monotonic() - started:.0f} s")
    print(f"\n{len(pages)} pages, {count} shell lines, {len(failures)} failed, {time.monotonic() - t0:.0f} s")
    for f in failures:
        print("FAIL " + f.split("\n")[0])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
