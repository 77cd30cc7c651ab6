// create + start + wait + delete of /bin/true from one bundle, side by side in one run:
//   lab builtin runtime (util-linux + busybox-static)   vs   `runc run` (the reference)
//   lab oci runtime (conmon + runc create/start/delete)  and the floor: bare `unshare … --root`.
// Needs root, runc, conmon, busybox-static; run `pnpm --filter @lab/oci --filter @lab/lifecycle build` first.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { createBuiltinRuntime, createOciRuntime, createSpec, writeBundle } = await import(
  path.resolve(here, '../../packages/lifecycle/dist/index.js')
);

const RUNS = Number(process.env.RUNS ?? 20);
const WARMUP = 3;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-bench-runtime-'));
const rootfs = path.join(tmp, 'rootfs');
for (const d of [
  'bin',
  'sbin',
  'usr/bin',
  'usr/sbin',
  'etc',
  'tmp',
  'root',
  'proc',
  'sys',
  'dev',
]) {
  fs.mkdirSync(path.join(rootfs, d), { recursive: true });
}
fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin/busybox'));
fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
execFileSync('chroot', [rootfs, '/bin/busybox', '--install', '-s']);
fs.writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
fs.writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\n');

const image = {
  architecture: 'amd64',
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: [] },
  config: { Cmd: ['true'] },
};

async function bundleFor(id) {
  const dir = path.join(tmp, 'bundles', id);
  await writeBundle(dir, await createSpec(image, { id, rootfs, cmd: ['/bin/true'] }));
  return dir;
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
}

/** Runs the cases interleaved (one of each per round), so load changes hit all of them alike. */
async function timeInterleaved(cases) {
  for (let i = 0; i < WARMUP; i++) for (const c of cases) await c.fn();
  const samples = cases.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    for (const [k, c] of cases.entries()) {
      const t0 = process.hrtime.bigint();
      await c.fn();
      samples[k].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return cases.map((c, k) => {
    const r = stats(samples[k]);
    console.log(
      `${c.label.padEnd(48)} min ${r.min.toFixed(1).padStart(6)}  median ${r.median.toFixed(1).padStart(6)}  max ${r.max.toFixed(1).padStart(6)} ms`,
    );
    return r;
  });
}

const builtin = createBuiltinRuntime({ root: path.join(tmp, 'state-builtin') });
const oci = createOciRuntime({ root: path.join(tmp, 'state-oci') });
const builtinBundle = await bundleFor('bench-builtin');
const ociBundle = await bundleFor('bench-oci');
const runcBundle = await bundleFor('bench-runc');

async function lifecycle(runtime, bundle, id) {
  await runtime.create(id, bundle);
  await runtime.start(id);
  const status = await runtime.wait(id);
  if (status.exitCode !== 0)
    throw new Error(`${runtime.name}: /bin/true exited ${status.exitCode}`);
  await runtime.delete(id);
}

console.log(
  `create+start+wait+delete of /bin/true, ${RUNS} interleaved rounds (+${WARMUP} warm-up), load ${os.loadavg()[0].toFixed(2)}`,
);
try {
  const [b, o, r, u] = await timeInterleaved([
    { label: 'lab builtin runtime', fn: () => lifecycle(builtin, builtinBundle, 'bench-builtin') },
    { label: 'lab oci runtime (conmon + runc)', fn: () => lifecycle(oci, ociBundle, 'bench-oci') },
    {
      label: 'runc run (foreground, reference)',
      fn: () => {
        const res = spawnSync(
          'runc',
          ['--root', path.join(tmp, 'runc-root'), 'run', '-b', runcBundle, 'bench-runc'],
          {
            stdio: 'ignore',
          },
        );
        if (res.status !== 0) throw new Error(`runc run exited ${res.status}`);
      },
    },
    {
      label: 'unshare -m -u -i -n -p -f --root (floor)',
      fn: () => {
        const res = spawnSync(
          'unshare',
          [
            '--mount',
            '--uts',
            '--ipc',
            '--net',
            '--pid',
            '--fork',
            `--root=${rootfs}`,
            '/bin/true',
          ],
          {
            stdio: 'ignore',
          },
        );
        if (res.status !== 0) throw new Error(`unshare exited ${res.status}`);
      },
    },
  ]);
  console.log(
    `\nmedian ratios: builtin / runc run = ${(b.median / r.median).toFixed(2)}, oci / runc run = ${(o.median / r.median).toFixed(2)}, builtin / floor = ${(b.median / u.median).toFixed(2)}`,
  );
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
