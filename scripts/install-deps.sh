#!/usr/bin/env bash
# Installs every system package Quader needs to build, run and test.
# Idempotent: when everything is present it only checks (well under a second).
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git
  libboost-dev libboost-system-dev
  nlohmann-json3-dev libsqlite3-dev sqlite3 libspdlog-dev libfmt-dev libcli11-dev
  libyaml-cpp-dev libsodium-dev prometheus-cpp-dev libhowardhinnant-date-dev
  libgtest-dev libgmock-dev uuid-dev libssl-dev catatonit
  nodejs npm chromium
  wrk nginx-light haproxy curl procps ninja-build tzdata
  python3-numpy python3-sklearn python3-scipy python3-joblib python3-pandas python3-optuna python3-torch
  jupyter-notebook python3-ipykernel
  libeigen3-dev libpqxx-dev postgresql
  bubblewrap debootstrap
  podman runc conmon netavark aardvark-dns iptables busybox-static uidmap slirp4netns
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# node/npm may come from elsewhere than Debian (a newer npm is fine).
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi

if ((${#missing[@]})); then
  echo "quader: installing ${missing[*]}" >&2
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# VS Code notebooks: code-server from npm into /opt/quader/code-server (about
# 70 s the first time; a check of well under a second after). Optional: if it
# cannot be installed, VS Code notebooks fail with a reason saying so and
# everything else works (QUADER_SKIP_CODE_SERVER=1 skips it).
if [[ -z ${QUADER_SKIP_CODE_SERVER:-} ]]; then
  log=$(mktemp /tmp/quader-code-server-install-XXXXXX.log)
  if "$(dirname "$0")/install-code-server.sh" >"$log" 2>&1; then
    rm -f "$log"
  else
    echo "quader: code-server could not be installed (VS Code notebooks need it); see $log" >&2
  fi
fi
