#!/usr/bin/env bash
# Builds Quader's base images locally, without any registry:
#   quader/base:bookworm   debootstrap --variant=minbase, then `podman import`
#   quader/python:3.11     `podman build` of images/python/Containerfile FROM the base
#   quader/predict:1       `podman build` of images/predict/ FROM quader/python:3.11
#                          (predict_server.py, an HTTP predict server for joblib models)
#   quader/predict-torch:1 quader/predict:1 with Debian's python3-torch (TorchScript models)
#   quader/notebook:1      `podman build` of images/notebook/ FROM quader/python:3.11
#                          (Jupyter Notebook from Debian: notebooks of type jupyter)
#   quader/vscode:1        `podman build` of images/vscode/ FROM quader/python:3.11 with the
#                          host's Node 20 and code-server (scripts/install-code-server.sh):
#                          notebooks of type vscode; skipped when code-server is not installed
#   quader/server:latest   `podman build` of images/server/ FROM the base with build/quader and
#                          web/dist (`make build` first): the server for deploy/kubernetes/.
#                          Only on request (`server`), not part of `all`
# Each image carries the hash of its recipe in the label quader.recipe; an image
# whose recipe is unchanged is reused, a changed recipe rebuilds it.
#
#   scripts/build-images.sh [base|python|predict|predict-torch|notebook|vscode|server|all]   (default: all)
#
# Podman runs with a private containers.conf (runc, no default ulimits), as
# docs/images.md explains; /etc/containers is never touched.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-all}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
state=${QUADER_IMAGE_STATE:-$HOME/.cache/quader/images}
mkdir -p "$state"

conf="$state/containers.conf"
cat >"$conf" <<CONF
[containers]
default_ulimits = []
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$conf"

step() { printf '\n== %s\n' "$*" >&2; }
recipe_hash() { cat "$@" | sha256sum | cut -c1-16; }
current_hash() { podman image inspect --format '{{index .Labels "quader.recipe"}}' "$1" 2>/dev/null || true; }

build_base() {
  local image=quader/base:bookworm
  # The recipe: the package list and this function (not the whole script, so
  # adding an image to it does not rebuild the base).
  local hash; hash=$( (cat "$root/images/base/packages.txt"; declare -f build_base) | sha256sum | cut -c1-16)
  if [[ $(current_hash "$image") == "$hash" ]]; then
    echo "$image is up to date (recipe $hash)" >&2; return
  fi
  command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
  local rootfs="$state/rootfs-bookworm"
  rm -rf "$rootfs"
  local include; include=$(grep -v '^#' "$root/images/base/packages.txt" | xargs | tr ' ' ',')
  step "debootstrap bookworm (minbase) into $rootfs: a few minutes"
  debootstrap --variant=minbase --include="$include" bookworm "$rootfs" "$mirror" 2>&1 |
    awk '/^I: (Retrieving|Validating|Extracting|Unpacking|Configuring|Base system)/ { n++; if (n % 20 == 1 || /Base system/) print; fflush() }'
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  step "podman import as $image"
  tar -C "$rootfs" -c . | podman import \
    --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
    --change "LABEL quader.recipe=$hash" - "$image" >/dev/null
  rm -rf "$rootfs"
  echo "built $image (recipe $hash)" >&2
}

build_python() {
  local image=quader/python:3.11
  local base_id; base_id=$(podman image inspect --format '{{.Id}}' quader/base:bookworm)
  local hash; hash=$( (cat "$root/images/python/Containerfile"; echo "$base_id") | sha256sum | cut -c1-16)
  if [[ $(current_hash "$image") == "$hash" ]]; then
    echo "$image is up to date (recipe $hash)" >&2; return
  fi
  step "podman build $image: a few minutes (apt-get inside the image)"
  podman build --label "quader.recipe=$hash" -t "$image" -f "$root/images/python/Containerfile" "$root/images/python"
  echo "built $image (recipe $hash)" >&2
}

build_predict() {
  local image=quader/predict:1
  local python_id; python_id=$(podman image inspect --format '{{.Id}}' quader/python:3.11)
  local hash; hash=$( (cat "$root/images/predict/Containerfile" "$root/images/predict/predict_server.py"; echo "$python_id") |
    sha256sum | cut -c1-16)
  if [[ $(current_hash "$image") == "$hash" ]]; then
    echo "$image is up to date (recipe $hash)" >&2; return
  fi
  step "podman build $image"
  podman build --label "quader.recipe=$hash" -t "$image" -f "$root/images/predict/Containerfile" "$root/images/predict"
  echo "built $image (recipe $hash)" >&2
}

build_predict_torch() {
  local image=quader/predict-torch:1
  local predict_id; predict_id=$(podman image inspect --format '{{.Id}}' quader/predict:1)
  local hash; hash=$( (cat "$root/images/predict-torch/Containerfile"; echo "$predict_id") | sha256sum | cut -c1-16)
  if [[ $(current_hash "$image") == "$hash" ]]; then
    echo "$image is up to date (recipe $hash)" >&2; return
  fi
  step "podman build $image"
  podman build --label "quader.recipe=$hash" -t "$image" -f "$root/images/predict-torch/Containerfile" \
    "$root/images/predict-torch"
  echo "built $image (recipe $hash)" >&2
}

