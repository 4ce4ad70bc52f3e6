#!/usr/bin/env bash
# `make run`: starts the platform with the examples loaded. Quader's base
# images (quader/python:3.11 for the example tasks and trials, quader/notebook:1
# for the notebook, quader/predict:1 for the model service) are built in the
# background when a container engine is there and they are missing: the
# server serves at once, and work waiting for an image starts once it exists
# (its reason says so meanwhile). Progress lines go to this terminal prefixed
# with [images]; the whole log is DATA/logs/images.log.
#
#   scripts/run.sh BUILD_DIR DATA LISTEN [RUNTIME]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build} data=${2:-./data} listen=${3:-127.0.0.1:8080} runtime=${4:-auto}
mkdir -p "$data/logs"

images_pid=
if [[ $runtime != process ]] && command -v podman >/dev/null && [[ -z ${QUADER_SKIP_IMAGES:-} ]]; then
  missing=()
  for image in quader/python:3.11 quader/notebook:1 quader/predict:1; do
    podman image exists "$image" 2>/dev/null || missing+=("$image")
  done
  if ((${#missing[@]})); then
    log="$data/logs/images.log"
    echo "[images] building ${missing[*]} in the background (about 10 minutes the first time; log: $log)"
    echo "[images] work that needs them waits and starts once they exist"
    # Its own process group, so that stopping the server stops the build too
    # (a later `make run` goes on from the images already built).
    setsid bash -c '
      root=$1 log=$2; shift 2
      for what in python notebook predict; do
        nice -n 10 "$root/scripts/build-images.sh" "$what" 2>&1 | tee -a "$log" |
          grep --line-buffered -E "^(== |built |.* is up to date)" | sed -u "s/^/[images] /"
        [[ ${PIPESTATUS[0]} == 0 ]] || { echo "[images] building $what failed: see $log"; exit 1; }
      done
      echo "[images] done: $*"' images "$root" "$log" "${missing[@]}" &
    images_pid=$!
    trap 'kill -- -"$images_pid" 2>/dev/null || true' EXIT
  fi
fi

exec_args=("$build/quader" server --data "$data" --listen "$listen" --apply "$root/examples")
[[ $runtime != auto ]] && exec_args+=(--runtime "$runtime")
[[ -n ${GATEWAY_LISTEN:-} ]] && exec_args+=(--gateway-listen "$GATEWAY_LISTEN")
"${exec_args[@]}"
