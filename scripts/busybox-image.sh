#!/usr/bin/env bash
# busybox-image.sh — build the `busybox:latest` image from the host's static busybox, with no
# network, reproducibly, and import it into a lab root.
#
# Usage:
#   scripts/busybox-image.sh [--root DIR] [NAME]        # import into DIR (default $LAB_ROOT)
#   scripts/busybox-image.sh --rootfs-tar FILE          # only write the rootfs tar to FILE
#
# Needs: /bin/busybox from Debian `busybox-static` (a static binary, so it runs in a chroot
# with nothing else), GNU tar, chroot (root), node, and a built lab (`pnpm build`) for the
# import step (`node apps/lab/dist/main.js import`).
#
# The rootfs is the one of /work/shared/reference-tools/BASELINES.md:
#   /bin/busybox + applet symlinks from `busybox --install -s` run in a chroot
#   (/bin, /sbin, /usr/bin, /usr/sbin, /linuxrc), empty /proc /sys /dev /root,
#   /tmp mode 1777, /etc/passwd and /etc/group with root and nobody,
#   every mtime 2000-01-01T00:00:00Z (946684800), owners 0:0.
# The layer tar is deterministic (GNU tar: sorted names, PAX format without atime/ctime,
# numeric owner 0:0, fixed mtimes), and the import runs with SOURCE_DATE_EPOCH=946684800 so
# the config's `created` is fixed too: the image ID is the same on every machine that has
# the same busybox-static package.
# Config: Cmd ["sh"], Env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin,
# amd64 (the host's architecture) / linux.
set -euo pipefail

EPOCH=946684800
BUSYBOX=${BUSYBOX:-/bin/busybox}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
root=${LAB_ROOT:-}
rootfs_tar=''
name='busybox:latest'

while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift 2 ;;
    --root=*) root=${1#--root=}; shift ;;
    --rootfs-tar) rootfs_tar=$2; shift 2 ;;
    --rootfs-tar=*) rootfs_tar=${1#--rootfs-tar=}; shift ;;
    -h|--help) sed -n '2,24p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "busybox-image.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) name=$1; shift ;;
  esac
done

if [ ! -x "$BUSYBOX" ]; then
  echo "busybox-image.sh: $BUSYBOX not found: apt-get install busybox-static" >&2
  exit 1
fi
if ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' && ! ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic'; then
  echo "busybox-image.sh: $BUSYBOX is not statically linked: apt-get install busybox-static" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/busybox-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
R=$work/rootfs
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,proc,sys,dev}
cp "$BUSYBOX" "$R/bin/busybox"
chmod 0755 "$R/bin/busybox"
chroot "$R" /bin/busybox --install -s
chmod 1777 "$R/tmp"
chmod 0700 "$R/root"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$R/etc/group"
chmod 0644 "$R/etc/passwd" "$R/etc/group"
find "$R" -exec touch -h -d "@$EPOCH" {} +

out=${rootfs_tar:-$work/rootfs.tar}
# Entry names without a leading "./", sorted bytewise, PAX without atime/ctime records.
(cd "$R" && LC_ALL=C ls -A | LC_ALL=C sort) >"$work/top"
tar -C "$R" --sort=name --format=pax \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner \
  -cf "$out" -T "$work/top"

if [ -n "$rootfs_tar" ]; then
  exit 0
fi

main=$repo/apps/lab/dist/main.js
if [ ! -f "$main" ]; then
  echo "busybox-image.sh: $main not found: run 'pnpm build' first" >&2
  exit 1
fi
args=()
if [ -n "$root" ]; then args+=(--root "$root"); fi
SOURCE_DATE_EPOCH=$EPOCH node "$main" "${args[@]}" import \
  --change 'CMD ["sh"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --message 'busybox-static rootfs' \
  "$out" "$name"
