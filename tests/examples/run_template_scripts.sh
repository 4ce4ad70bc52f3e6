#!/usr/bin/env bash
# Runs the example templates' embedded scripts outside the platform with the host's
# /usr/bin/python3 (it needs python3-yaml, -pandas and -sklearn, as `make deps` installs),
# simulating the task mounts with temp dirs via QUADER_OUTPUTS / QUADER_INPUTS.
# Prints each check; exits 1 if any fails.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TEMPLATES="$ROOT/examples/templates"
PIPELINES="$ROOT/examples/pipelines"
PY=/usr/bin/python3
SIM="$PY $HERE/simulate.py"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILS=0

pass() { echo "  ok: $*"; }
fail() { echo "  FAIL: $*"; FAILS=$((FAILS + 1)); }
check() { # check DESCRIPTION COMMAND...
  local what="$1"; shift
  if "$@" >"$TMP/check.out" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/    | /' "$TMP/check.out"; fi
}
# json_has FILE KEY... : FILE is a JSON object holding every KEY
json_has() { $PY - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
missing = [k for k in sys.argv[2:] if k not in d]
sys.exit(f"{sys.argv[1]} lacks {missing}: {d}" if missing else 0)
PY
}
# json_expr FILE EXPR : EXPR (Python, over d = the JSON in FILE) is true
json_expr() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else f"false: {sys.argv[2]} for {d}")' "$@"; }
grep_log() { grep -q -- "$2" "$1" || { echo "'$2' not in $1:"; cat "$1"; return 1; }; }

$PY -c 'import yaml, numpy, pandas, sklearn, joblib' 2>/dev/null || {
  echo "FAIL: $PY lacks yaml/numpy/pandas/sklearn/joblib (make deps)"; exit 1; }

echo "== templates: documents and extraction"
check "extract every template's files" $SIM extract "$TEMPLATES" "$TMP/t"
T="$TMP/t"
for name in make-dataset train-sklearn evaluate-model python-script; do
  check "$name: public, quader/python:3.11, python3 /template/<its file>, argparse flags == schema" \
    $PY - "$TEMPLATES/$name.yaml" "$T/$name" <<'PY'
import re, subprocess, sys, yaml
t = yaml.safe_load(open(sys.argv[1]))
assert t["kind"] == "JobTemplate" and t["project"] == "public", t
assert t["image"] == "quader/python:3.11", t["image"]
cmd = t["command"].split()
assert cmd[0] == "python3" and cmd[1].startswith("/template/") and len(cmd) == 2, cmd
script = cmd[1][len("/template/"):]
assert script in t["files"], f"{script} not in files"
schema = {n for g in t["args"].values() for n in g}
for g in t["args"].values():
    for n, a in g.items():
        assert a.get("label") and a.get("type"), f"{n} lacks a label or type"
        if a["type"] == "enum":
            assert a["default"] in a["choice"], n
usage = subprocess.run(["/usr/bin/python3", f"{sys.argv[2]}/{script}", "--help"],
                       capture_output=True, text=True, check=True).stdout
flags = set(re.findall(r"(--[a-z][a-z0-9-]*)", usage)) - {"--help"}
assert flags == schema, f"argparse {sorted(flags)} != schema {sorted(schema)}"
PY
done

echo "== make-dataset"
O="$TMP/direct"
check "iris with --test-fraction 0.3 exits 0" env QUADER_OUTPUTS="$O/iris" $PY "$T/make-dataset/make_dataset.py" --dataset iris --test-fraction 0.3 --seed 1
check "outputs.json has train_path, test_path, train_file, test_file, rows" json_has "$O/iris/outputs.json" train_path test_path train_file test_file rows
check "150 rows split 105/45 into train.csv and test.csv" json_expr "$O/iris/outputs.json" \
  "d['rows'] == 150 and d['train_rows'] == 105 and d['test_rows'] == 45 and d['train_file'] == 'train.csv' and __import__('os').path.isfile(d['test_path'])"
for ds in wine breast-cancer; do
  check "$ds exits 0" env QUADER_OUTPUTS="$O/$ds" $PY "$T/make-dataset/make_dataset.py" --dataset $ds --test-fraction 0.25 --seed 1
done
check "synthetic --rows 300 --features 6 --classes 3 --test-fraction 0 writes train.csv only" \
  env QUADER_OUTPUTS="$O/syn" $PY "$T/make-dataset/make_dataset.py" --dataset synthetic --rows 300 --features 6 --classes 3 --seed 3 --test-fraction 0
