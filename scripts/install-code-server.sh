#!/usr/bin/env bash
# Install code-server (VS Code in the browser) from npm into /opt/quader/code-server.
#
#   sudo scripts/install-code-server.sh
#
# Idempotent: when the pinned version is already installed it only checks the
# install (no network, no npm) and exits almost at once.
#
# Result:
#   /opt/quader/code-server/code-server      stable symlink -> node_modules/.bin/code-server
#   /opt/quader/code-server/bin/code-server  same, for tools that expect a bin/ folder
#   (node_modules/.bin/code-server -> ../code-server/out/node/entry.js, a Node script)
#
# Environment overrides (optional):
#   CODE_SERVER_VERSION  pinned code-server version (default below; 4.x needs Node 20)
#   CODE_SERVER_PREFIX   install prefix (default /opt/quader/code-server)
#
# Works offline from GitHub (only the Debian mirror and the npm registry are needed):
# code-server's postinstall runs `npm install` in lib/vscode, which pulls
# @vscode/ripgrep, whose own postinstall (lib/postinstall.js -> lib/download.js)
# downloads a prebuilt rg from the GitHub API. Before asking GitHub, download.js
# looks for a cached asset at
#     <os.tmpdir()>/vscode-ripgrep-cache-<package version>/ripgrep-<VERSION>-<target>.tar.gz
# (VERSION is a constant in postinstall.js, e.g. v13.0.0-10; target is e.g.
# x86_64-unknown-linux-musl) and, if present, runs `tar xvf <asset> -C bin/` and
# expects bin/rg. So we build that .tar.gz from Debian's /usr/bin/rg (package
# ripgrep) in a private TMPDIR used only for this npm install. The versions are
# read from the packages themselves (npm pack), so bumping the pin keeps working
# as long as @vscode/ripgrep keeps this cache layout (checked below).
set -euo pipefail

CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.100.3}"
PREFIX="${CODE_SERVER_PREFIX:-/opt/quader/code-server}"
APT_PACKAGES=(build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep)
REQUIRED_NODE_MAJOR=20

STAMP="$PREFIX/.quader-code-server-installed"
PKG_DIR="$PREFIX/node_modules/code-server"
ENTRY_REL="node_modules/.bin/code-server"

log() { echo "install-code-server: $*"; }
die() { echo "install-code-server: ERROR: $*" >&2; exit 1; }
trap 'echo "install-code-server: FAILED (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

# --- checks shared by the fast path and the install path -----------------------

missing_apt_packages() {
  # Prints the packages from APT_PACKAGES that are not installed ("ii").
  local installed
  installed="$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${APT_PACKAGES[@]}" 2>/dev/null \
    | awk '$2 == "ii" { print $1 }' || true)"
  local p
  for p in "${APT_PACKAGES[@]}"; do
    grep -qxF "$p" <<<"$installed" || echo "$p"
  done
}

check_node() {
  command -v node >/dev/null || die "node not found in PATH (code-server $CODE_SERVER_VERSION needs Node $REQUIRED_NODE_MAJOR)"
  command -v npm >/dev/null || die "npm not found in PATH"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [[ "$major" == "$REQUIRED_NODE_MAJOR" ]] \
    || die "code-server $CODE_SERVER_VERSION needs Node $REQUIRED_NODE_MAJOR, found $(node --version)"
}