build_notebook() {
  local image=quader/notebook:1
  local python_id; python_id=$(podman image inspect --format '{{.Id}}' quader/python:3.11)
  local hash; hash=$( (cat "$root/images/notebook/Containerfile"; echo "$python_id") | sha256sum | cut -c1-16)
  if [[ $(current_hash "$image") == "$hash" ]]; then
    echo "$image is up to date (recipe $hash)" >&2; return
  fi
  step "podman build $image: a minute or two (apt-get inside the image)"
  podman build --label "quader.recipe=$hash" -t "$image" -f "$root/images/notebook/Containerfile" "$root/images/notebook"
  echo "built $image (recipe $hash)" >&2
}

# code-server 4.x needs Node 20 (Debian 12 has 18), and npm install builds native modules
# against the Node it runs on: the image takes the host's node and the code-server that
# scripts/install-code-server.sh installed, through a temporary build context.
build_vscode() {
  local image=quader/vscode:1
  local cs=${CODE_SERVER_PREFIX:-/opt/quader/code-server}
  local node; node=$(command -v node || true)
  if [[ ! -f "$cs/.quader-code-server-installed" || ! -f "$cs/node_modules/code-server/out/node/entry.js" ]]; then
    echo "skipping $image: code-server is not installed at $cs (run scripts/install-code-server.sh, then this again)" >&2
    return
  fi
  if [[ -z "$node" ]] || [[ $("$node" -p 'process.versions.node.split(".")[0]') != 20 ]]; then
    echo "skipping $image: the code-server at $cs needs the Node 20 it was installed with; node is ${node:-missing}${node:+ $("$node" --version)}" >&2
    return
  fi
  node=$(readlink -f "$node")
  local python_id; python_id=$(podman image inspect --format '{{.Id}}' quader/python:3.11)
  # The recipe: the Containerfile, the wrapper, the installed code-server (its version stamp
  # and lock file) and the node binary.
  local hash; hash=$( (cat "$root/images/vscode/Containerfile" "$root/images/vscode/code-server.sh" \
      "$cs/.quader-code-server-installed" "$cs/package-lock.json"; sha256sum <"$node"; echo "$python_id") |
    sha256sum | cut -c1-16)
  if [[ $(current_hash "$image") == "$hash" ]]; then
    echo "$image is up to date (recipe $hash)" >&2; return
  fi
  local ctx="$state/vscode-context"
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp "$root/images/vscode/Containerfile" "$root/images/vscode/code-server.sh" "$ctx/"
  # Hard links where /opt and the state dir share a file system (no 300 MB copy).
  cp -al "$node" "$ctx/node" 2>/dev/null || cp -a "$node" "$ctx/node"
  cp -al "$cs" "$ctx/code-server" 2>/dev/null || { rm -rf "$ctx/code-server"; cp -a "$cs" "$ctx/code-server"; }
  step "podman build $image: code-server $(cat "$cs/.quader-code-server-installed") from $cs, node $("$node" --version) from $node"
  local rc=0
  podman build --label "quader.recipe=$hash" -t "$image" -f "$ctx/Containerfile" "$ctx" || rc=$?
  rm -rf "$ctx"
  [[ $rc == 0 ]] || exit "$rc"
  echo "built $image (recipe $hash)" >&2
}

# The server image: build/quader (debug sections stripped: ~350 MB becomes ~13 MB, the
# symbol table stays) and web/dist in a temporary build context: the repository is not uploaded.
build_server() {
  local image=quader/server:latest
  local bin="$root/build/quader" capture="$root/build/quader-capture" web="$root/web/dist"
  if [[ ! -x "$bin" || ! -x "$capture" || ! -f "$web/index.html" ]]; then
    echo "cannot build $image: ${bin#"$root"/}, ${capture#"$root"/} or ${web#"$root"/}/index.html is missing; run \`make build\` first" >&2
    exit 1
  fi
  local base_id; base_id=$(podman image inspect --format '{{.Id}}' quader/base:bookworm)
  # The recipe: the Containerfile, the binary, every file of the web UI and the base.
  local hash; hash=$( (cat "$root/images/server/Containerfile"; sha256sum <"$bin"; sha256sum <"$capture";
      cd "$web" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; echo "$base_id") |
    sha256sum | cut -c1-16)
  if [[ $(current_hash "$image") == "$hash" ]]; then
    echo "$image is up to date (recipe $hash)" >&2; return
  fi
  local ctx="$state/server-context"
  rm -rf "$ctx"
  mkdir -p "$ctx/web"
  cp "$root/images/server/Containerfile" "$ctx/"
  if command -v strip >/dev/null; then strip --strip-debug -o "$ctx/quader" "$bin"; else cp "$bin" "$ctx/quader"; fi
  cp "$capture" "$ctx/quader-capture"
  cp -r "$web" "$ctx/web/dist"
  step "podman build $image: build/quader ($("$bin" version)) and web/dist, apt-get inside the image"
  local rc=0
  podman build --label "quader.recipe=$hash" -t "$image" -f "$ctx/Containerfile" "$ctx" || rc=$?
  rm -rf "$ctx"
  [[ $rc == 0 ]] || exit "$rc"
  echo "built $image (recipe $hash)" >&2
}

case $what in
  base) build_base ;;
  python) build_base; build_python ;;
  predict) build_base; build_python; build_predict ;;
  predict-torch) build_base; build_python; build_predict; build_predict_torch ;;
  notebook) build_base; build_python; build_notebook ;;
  vscode) build_base; build_python; build_vscode ;;
  server) build_base; build_server ;;
  all) build_base; build_python; build_predict; build_predict_torch; build_notebook; build_vscode ;;
  *) echo "usage: $0 [base|python|predict|predict-torch|notebook|vscode|server|all]" >&2; exit 2 ;;
esac
