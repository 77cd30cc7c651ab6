// Container lifecycle through the CLI, side by side in one run (interleaved rounds):
//   lab (node apps/lab/dist/main.js, builtin runtime)   vs   podman (private --root/--runroot,
//   --runtime runc, --network none, the ulimits this host needs), plus the floors `runc run`
//   of a bundle and `node -e 0`. Operations: run --rm busybox true, create, start, pause,
//   unpause, stop -t 0, rm, ps -a. Then the resident memory (VmRSS) of what stays per running
//   container: lab's bash log monitor (+ its stderr reader) and keeper, podman's conmon.
// Needs root, podman, runc, busybox-static, and a build: `pnpm build`. RUNS=… to change rounds.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const LAB = path.join(repo, 'apps/lab/dist/main.js');
const RUNS = Number(process.env.RUNS ?? 6);
const WARMUP = 1;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-bench-containers-'));
const root = path.join(tmp, 'lab');
const proot = path.join(tmp, 'podman-root');
const prun = path.join(tmp, 'podman-run');

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
const lab = (...args) => sh('node', [LAB, '--root', root, ...args]);
const PODMAN_FLAGS = [
  '--root',
  proot,
  '--runroot',
  prun,
  '--runtime',
  'runc',
  '--storage-driver',
  'overlay',
  '--cgroup-manager',
  'cgroupfs',
  '--events-backend',
  'file',
];
const RUN_FLAGS = [
  '--ulimit',
  'nofile=20000:20000',
  '--ulimit',
  'nproc=32768:32768',
  '--network',
  'none',
];
const BRIDGE_FLAGS = RUN_FLAGS.slice(0, -2); // podman's default network (netavark bridge)
const podman = (...args) => sh('podman', [...PODMAN_FLAGS, ...args]);

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)] };
}
function time(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

try {
  // the same busybox image in both stores
  execFileSync('bash', [path.join(repo, 'scripts/busybox-image.sh'), '--root', root], {
    stdio: 'ignore',
  });
  const archive = path.join(tmp, 'busybox.tar');
  lab('save', '-o', archive, 'busybox');
  podman('load', '-q', '-i', archive);
  // runc floor: a bundle of the unpacked rootfs with `true`
  const bundle = path.join(tmp, 'bundle');
  fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
  const rootfsTar = path.join(tmp, 'rootfs.tar');
  execFileSync('bash', [path.join(repo, 'scripts/busybox-image.sh'), '--rootfs-tar', rootfsTar], {
    stdio: 'ignore',
  });
  sh('tar', ['-xf', rootfsTar, '-C', path.join(bundle, 'rootfs')]);
  sh('runc', ['spec', '-b', bundle]);
  const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['/bin/true'];
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
  const runcRoot = path.join(tmp, 'runc');
  let runcN = 0;

  const cases = {
    'run --rm --network none busybox true': {
      lab: () => lab('run', '--rm', '--network', 'none', 'busybox', 'true'),
      podman: () => podman('run', '--rm', ...RUN_FLAGS, 'busybox', 'true'),
    },
    'run --rm busybox true (default bridge network)': {
      lab: () => lab('run', '--rm', 'busybox', 'true'),
      podman: () => podman('run', '--rm', ...BRIDGE_FLAGS, 'busybox', 'true'),
    },
  };
  const floors = {
    'runc run (bundle, floor)': () =>
      sh('runc', ['--root', runcRoot, 'run', '-b', bundle, `b${runcN++}`]),
    'node -e 0 (floor)': () => sh('node', ['-e', '0']),
  };
  const samples = {};
  const add = (k, v) => (samples[k] ??= []).push(v);
  const ops = ['create', 'start', 'pause', 'unpause', 'stop -t 0', 'rm', 'ps -a'];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const keep = i >= WARMUP;
    for (const [name, c] of Object.entries(cases)) {
      const tl = time(c.lab);
      const tp = time(c.podman);
      if (keep) {
        add(`lab ${name}`, tl);
        add(`podman ${name}`, tp);
      }
    }
    for (const [name, f] of Object.entries(floors)) {
      const t = time(f);
      if (keep) add(name, t);
    }
    for (const [tool, cli, runFlags] of [
      ['lab', lab, ['--network', 'none']],
      ['podman', podman, RUN_FLAGS],
    ]) {
      let id = '';
      const t = {
        create: time(() => (id = cli('create', ...runFlags, 'busybox', 'sleep', '1000').trim())),
        start: time(() => cli('start', id)),
        pause: time(() => cli('pause', id)),
        unpause: time(() => cli('unpause', id)),
        'stop -t 0': time(() => cli('stop', '-t', '0', id)),
        rm: time(() => cli('rm', id)),
        'ps -a': time(() => cli('ps', '-a')),
      };
      if (keep) for (const op of ops) add(`${tool} ${op}`, t[op]);
    }
  }

  const floor = stats(samples['node -e 0 (floor)']).median;
  const row = (label, s, extra = '') =>
    console.log(
      `${label.padEnd(34)} median ${s.median.toFixed(0).padStart(5)} ms  min ${s.min.toFixed(0).padStart(5)} ms${extra}`,
    );
  console.log(
    `rounds: ${RUNS} (interleaved), load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (const name of [...Object.keys(cases), ...ops]) {
    const l = stats(samples[`lab ${name}`]);
    const p = stats(samples[`podman ${name}`]);
    row(`lab ${name}`, l, `   vs node -e 0: +${(l.median - floor).toFixed(0)} ms`);
    row(`podman ${name}`, p, `   lab/podman: ${(l.median / p.median).toFixed(2)}x`);
  }
  for (const name of Object.keys(floors)) row(name, stats(samples[name]));

  // resident memory per running container
  const rss = (pid) => {
    try {
      return Number(
        /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0,
      );
    } catch {
      return 0;
    }
  };
  const pss = (pid) => {
    try {
      return Number(
        /Pss:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0,
      );
    } catch {
      return 0;
    }
  };
  const children = (pid) => {
    try {
      return fs
        .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  };
  const id = lab('run', '-d', 'busybox', 'sleep', '1000').trim();
  const state = JSON.parse(
    fs.readFileSync(path.join(root, 'containers', id, 'state.json'), 'utf8'),
  );
  const pump = state.MonitorPid;
  const pumpKb = [pump, ...children(pump)].reduce((a, p) => a + rss(p), 0);
  const pumpPss = [pump, ...children(pump)].reduce((a, p) => a + pss(p), 0);
  const runtimeRec = JSON.parse(
    fs.readFileSync(path.join(root, 'runtime', 'builtin', id, 'state.json'), 'utf8'),
  );
  const keeperKb = rss(runtimeRec.keeperPid);
  const keeperPss = pss(runtimeRec.keeperPid);
  const pid = podman('run', '-d', ...RUN_FLAGS, 'busybox', 'sleep', '1000').trim();
  const conmonPid = Number(
    sh('pgrep', ['-f', `conmon.*${pid.slice(0, 12)}`])
      .trim()
      .split('\n')[0],
  );
  const mb = (kb) => (kb / 1024).toFixed(1);
  console.log(
    `resident per running container (RSS / PSS): lab log monitor (bash + stderr reader) ${mb(pumpKb)} / ${mb(pumpPss)} MB + keeper (busybox sh) ${mb(keeperKb)} / ${mb(keeperPss)} MB; podman conmon ${mb(rss(conmonPid))} / ${mb(pss(conmonPid))} MB`,
  );
  lab('rm', '-f', id);
  podman('rm', '-f', '-t', '0', pid);
} finally {
  spawnSync('podman', [...PODMAN_FLAGS, 'rm', '-af', '-t', '0'], { stdio: 'ignore' });
  spawnSync('podman', [...PODMAN_FLAGS, 'system', 'reset', '-f'], { stdio: 'ignore' });
  const ids = spawnSync('node', [LAB, '--root', root, 'ps', '-aq'], {
    encoding: 'utf8',
  }).stdout?.trim();
  if (ids)
    spawnSync('node', [LAB, '--root', root, 'rm', '-f', ...ids.split('\n')], { stdio: 'ignore' });
  for (const m of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const target = m.split(' ')[4];
    if (target?.startsWith(tmp)) spawnSync('umount', ['-l', target]);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}
