/* global process, console */
// Loading an image archive into an empty store: `lab image load` (the built CLI, a fresh empty
// root each run) vs `podman load` (a fresh private store each run), same archive, same run.
// Two archives: the busybox image (one 2.1 MB layer, made by scripts/busybox-image.sh + lab
// save) and a generated 100 MB image of 5 layers (20 MB of incompressible files each),
// both docker-archives.
// Run (as root): pnpm build && node bench/layers/load.mjs   (RUNS=7 BIG_RUNS=5 to change)
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const main = join(repo, 'apps/lab/dist/main.js');
const RUNS = Number(process.env.RUNS ?? 7);
const BIG_RUNS = Number(process.env.BIG_RUNS ?? 5);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const work = mkdtempSync(join(tmpdir(), 'lab-bench-load-'));
try {
  // 1. busybox docker-archive, made by lab
  const root = join(work, 'root');
  execFileSync('bash', [join(repo, 'scripts/busybox-image.sh'), '--root', root], {
    stdio: 'ignore',
  });
  const busybox = join(work, 'busybox.tar');
  run('node', [main, '--root', root, 'save', '-o', busybox, 'busybox']);

  // 2. a 100 MB, 5-layer docker-archive (classic layout), built with GNU tar
  const big = join(work, 'big');
  mkdirSync(big);
  const diffIds = [];
  const layerPaths = [];
  for (let i = 0; i < 5; i++) {
    const dir = join(big, `l${i}`, `data${i}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 20; f++) writeFileSync(join(dir, `f${f}.bin`), randomBytes(1024 * 1024));
    const tar = join(big, `layer${i}.tar`);
    run('tar', [
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '-C',
      join(big, `l${i}`),
      '-cf',
      tar,
      '.',
    ]);
    rmSync(join(big, `l${i}`), { recursive: true });
    diffIds.push(`sha256:${createHash('sha256').update(readFileSync(tar)).digest('hex')}`);
    layerPaths.push(`layer${i}.tar`);
  }
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '2000-01-01T00:00:00Z',
    config: { Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map(() => ({ created: '2000-01-01T00:00:00Z', created_by: 'bench layer' })),
  });
  const configHex = createHash('sha256').update(config).digest('hex');
  writeFileSync(join(big, `${configHex}.json`), config);
  writeFileSync(
    join(big, 'manifest.json'),
    JSON.stringify([
      { Config: `${configHex}.json`, RepoTags: ['bench/big:latest'], Layers: layerPaths },
    ]),
  );
  const bigArchive = join(work, 'big.tar');
  run('tar', ['-C', big, '-cf', bigArchive, 'manifest.json', `${configHex}.json`, ...layerPaths]);
  rmSync(big, { recursive: true });

  const labLoad = (archive) => {
    const r = mkdtempSync(join(work, 'lab-'));
    const t = performance.now();
    run('node', [main, '--root', r, 'load', '-q', '-i', archive]);
    const ms = performance.now() - t;
    rmSync(r, { recursive: true, force: true });
    return ms;
  };
  const podmanLoad = (archive) => {
    const s = mkdtempSync(join(work, 'podman-'));
    const store = [
      '--root',
      join(s, 'root'),
      '--runroot',
      join(s, 'runroot'),
      '--cgroup-manager',
      'cgroupfs',
      '--events-backend',
      'file',
    ];
    const t = performance.now();
    run('podman', [...store, 'load', '-q', '-i', archive]);
    const ms = performance.now() - t;
    spawnSync('podman', [...store, 'rmi', '-af'], { stdio: 'ignore' });
    rmSync(s, { recursive: true, force: true });
    return ms;
  };

  const rows = [];
  for (const [label, archive, runs] of [
    ['busybox (2.1 MB, 1 layer)', busybox, RUNS],
    ['generated (100 MB, 5 layers)', bigArchive, BIG_RUNS],
  ]) {
    labLoad(archive); // warm-up: page cache, node compile cache
    podmanLoad(archive);
    const lab = [];
    const podman = [];
    for (let i = 0; i < runs; i++) {
      // interleaved, so machine load hits both alike
      lab.push(labLoad(archive));
      podman.push(podmanLoad(archive));
    }
    rows.push({ label, runs, lab: median(lab), podman: median(podman) });
  }
  // the fixed cost every lab command pays (node start + module loading), for reading the ratio
  const floor = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    run('node', [main, '--version']);
    floor.push(performance.now() - t);
  }
  console.log(
    `load average: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
  console.log(
    '| archive (docker-archive) | runs | lab load median ms | podman load median ms | lab / podman |',
  );
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.label} | ${r.runs} | ${r.lab.toFixed(0)} | ${r.podman.toFixed(0)} | ${(r.lab / r.podman).toFixed(2)}x |`,
    );
  }
  console.log(
    `lab CLI floor (node apps/lab/dist/main.js --version): median ${median(floor).toFixed(0)} ms`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
