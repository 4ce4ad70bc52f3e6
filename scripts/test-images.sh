#!/usr/bin/env bash
# Builds the images the runtime tests use, without any registry:
#   localhost/quader-test:busybox  — Debian's static busybox with every applet linked.
# Idempotent: when the image exists it only checks (`podman image exists`, ~0.1 s).
# Uses whatever Podman configuration the caller passes (CONTAINERS_CONF); images go to
# Podman's default storage, which is where the docker-api runtime's service looks too.
# Needs: podman, busybox-static (scripts/install-deps.sh installs both).
set -euo pipefail

IMAGE=localhost/quader-test:busybox
BUSYBOX=${BUSYBOX:-/bin/busybox}

command -v podman >/dev/null || { echo "test-images: podman is not installed" >&2; exit 2; }
podman image exists "$IMAGE" && exit 0

# Serialise concurrent callers (parallel test binaries) on one lock.
exec 9>"${TMPDIR:-/tmp}/quader-test-images.lock"
flock 9
podman image exists "$IMAGE" && exit 0

if ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
  # `file` may be absent; ldd says "not a dynamic executable" for a static binary.
  ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic executable' ||
    { echo "test-images: $BUSYBOX is not a static busybox (install busybox-static)" >&2; exit 2; }
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,proc,sys,dev,root,var/www}
chmod 1777 "$root/tmp"
cp "$BUSYBOX" "$root/bin/busybox"
# What `busybox --install -s` does, but with links to /bin/busybox as seen inside the image
# (run on the host, --install would point the links at the host path of the copy).
for applet in $("$BUSYBOX" --list-full); do
  [[ $applet == bin/busybox ]] || ln -sf /bin/busybox "$root/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

echo "test-images: importing $IMAGE" >&2
tar -C "$root" -c . |
  podman import -q --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$IMAGE" >/dev/null
podman image exists "$IMAGE"