check "synthetic outputs.json: 300 rows, 6 features, 3 classes, no test file" json_expr "$O/syn/outputs.json" \
  "d['rows'] == 300 and d['features'] == 6 and d['classes'] == 3 and d['test_file'] == '' and not __import__('os').path.exists('$O/syn/test.csv')"
check "--test-fraction 1.5 fails with a message" sh -c "
  out=\$(QUADER_OUTPUTS='$O/bad' $PY '$T/make-dataset/make_dataset.py' --test-fraction 1.5 2>&1); rc=\$?
  echo \"\$out\"; [ \$rc -ne 0 ] && echo \"\$out\" | grep -q 'error: --test-fraction'"

echo "== train-sklearn"
for m in logistic-regression random-forest gradient-boosting svm knn; do
  check "--model $m on the synthetic set exits 0 with model.joblib and outputs.json" sh -c "
    QUADER_OUTPUTS='$O/train-$m' $PY '$T/train-sklearn/train.py' --data '$O/syn/train.csv' --model $m --n-estimators 20 --max-depth 4 --c 0.5 --seed 1 --scale > '$O/train-$m.log' 2>&1 &&
    test -f '$O/train-$m/model.joblib'"
  check "  outputs.json has model_path, model_file, train_accuracy in [0,1]" json_expr "$O/train-$m/outputs.json" \
    "set(d) >= {'model_path', 'model_file', 'train_accuracy'} and d['model_file'] == 'model.joblib' and 0 <= d['train_accuracy'] <= 1"
done
check "prints per-step progress lines [1/4]..[4/4]" sh -c "grep -q '^\[1/4\]' '$O/train-knn.log' && grep -q '^\[4/4\] saving' '$O/train-knn.log'"
check "--data missing fails with a message" sh -c "
  out=\$(QUADER_OUTPUTS='$O/t-bad' $PY '$T/train-sklearn/train.py' --data /nonexistent.csv 2>&1); rc=\$?
  echo \"\$out\"; [ \$rc -ne 0 ] && echo \"\$out\" | grep -q 'error: training data not found'"
check "an unknown --target fails naming the columns" sh -c "
  out=\$(QUADER_OUTPUTS='$O/t-bad' $PY '$T/train-sklearn/train.py' --data '$O/iris/train.csv' --target label 2>&1); rc=\$?
  echo \"\$out\"; [ \$rc -ne 0 ] && echo \"\$out\" | grep -q \"target column 'label' not in\""
check "no --data: argparse refuses (exit 2)" sh -c "$PY '$T/train-sklearn/train.py' >/dev/null 2>&1; [ \$? -eq 2 ]"

echo "== iris pipeline (examples/pipelines/iris.yaml, simulated mounts)"
W="$TMP/iris"
check "make-data -> train -> evaluate all exit 0" $SIM run "$PIPELINES/iris.yaml" "$TEMPLATES" "$W"
if [ -f "$W/summary.json" ]; then
  check "make-data outputs: train_path, test_path, train_file, test_file, rows" json_has "$W/make-data/outputs/outputs.json" train_path test_path train_file test_file rows
  check "train read /inputs/make-data/train.csv (its argv)" grep_log "$W/train/log" "loading $W/train/inputs/make-data/train.csv"
  check "train outputs: model_path, model_file, train_accuracy" json_has "$W/train/outputs/outputs.json" model_path model_file train_accuracy
  check "evaluate outputs: accuracy, f1; passed" json_expr "$W/evaluate/outputs/outputs.json" "set(d) >= {'accuracy', 'f1'} and d['passed'] is True and d['accuracy'] >= 0.8"
  check "evaluate wrote metrics.json with a confusion matrix" json_has "$W/evaluate/outputs/metrics.json" accuracy f1 precision recall confusion_matrix
  check "evaluate printed a report" grep_log "$W/evaluate/log" "accuracy .*f1"
fi
W2="$TMP/iris-strict"
check "with evaluate --min-accuracy 1.01 the run fails" sh -c "! $SIM run '$PIPELINES/iris.yaml' '$TEMPLATES' '$W2' --set evaluate:--min-accuracy=1.01"
if [ -f "$W2/summary.json" ]; then
  check "  train succeeded, evaluate exited 1" json_expr "$W2/summary.json" "d['train']['rc'] == 0 and d['evaluate']['rc'] == 1"
  check "  with a clear message" grep_log "$W2/evaluate/log" "error: accuracy .* is below --min-accuracy 1.01"
  check "  metrics.json is still written (passed: false)" json_expr "$W2/evaluate/outputs/metrics.json" "d['passed'] is False"
