#!/usr/bin/env bash
# Checks that validate.mjs passes good manifests and fails bad ones with the right reason and
# exit status, then validates Quader's own deployment manifests (deploy/kubernetes/*.yaml).
# Exit 0: all as expected; 1: the validator misbehaved (or a deploy manifest is invalid);
# 77: its npm packages are not installed (skip).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
fx=$here/fixtures

if ! command -v node >/dev/null; then
  echo "selftest: node is not installed; run scripts/install-deps.sh" >&2
  exit 77
fi
if [[ ! -d $here/node_modules/kubernetes-models || ! -d $here/node_modules/@kubernetes-models/istio ]]; then
  echo "selftest: $here/node_modules is missing; run make test" \
       "(or: cd tests/kube/validate && npm ci)" >&2
  exit 77
fi

failures=0
out=

# expect WANT_EXIT DESCRIPTION -- FILE... : runs the validator, checks its exit status.
expect() {
  local want=$1 what=$2; shift 3
  out=$(node "$here/validate.mjs" "$@" 2>&1)
  local got=$?
  if [[ $got -ne $want ]]; then
    echo "FAIL: $what: exit $got, want $want; output:" >&2
    sed 's/^/    /' <<<"$out" >&2
    failures=$((failures + 1))
    return 1
  fi
  echo "ok: $what (exit $got)"
}

# has TEXT...: each TEXT must occur in the last output (a fixed string).
has() {
  local t
  for t in "$@"; do
    if ! grep -qF -- "$t" <<<"$out"; then
      echo "FAIL: output lacks: $t; output:" >&2
      sed 's/^/    /' <<<"$out" >&2
      failures=$((failures + 1))
    fi
  done
}

# lines PREFIX N: exactly N output lines start with PREFIX.
lines() {
  local n
  n=$(grep -c -- "^$1" <<<"$out")
  if [[ $n -ne $2 ]]; then
    echo "FAIL: $n lines start with '$1', want $2; output:" >&2
    sed 's/^/    /' <<<"$out" >&2
    failures=$((failures + 1))
  fi
}

expect 0 "good.yaml: every kind passes" -- "$fx/good.yaml" && lines "ok  " 17 && lines "FAIL" 0
has "ok  Pod train-1" "ok  VirtualService echo" "ok  HorizontalPodAutoscaler echo"

expect 0 "good.json ({\"manifests\": [...]})" -- "$fx/good.json" && lines "ok  " 2

expect 1 "missing required field" -- "$fx/bad-missing-containers.yaml"
has "FAIL Deployment no-containers: spec.template.spec.containers: required field missing"

expect 1 "wrong type" -- "$fx/bad-wrong-type.yaml"
has 'FAIL Deployment wrong-type: spec.replicas: must be integer, got "two"'

expect 1 "unknown field" -- "$fx/bad-unknown-field.yaml"
has "FAIL Deployment unknown-field: spec.replica: unknown field (did you mean replicas?)"

expect 1 "unknown nested fields (through \$ref, arrays, Istio)" -- "$fx/bad-unknown-nested.yaml" && lines "FAIL" 2
has "spec.containers[0].imagePullPolicyy: unknown field" \
    "spec.containers[0].readinessProbe.httpGet.host_name: unknown field" \
    "FAIL VirtualService unknown-nested: spec.http[0].route[0].weigth: unknown field"

expect 1 "unknown kind" -- "$fx/bad-unknown-kind.yaml" && lines "FAIL" 2
has 'FAIL Deploymnet unknown-kind: unknown apiVersion/kind "apps/v1" "Deploymnet"' \
    'FAIL Widget unknown-group: unknown apiVersion/kind "example.com/v1" "Widget"'

# One bad file among good ones still fails the run; the good ones are still reported.
expect 1 "good and bad together" -- "$fx/good.json" "$fx/bad-unknown-field.yaml" && lines "ok  " 2 && lines "FAIL" 1

expect 2 "unparsable YAML" -- "$fx/bad-parse.yaml"
has "bad-parse.yaml: invalid YAML"
expect 2 "no arguments" --
expect 2 "missing file" -- "$fx/does-not-exist.yaml"

# Quader's own manifests for running it on Kubernetes.
for f in "$root"/deploy/kubernetes/*.yaml; do
  [[ -e $f ]] || continue
  expect 0 "deploy/kubernetes/$(basename "$f")" -- "$f" && lines "FAIL" 0
done

if ((failures)); then
  echo "selftest: $failures check(s) failed" >&2
  exit 1
fi
echo "selftest: all checks passed"
