#!/usr/bin/env bash
# node-image.sh — assemble a `node:16` base image from the host's Node.js, with no network at
# image build time, reproducibly, and import it into a lab root.
#
# Usage:
#   scripts/node-image.sh [--root DIR] [--no-npm] [NAME]   # import into DIR (default $LAB_ROOT), NAME default node:16
#   scripts/node-image.sh --rootfs-tar FILE [--no-npm]     # only write the rootfs tar to FILE
#   scripts/node-image.sh --changes                        # print the config changes, one a line
#   scripts/node-image.sh --fetch                          # only fill the yarn cache (needs npm's registry)
#
# The tag is a stand-in: the image holds whatever Node.js the host has (`command -v node`,
# v20 on the project machine), not Node 16. It is laid out like the official image:
#   /usr/local/bin/node              the host's node binary
#   /lib/…, /lib64/ld-linux-*.so.2   the shared libraries `ldd` names and the dynamic loader
#   /usr/local/lib/node_modules/npm  the host's npm (skip with --no-npm), /usr/local/bin/{npm,npx}
#   /opt/yarn-v1.22.22               yarn classic, /usr/local/bin/{yarn,yarnpkg}
#   /bin/busybox + applets           /bin/sh and the usual tools (Debian busybox-static)
#   /etc/passwd, /etc/group          root, node (1000), nobody; /home/node owned by 1000:1000
#   /tmp (1777), /root (0700), empty /proc /sys /dev
# Every mtime is 2000-01-01T00:00:00Z (946684800), owners 0:0 except /home/node; the layer tar
# is deterministic (GNU tar: sorted names, PAX without atime/ctime) and the import runs with
# SOURCE_DATE_EPOCH=946684800, so the image ID only depends on the host's files.
# Config (see --changes): Env PATH=…, NODE_VERSION, YARN_VERSION; Cmd ["node"].
#
# yarn comes from `npm pack yarn@1.22.22`, fetched once into $LAB_CACHE (default
# /var/tmp/lab-cache) — the only step that reaches the network (npm's registry); the image
# build itself is offline. Needs: busybox-static, GNU tar, chroot (root), ldd, node, and a built
# lab (`pnpm build`) for the import step.
set -euo pipefail

EPOCH=946684800
YARN_VERSION=1.22.22
BUSYBOX=${BUSYBOX:-/bin/busybox}
NODE=${NODE:-$(command -v node)}
CACHE=${LAB_CACHE:-/var/tmp/lab-cache}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
root=${LAB_ROOT:-}
rootfs_tar=''
name='node:16'
with_npm=1
mode=import

die() { echo "node-image.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift 2 ;;
    --root=*) root=${1#--root=}; shift ;;
    --rootfs-tar) rootfs_tar=$2; mode=tar; shift 2 ;;
    --rootfs-tar=*) rootfs_tar=${1#--rootfs-tar=}; mode=tar; shift ;;
    --no-npm) with_npm=0; shift ;;
    --changes) mode=changes; shift ;;
    --fetch) mode=fetch; shift ;;
    -h|--help) sed -n '2,28p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "node-image.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) name=$1; shift ;;
  esac
done

[ -n "$NODE" ] && [ -x "$NODE" ] || die "no node binary found (set NODE=/path/to/node)"
NODE=$(readlink -f "$NODE")
node_version=$("$NODE" --version)

changes() {
  printf '%s\n' \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "ENV NODE_VERSION=${node_version#v}" \
    "ENV YARN_VERSION=$YARN_VERSION" \
    'CMD ["node"]'
}
if [ "$mode" = changes ]; then changes; exit 0; fi

yarn_tgz=$CACHE/yarn-$YARN_VERSION.tgz
if [ ! -s "$yarn_tgz" ]; then
  mkdir -p "$CACHE"
  echo "node-image.sh: fetching yarn@$YARN_VERSION into $CACHE (npm registry)" >&2
  (cd "$CACHE" && npm pack "yarn@$YARN_VERSION" --pack-destination "$CACHE" >/dev/null) ||
    die "npm pack yarn@$YARN_VERSION failed: check the npm registry is reachable, or put yarn-$YARN_VERSION.tgz in $CACHE"
