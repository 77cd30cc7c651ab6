#!/usr/bin/env bash
# Installs everything lab and its tests need on Debian 12 with Node 20 (as root):
# the system packages, pnpm, the workspace's dependencies, and a build.
# Idempotent: safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  busybox-static   # the offline base image
  runc             # an OCI runtime for lab's --runtime and as a test oracle
  conmon tini      # conmon: keeper of runc containers (exit status); tini-static: --init
  skopeo umoci     # OCI image tools: interop oracles
  podman buildah   # reference engines: interop oracles and benchmarks
  docker.io        # dockerd: the build oracle
  docker-registry  # a local registry for the registry client
  uidmap attr iproute2 util-linux tmux hyperfine jq
  iptables         # lab's bridge network: published ports are DNAT rules
  zstd openssl     # zstd: oracle for zstd layers; openssl: fast sha256 of big layers
  xz-utils bzip2   # the build oracle's ADD cases (xz and bzip2 archives)
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# yarn 1.22.22 for the node:16 stand-in image (scripts/node-image.sh builds offline from this cache)
bash scripts/node-image.sh --fetch

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "10.34.9" ]; then
  echo "setup: installing pnpm 10.34.9"
  npm install -g pnpm@10.34.9 >/dev/null
fi

export TURBO_TELEMETRY_DISABLED=1
if [ "${CI:-}" = "true" ]; then
  pnpm install --frozen-lockfile
else
  pnpm install
fi
pnpm build
