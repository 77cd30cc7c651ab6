#!/usr/bin/env bash
# demo.sh — the README's walk-through, end to end, with the built CLI (`pnpm build` first):
#   1. make the base images from the host (no network): busybox:latest, node:16 (a stand-in
#      built from the host's Node.js, see scripts/node-image.sh)
#   2. containers: lab run --rm busybox echo hello; lab run -d --name web -p 8080:80 busybox
#      httpd -f -p 80 and a GET of it on 127.0.0.1:8080; lab pause, lab ps -a, lab kill, lab rm
#   3. lab build --build-arg PROFILE=prod -t hello-node examples/hello-node
#   4. lab run -d --network bridge -p $PORT:3000 hello-node, then GET http://127.0.0.1:$PORT/
#      and check it answers with the prod profile; when the bridge network or port publishing
#      is not available here, say so loudly and check with a one-shot `lab run --rm` that
#      requests the server from inside the container instead
#   5. stop and remove the container (and the state dir, when the demo made it)
#
# Usage: sudo scripts/demo.sh
#   LAB_ROOT=DIR   lab state dir to use (kept afterwards); default a new temp dir, removed
#   PORT=3000      host port to publish for the app; WEB_PORT=8080 for the httpd container
# Every step that fails stops the demo with a message and a non-zero exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
main=$repo/apps/lab/dist/main.js
port=${PORT:-3000}
web_port=${WEB_PORT:-8080}
name=hello-node-demo-$$
web=web-demo-$$

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { printf '\n\033[1;31mdemo.sh: FAILED: %s\033[0m\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (containers need namespaces and mounts)"
[ -f "$main" ] || fail "$main not found: run 'pnpm build' first"

made_root=''
if [ -n "${LAB_ROOT:-}" ]; then
  root=$LAB_ROOT
else
  root=$(mktemp -d "${TMPDIR:-/tmp}/lab-demo.XXXXXX")
  made_root=1
fi
export LAB_ROOT=$root
lab() { node "$main" --root "$root" "$@"; }
# GET a URL (curl when installed, else node's http.get); fails on errors and non-2xx answers
get() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -m 2 "$1"
  else
    node -e 'require("http").get(process.argv[1], { timeout: 2000 }, (r) => { let b = ""; r.on("data", (c) => (b += c)); r.on("end", () => { process.stdout.write(b); process.exit(r.statusCode < 300 ? 0 : 1); }); }).on("error", () => process.exit(1));' "$1"
  fi
}

cleanup() {
  local rc=$?
  lab rm -f "$name" "$web" >/dev/null 2>&1 || true
  if [ -n "$made_root" ]; then
    # unmount anything left below the temp root (deepest first), then remove it
    awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo |
      sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$root"
  fi
  if [ "$rc" = 0 ]; then printf '\n\033[1;32mdemo.sh: all steps passed\033[0m\n'; fi
}
trap cleanup EXIT

step "lab state in $root"

step "1a. busybox:latest from the host's busybox-static (scripts/busybox-image.sh)"
bash "$here/busybox-image.sh" --root "$root" || fail "busybox image"

step "1b. node:16 from the host's node $(node --version), yarn and busybox (scripts/node-image.sh)"
bash "$here/node-image.sh" --root "$root" || fail "node image"
lab images || fail "lab images"

step "2a. lab run --rm busybox echo hello"
out=$(lab run --rm busybox echo hello) || fail "lab run --rm busybox echo hello"
echo "$out"
[ "$out" = hello ] || fail "expected hello, got '$out'"

step "2b. lab run -d --name web -p $web_port:80 busybox httpd -f -p 80"
lab run -d --name "$web" -p "$web_port:80" busybox httpd -f -p 80 || fail "lab run -d httpd"
page=''
for _ in $(seq 50); do
  if page=$(get "http://127.0.0.1:$web_port/etc/hostname" 2>/dev/null); then break; fi
  sleep 0.1
done
[ -n "$page" ] || fail "busybox httpd did not answer on 127.0.0.1:$web_port"
echo "GET http://127.0.0.1:$web_port/etc/hostname -> $page (the container's hostname)"

step "2c. lab pause, lab ps -a, lab kill, lab rm"
lab pause "$web" || fail "lab pause"
lab ps -a --filter "name=$web" | tee /dev/stderr | grep -q '(Paused)' || fail "ps -a does not show the container paused"
lab kill "$web" || fail "lab kill"
for _ in $(seq 50); do
  lab ps -a --filter "name=$web" --format '{{.Status}}' | grep -q '^Exited (137)' && break
  sleep 0.1
done
lab ps -a --filter "name=$web"
lab rm "$web" || fail "lab rm"

step "3. lab build --build-arg PROFILE=prod -t hello-node examples/hello-node"
lab build --progress plain --build-arg PROFILE=prod -t hello-node "$repo/examples/hello-node" ||
  fail "lab build"
lab history hello-node || fail "lab history"

step "4. lab run -d --network bridge -p $port:3000 hello-node"
expect='profile=prod NODE_ENV=production'
if id=$(lab run -d --name "$name" --network bridge -p "$port:3000" hello-node); then
  echo "container $id"
  answer=''
  for _ in $(seq 50); do
    if answer=$(get "http://127.0.0.1:$port/" 2>/dev/null); then break; fi
    lab inspect --format '{{.State.Running}}' "$name" 2>/dev/null | grep -q true ||
      { lab logs "$name" >&2 || true; fail "the container stopped before it answered"; }
    sleep 0.2
  done
  echo "GET http://127.0.0.1:$port/ -> $answer"
  [[ $answer == *"$expect"* ]] || { lab logs "$name" >&2 || true; fail "expected '$expect' from the app, got '$answer'"; }
  lab ps --filter "name=$name" || true
  step "5. lab stop / lab rm"
  lab stop "$name" || fail "lab stop"
  lab rm "$name" || fail "lab rm"
else
  printf '\n\033[1;33mdemo.sh: WARNING: lab run -d --network bridge -p %s:3000 failed (no bridge network or port publishing here?); checking from inside a one-shot container instead\033[0m\n' "$port" >&2
  answer=$(lab run --rm --name "$name" hello-node sh -c \
    'yarn start >/dev/null 2>&1 & for i in $(seq 50); do wget -qO- http://127.0.0.1:3000/ 2>/dev/null && exit 0; sleep 0.2; done; exit 1') ||
    fail "the one-shot container did not get an answer from the app"
  echo "GET http://127.0.0.1:3000/ (inside the container) -> $answer"
  [[ $answer == *"$expect"* ]] || fail "expected '$expect' from the app, got '$answer'"
fi