fi

echo "== iris-model pipeline (examples/pipelines/iris-model.yaml, simulated mounts)"
# publish writes to /mnt/{{runner}}/models/iris: pointed at a temp dir here (--set).
W4="$TMP/iris-model"
M="$TMP/mnt/admin/models/iris"
PUBLISH_ARGS="/inputs/train/{{tasks.train.outputs.model_file}} $M {{tasks.evaluate.outputs.accuracy}}"
check "make-data -> train -> evaluate -> publish all exit 0" $SIM run "$PIPELINES/iris-model.yaml" "$TEMPLATES" "$W4" \
  --set "publish:--args=$PUBLISH_ARGS"
if [ -f "$W4/summary.json" ]; then
  check "the model is published as models/iris/model.joblib, no temporary file left" sh -c "
    test -s '$M/model.joblib' && ! ls '$M'/*.tmp 2>/dev/null"
  check "  identical to train's model.joblib" cmp "$W4/train/outputs/model.joblib" "$M/model.joblib"
  check "  model.json: its sha256 and an accuracy >= 0.9 (evaluate's)" json_expr "$M/model.json" \
    "d['sha256'] == __import__('hashlib').sha256(open('$M/model.joblib', 'rb').read()).hexdigest() and d['accuracy'] >= 0.9"
  check "  publish outputs model_path" json_expr "$W4/publish/outputs/outputs.json" "d['model_path'] == '$M/model.joblib'"
  check "  the published model predicts setosa (0) and virginica (2)" $PY -c "
import joblib, pandas as pd
m = joblib.load('$M/model.joblib')
x = pd.DataFrame([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], columns=m.feature_names_in_)
assert list(m.predict(x)) == [0, 2], m.predict(x)"
fi
W5="$TMP/iris-model-strict"
M5="$TMP/mnt-strict/admin/models/iris"
check "with evaluate --min-accuracy 1.01 the run fails and nothing is published" sh -c "
  ! $SIM run '$PIPELINES/iris-model.yaml' '$TEMPLATES' '$W5' --set evaluate:--min-accuracy=1.01 \
      --set 'publish:--args=/inputs/train/model.joblib $M5 0' >/dev/null &&
  ! test -e '$M5'"
if [ -f "$W5/summary.json" ]; then
  check "  publish is upstream_failed" json_expr "$W5/summary.json" "d['publish']['state'] == 'upstream_failed'"
fi

echo "== evaluate-model (direct)"
check "--min-accuracy 0 passes on the wine model" sh -c "
  QUADER_OUTPUTS='$O/wm' $PY '$T/train-sklearn/train.py' --data '$O/wine/train.csv' --model random-forest >/dev/null &&
  QUADER_OUTPUTS='$O/we' $PY '$T/evaluate-model/evaluate.py' --model '$O/wm/model.joblib' --data '$O/wine/test.csv' --min-accuracy 0 >/dev/null"
check "  outputs.json has accuracy and f1" json_has "$O/we/outputs.json" accuracy f1
check "--min-accuracy 1.01 exits 1 with a clear message" sh -c "
  out=\$(QUADER_OUTPUTS='$O/we2' $PY '$T/evaluate-model/evaluate.py' --model '$O/wm/model.joblib' --data '$O/wine/test.csv' --min-accuracy 1.01 2>&1); rc=\$?
  echo \"\$out\" | tail -2; [ \$rc -eq 1 ] && echo \"\$out\" | grep -q 'is below --min-accuracy 1.01'"
check "a missing model file fails with a message" sh -c "
  out=\$(QUADER_OUTPUTS='$O/we3' $PY '$T/evaluate-model/evaluate.py' --model /nonexistent.joblib --data '$O/wine/test.csv' 2>&1); rc=\$?
  echo \"\$out\"; [ \$rc -ne 0 ] && echo \"\$out\" | grep -q 'error: model not found'"

echo "== python-script"
PS="$T/python-script/run_script.py"
check "runs code in \$QUADER_OUTPUTS with --args as sys.argv" sh -c "
  out=\$(QUADER_OUTPUTS='$O/ps' $PY '$PS' --script 'import os, sys
open(\"made.txt\", \"w\").write(\"x\")
print(os.getcwd(), sys.argv[1:])' --args '--name \"a b\" -v'); echo \"\$out\"
  [ \"\$out\" = \"$O/ps ['--name', 'a b', '-v']\" ] && test -f '$O/ps/made.txt'"
check "without --args, sys.argv is just the script" sh -c "
  [ \"\$(QUADER_OUTPUTS='$O/ps2' $PY '$PS' --script 'import sys; print(sys.argv)')\" = \"['script.py']\" ]"
check "a script's exception fails the task" sh -c "! QUADER_OUTPUTS='$O/ps3' $PY '$PS' --script 'raise RuntimeError(\"boom\")' 2>/dev/null"
check "sys.exit(3) in the script exits 3" sh -c "QUADER_OUTPUTS='$O/ps4' $PY '$PS' --script 'import sys; sys.exit(3)'; [ \$? -eq 3 ]"
check "a syntax error fails with a message" sh -c "
  out=\$(QUADER_OUTPUTS='$O/ps5' $PY '$PS' --script 'x = (' 2>&1); rc=\$?; echo \"\$out\"
  [ \$rc -ne 0 ] && echo \"\$out\" | grep -q 'error: the script does not compile'"

echo "== hello pipeline (examples/pipelines/hello.yaml)"
W3="$TMP/hello"
check "first -> second both exit 0" $SIM run "$PIPELINES/hello.yaml" "$TEMPLATES" "$W3"
if [ -f "$W3/summary.json" ]; then
  check "first's outputs.json is {\"greeting\": \"hello\"}" json_expr "$W3/first/outputs/outputs.json" "d == {'greeting': 'hello'}"
  check "second printed 'hello, world' ({{tasks.first.outputs.greeting}} and --args)" grep_log "$W3/second/log" "^hello, world$"
fi

echo "== pipelines: documents"
check "iris: daily 02:00 Asia/Shanghai catchup latest; train retries; timeouts; global_env" $PY - "$PIPELINES/iris.yaml" <<'PY'
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
s = p["schedule"]
assert (s["cron"], s["timezone"], s["catchup"]) == ("0 2 * * *", "Asia/Shanghai", "latest"), s
t = {x["name"]: x for x in p["tasks"]}
assert t["train"]["retries"] >= 1 and t["train"]["timeout"], t["train"]
assert p["global_env"], "no global_env"
PY
check "hello: no schedule, two tasks" $PY -c "
import yaml; p = yaml.safe_load(open('$PIPELINES/hello.yaml')); assert 'schedule' not in p and len(p['tasks']) == 2"
check "iris-model publishes to /mnt/{{runner}}/models/iris, the path examples/services/iris-model.yaml.example serves" \
  $PY - "$PIPELINES/iris-model.yaml" "$ROOT/examples/services/iris-model.yaml.example" <<'PY'
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
t = {x["name"]: x for x in p["tasks"]}
assert set(t["publish"]["depends_on"]) == {"train", "evaluate"}, t["publish"]
args = t["publish"]["args"]["--args"].split()
assert args[1] == "/mnt/{{runner}}/models/iris", args
s = yaml.safe_load(open(sys.argv[2]))
assert s["kind"] == "InferenceService" and s["model_path"] == "/mnt/admin/models/iris/model.joblib", s
assert (s["model_name"], s["model_version"], s["image"]) == ("iris", "v1", "quader/predict:1"), s
assert s["health"] == "8080:/health" and s["ports"] == [8080], s
PY

echo "== experiments: trial code standalone (the nni module without a server prints results)"
E="$TMP/e"
mkdir -p "$E"
check "extract sklearn-sgd's main.py" $PY -c "
import yaml; d = yaml.safe_load(open('$ROOT/examples/experiments/sklearn-sgd.yaml'))
open('$E/main.py', 'w').write(d['files']['main.py'])"
check "sklearn-sgd trains with --name=value arguments and reports a final accuracy" \
  env PYTHONPATH="$ROOT/sdk/python" NNI_OUTPUT_DIR="$E" $PY "$E/main.py" --alpha=0.0005 --eta0=0.05 --epochs=5 \
  --learning_rate=optimal --loss=hinge --penalty=l2 --l1_ratio=0.15
check "sklearn-sgd's final accuracy is above 0.8" $PY -c "
import json; r = json.load(open('$E/result.json')); print(r); assert r['val_accuracy'] > 0.8"

echo
if [ "$FAILS" -ne 0 ]; then echo "FAILED: $FAILS check(s)"; exit 1; fi
echo "all checks passed"