fi
if [ "$mode" = fetch ]; then exit 0; fi

[ -x "$BUSYBOX" ] || die "$BUSYBOX not found: apt-get install busybox-static"
case "$(ldd "$BUSYBOX" 2>&1 || true)" in *'not a dynamic'*) ;; *) die "$BUSYBOX is not statically linked: apt-get install busybox-static" ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/node-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
R=$work/rootfs
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,usr/local/lib,etc,tmp,root,proc,sys,dev,opt,home/node}

# busybox: /bin/sh and the applets
cp "$BUSYBOX" "$R/bin/busybox"
chmod 0755 "$R/bin/busybox"
chroot "$R" /bin/busybox --install -s

# node and the libraries it links (ldd prints "name => /path (addr)" or "/path (addr)")
install -m 0755 "$NODE" "$R/usr/local/bin/node"
ldd "$NODE" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | while read -r lib; do
  dest=$R$lib
  mkdir -p "$(dirname "$dest")"
  cp -L "$lib" "$dest"
  chmod 0755 "$dest"
done
in_root() { env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root "$(command -v chroot)" "$R" "$@"; }
in_root /usr/local/bin/node -e 'process.exit(0)' || die "the copied node does not start in the rootfs (missing library?)"

# npm from the host's node installation (…/lib/node_modules/npm next to …/bin/node)
if [ "$with_npm" = 1 ]; then
  npm_dir=$(dirname "$(dirname "$NODE")")/lib/node_modules/npm
  if [ -f "$npm_dir/bin/npm-cli.js" ]; then
    mkdir -p "$R/usr/local/lib/node_modules"
    cp -a "$npm_dir" "$R/usr/local/lib/node_modules/npm"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$R/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$R/usr/local/bin/npx"
  else
    echo "node-image.sh: no npm at $npm_dir; the image has no npm" >&2
  fi
fi

# yarn classic, laid out like the official image
mkdir -p "$R/opt/yarn-v$YARN_VERSION"
tar -xzf "$yarn_tgz" -C "$R/opt/yarn-v$YARN_VERSION" --strip-components=1 --no-same-owner
ln -s "/opt/yarn-v$YARN_VERSION/bin/yarn" "$R/usr/local/bin/yarn"
ln -s "/opt/yarn-v$YARN_VERSION/bin/yarnpkg" "$R/usr/local/bin/yarnpkg"
in_root /usr/local/bin/yarn --version >/dev/null || die "yarn does not run in the rootfs"

cat >"$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000::/home/node:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$R/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nobody:x:65534:
EOF
chmod 0644 "$R/etc/passwd" "$R/etc/group"
chmod 1777 "$R/tmp"
chmod 0700 "$R/root"
chown -R 0:0 "$R"
chown 1000:1000 "$R/home/node"
# the yarn/node checks above may have left caches behind
# (and a redirect to /dev/null inside the chroot creates a plain file there).
rm -rf "$R/root/.cache" "$R/root/.yarnrc" "$R/usr/local/share" "$R/tmp/"* "$R/dev/"*
find "$R" -exec touch -h -d "@$EPOCH" {} +

out=${rootfs_tar:-$work/rootfs.tar}
(cd "$R" && LC_ALL=C ls -A | LC_ALL=C sort) >"$work/top"
tar -C "$R" --sort=name --format=pax \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  --mtime="@$EPOCH" --numeric-owner \
  -cf "$out" -T "$work/top"

if [ "$mode" = tar ]; then
  exit 0
fi

main=$repo/apps/lab/dist/main.js
[ -f "$main" ] || die "$main not found: run 'pnpm build' first"
args=()
if [ -n "$root" ]; then args+=(--root "$root"); fi
change_args=()
while IFS= read -r c; do change_args+=(--change "$c"); done < <(changes)
SOURCE_DATE_EPOCH=$EPOCH node "$main" "${args[@]}" import \
  "${change_args[@]}" \
  --message "host node $node_version + yarn $YARN_VERSION + busybox-static (stand-in for node:16)" \
  "$out" "$name"