# Returns 0 when the pinned version is fully installed. Only looks at files.
installed_ok() {
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$CODE_SERVER_VERSION" ]] || return 1
  grep -q "\"version\": *\"$CODE_SERVER_VERSION\"" "$PKG_DIR/package.json" 2>/dev/null || return 1
  [[ -x "$PREFIX/$ENTRY_REL" && -x "$PREFIX/code-server" && -x "$PREFIX/bin/code-server" ]] || return 1
  [[ -x "$PKG_DIR/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ]] || return 1
  [[ -f "$PKG_DIR/lib/vscode/node_modules/node-pty/build/Release/pty.node" ]] || return 1
  [[ -z "$(missing_apt_packages)" ]] || return 1
}

report() {
  log "code-server $CODE_SERVER_VERSION ready"
  echo "$PREFIX/code-server"
}

# --- fast path ------------------------------------------------------------------

check_node
if installed_ok; then
  log "already installed at the pinned version; nothing to do"
  report
  exit 0
fi

# --- system packages ------------------------------------------------------------

missing="$(missing_apt_packages | tr '\n' ' ')"
missing="${missing% }"
if [[ -n "$missing" ]]; then
  [[ "$(id -u)" == 0 ]] || die "missing Debian packages ($missing); run as root to install them"
  log "installing Debian packages: $missing"
  apt-get update || die "apt-get update failed"
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing \
    || die "apt-get install failed for: $missing"
fi
[[ -x /usr/bin/rg ]] || die "/usr/bin/rg missing although package ripgrep is installed"

# --- native build setup -----------------------------------------------------------

# node-gyp would otherwise download the Node headers from nodejs.org; use the ones
# shipped with this Node build when they match the running version.
node_ver="$(node -p 'process.versions.node')"
if [[ -f /usr/include/node/node_version.h ]]; then
  hdr_ver="$(awk '/#define NODE_(MAJOR|MINOR|PATCH)_VERSION/ { v = v (v ? "." : "") $3 } END { print v }' \
    /usr/include/node/node_version.h)"
  if [[ "$hdr_ver" == "$node_ver" ]]; then
    export npm_config_nodedir=/usr
  else
    log "warning: /usr/include/node is for Node $hdr_ver, running Node $node_ver; node-gyp may try to download headers"
  fi
fi

# node-pty's install script runs `npx node-gyp configure ...`; npx must be allowed to
# fetch node-gyp from the npm registry without a prompt (a user ~/.npmrc may say yes=false).
export npm_config_yes=true

WORK="$(mktemp -d /tmp/install-code-server.XXXXXX)"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

# --- seed @vscode/ripgrep's download cache with Debian's rg ------------------------

log "reading the @vscode/ripgrep version code-server $CODE_SERVER_VERSION uses"
( cd "$WORK" && npm pack --silent "code-server@$CODE_SERVER_VERSION" >/dev/null ) \
  || die "npm pack code-server@$CODE_SERVER_VERSION failed (is the npm registry reachable?)"
tar -xzf "$WORK/code-server-$CODE_SERVER_VERSION.tgz" -C "$WORK" package/lib/vscode/npm-shrinkwrap.json \
  || die "code-server tarball has no lib/vscode/npm-shrinkwrap.json"
rg_pkg_ver="$(node -p 'require(process.argv[1]).packages["node_modules/@vscode/ripgrep"].version' \
  "$WORK/package/lib/vscode/npm-shrinkwrap.json")" \
  || die "could not find @vscode/ripgrep in code-server's lib/vscode/npm-shrinkwrap.json"

( cd "$WORK" && npm pack --silent "@vscode/ripgrep@$rg_pkg_ver" >/dev/null ) \
  || die "npm pack @vscode/ripgrep@$rg_pkg_ver failed"
mkdir "$WORK/ripgrep"
tar -xzf "$WORK/vscode-ripgrep-$rg_pkg_ver.tgz" -C "$WORK/ripgrep"
rg_js="$WORK/ripgrep/package/lib"
rg_tag="$(sed -n "s/^const VERSION = '\([^']*\)'.*/\1/p" "$rg_js/postinstall.js")"
[[ -n "$rg_tag" ]] || die "cannot read VERSION from @vscode/ripgrep@$rg_pkg_ver lib/postinstall.js; revisit the cache trick"
for needle in "vscode-ripgrep-cache-\${packageVersion}" "['ripgrep', opts.version, opts.target].join('-')" \
  "'.tar.gz'" "'tar', ['xvf'"; do
  grep -qF "$needle" "$rg_js/download.js" \
    || die "@vscode/ripgrep@$rg_pkg_ver download.js no longer matches the expected cache layout ($needle); revisit the cache trick"
done
case "$(node -p 'process.arch')" in
  x64) rg_target=x86_64-unknown-linux-musl ;;
  arm64) rg_target=aarch64-unknown-linux-musl ;;
  *) die "unsupported architecture $(node -p 'process.arch') for the ripgrep cache trick" ;;
esac

export TMPDIR="$WORK/tmp"   # os.tmpdir() for the npm install and its scripts
rg_cache="$TMPDIR/vscode-ripgrep-cache-$rg_pkg_ver"
mkdir -p "$rg_cache" "$WORK/rgbin"
install -m 755 /usr/bin/rg "$WORK/rgbin/rg"
tar -czf "$rg_cache/ripgrep-$rg_tag-$rg_target.tar.gz" -C "$WORK/rgbin" rg
log "seeded $rg_cache/ripgrep-$rg_tag-$rg_target.tar.gz with /usr/bin/rg ($(/usr/bin/rg --version 2>/dev/null | sed -n 1p))"

# --- npm install --------------------------------------------------------------------

mkdir -p "$PREFIX"
rm -f "$STAMP"
log "npm install code-server@$CODE_SERVER_VERSION into $PREFIX (compiles native modules; takes minutes)"
npm install --prefix "$PREFIX" --unsafe-perm --no-audit --no-fund --save-exact \
  "code-server@$CODE_SERVER_VERSION" \
  || die "npm install code-server@$CODE_SERVER_VERSION failed (see output above)"

# --- verify and link -----------------------------------------------------------------

[[ -x "$PREFIX/$ENTRY_REL" ]] || die "$PREFIX/$ENTRY_REL missing after npm install"
"$PKG_DIR/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" --version >/dev/null \
  || die "bundled ripgrep ($PKG_DIR/lib/vscode/node_modules/@vscode/ripgrep/bin/rg) does not run"
[[ -f "$PKG_DIR/lib/vscode/node_modules/node-pty/build/Release/pty.node" ]] \
  || die "node-pty native module was not built (terminal would not work)"
# code-server writes a default config.yaml even for --version: keep that out of $HOME.
got="$(XDG_CONFIG_HOME="$WORK/xdg-config" XDG_DATA_HOME="$WORK/xdg-data" "$PREFIX/$ENTRY_REL" --version 2>&1)" \
  || die "'code-server --version' failed: $got"
grep -q "^$CODE_SERVER_VERSION " <<<"$got" || die "unexpected 'code-server --version' output: $got"

ln -sfn "$ENTRY_REL" "$PREFIX/code-server"
mkdir -p "$PREFIX/bin"
ln -sfn "../$ENTRY_REL" "$PREFIX/bin/code-server"
echo "$CODE_SERVER_VERSION" > "$STAMP"
installed_ok || die "post-install check failed"
report
