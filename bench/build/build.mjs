// Image builds: lab build vs docker build (BuildKit of dockerd 20.10, `DOCKER_BUILDKIT=1`
// with the /usr/bin/docker 20.10 client) vs buildah bud, side by side in one run.
//
// Run (as root, after `pnpm build`): node bench/build/build.mjs [small|example|all]
//   RUNS=5 (default 3) runs per scenario; the median is printed, and the ratios lab/other.
//
// Contexts:
//   small    the small Dockerfile of /work/shared/reference-tools/BASELINES.md (FROM busybox,
//            ENV, WORKDIR, 2 COPY, a RUN, EXPOSE, CMD), recreated in a temp dir;
//   example  examples/hello-node (FROM node:16 — the host-Node stand-in of
//            scripts/node-image.sh —, COPY, RUN yarn install, RUN yarn build:prod, …), copied.
// Scenarios, each tool in turn (interleaved per run):
//   cold     no build cache: lab --no-cache; docker builder prune -af + --no-cache;
//            buildah --no-cache --layers (base images stay: nobody pulls);
//   warm     the same build again, everything cached;
//   changed  one source file changed (new content each run), then a cached build.
// All RUN steps use --network none. Every tool keeps its state in a temp dir removed at the end
// (dockerd: its own data root and socket, stopped by its pid).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(REPO, 'apps/lab/dist/main.js');
const RUNS = Number(process.env.RUNS ?? 3);
const which = process.argv[2] ?? 'all';
const EPOCH = '946684800';
const ULIMITS = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768'];

if (process.getuid?.() !== 0) {
  console.error('build.mjs: run as root (builds mount file systems)');
  process.exit(1);
}
if (!fs.existsSync(MAIN)) {
  console.error(`build.mjs: ${MAIN} not found: run 'pnpm build' first`);
  process.exit(1);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-bench-build-'));
const tag = `lab-bench-build-${process.pid}`;
const sock = `/run/${tag}.sock`;
const dockerEnv = {
  ...process.env,
  DOCKER_HOST: `unix://${sock}`,
  DOCKER_BUILDKIT: '1',
  DOCKER_CONFIG: path.join(tmp, 'docker-client'),
};
const labRoot = path.join(tmp, 'lab');
const buildahArgs = [
  '--root',
  path.join(tmp, 'buildah/root'),
  '--runroot',
  `/run/${tag}-buildah`,
  '--storage-driver',
  'overlay',
];
let dockerd;

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  }
  return r.stdout;
}
const lab = (args, env = {}) =>
  sh('node', [MAIN, '--root', labRoot, ...args], { env: { ...process.env, ...env } });
const docker = (args, opts = {}) => sh('/usr/bin/docker', args, { env: dockerEnv, ...opts });
const buildah = (args) => sh('buildah', [...buildahArgs, ...args]);

function timed(fn) {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function startDockerd() {
  fs.mkdirSync(dockerEnv.DOCKER_CONFIG, { recursive: true });
  const log = fs.openSync(path.join(tmp, 'dockerd.log'), 'a');
  dockerd = spawn(
    'dockerd',
    [
      '--data-root',
      path.join(tmp, 'docker'),
      '--exec-root',
      `/run/${tag}`,
      '--pidfile',
      `/run/${tag}.pid`,
      '-H',
      `unix://${sock}`,
      '--iptables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--bridge=none',
      '--storage-driver=overlay2',
    ],
    { stdio: ['ignore', log, log] },
  );
  for (let i = 0; i < 120; i++) {
    if (spawnSync('/usr/bin/docker', ['version'], { env: dockerEnv }).status === 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`dockerd did not start; see ${path.join(tmp, 'dockerd.log')}`);
}

async function stopDockerd() {
  if (dockerd === undefined || dockerd.exitCode !== null) return;
  const exited = new Promise((r) => dockerd.once('exit', r));
  dockerd.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  if (dockerd.exitCode === null) dockerd.kill('SIGKILL');
}

function unmountBelow(dir) {
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m]);
}

/** Loads a rootfs tar with its config changes into the three tools as NAME. */
function loadBase(rootfs, changes, name) {
  lab(['import', ...changes.flatMap((c) => ['--change', c]), rootfs, name], {
    SOURCE_DATE_EPOCH: EPOCH,
  });
  docker(['import', ...changes.flatMap((c) => ['--change', c]), rootfs, name]);
  const archive = path.join(tmp, 'base.tar');
  docker(['save', '-o', archive, name]);
  buildah(['pull', '-q', `docker-archive:${archive}`]);
  fs.rmSync(archive);
}

function smallContext() {
  const dir = path.join(tmp, 'ctx-small');
  fs.mkdirSync(path.join(dir, 'files/sub'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'Dockerfile'),
    [
      'FROM busybox',
      'ENV GREETING=hello APP_HOME=/app',
      'WORKDIR /app',
      'COPY files/ /app/files/',
      'COPY a.txt b.txt ./',
      'RUN echo "built $GREETING" > /app/built.txt',
      'EXPOSE 8080',
      'CMD ["cat", "/app/built.txt"]',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(dir, 'a.txt'), 'a\n');
  fs.writeFileSync(path.join(dir, 'b.txt'), 'b\n');
  fs.writeFileSync(path.join(dir, 'files/c.txt'), 'c\n');
  fs.writeFileSync(path.join(dir, 'files/sub/d.txt'), 'd\n');
  return { name: 'small (BASELINES.md)', dir, changed: 'a.txt', args: [] };
}

function exampleContext() {
  const dir = path.join(tmp, 'ctx-example');
  fs.cpSync(path.join(REPO, 'examples/hello-node'), dir, { recursive: true });
  return {
    name: 'example (examples/hello-node)',
    dir,
    changed: 'src/greeting.txt',
    args: ['--build-arg', 'PROFILE=prod'],
  };
}

const tools = [
  {
    name: 'lab',
    build: (ctx, cache) =>
      lab([
        'build',
        '-q',
        '--network',
        'none',
        ...(cache ? [] : ['--no-cache']),
        ...ctx.args,
        '-t',
        'bench',
        ctx.dir,
      ]),
  },
  {
    name: 'docker BuildKit',
    prepareCold: () => docker(['builder', 'prune', '-af']),
    build: (ctx, cache) =>
      docker([
        'build',
        '-q',
        '--network',
        'none',
        ...(cache ? [] : ['--no-cache']),
        ...ctx.args,
        '-t',
        'bench',
        ctx.dir,
      ]),
  },
  {
    name: 'buildah',
    build: (ctx, cache) =>
      buildah([
        'bud',
        '-q',
        '--runtime',
        'runc',
        ...ULIMITS,
        '--pull=never',
        '--network',
        'none',
        '--layers',
        ...(cache ? [] : ['--no-cache']),
        ...ctx.args,
        '-t',
        'bench',
        ctx.dir,
      ]),
  },
];

function benchContext(ctx) {
  console.log(`\n## ${ctx.name}: median of ${RUNS} runs (ms)\n`);
  const results = {};
  for (const t of tools) t.build(ctx, true); // prime every cache once (and check it builds)
  const scenarios = {
    cold: (t) => {
      t.prepareCold?.();
      return timed(() => t.build(ctx, false));
    },
    warm: (t) => timed(() => t.build(ctx, true)),
    changed: (t, run) => {
      fs.appendFileSync(path.join(ctx.dir, ctx.changed), `change ${t.name} ${run}\n`);
      return timed(() => t.build(ctx, true));
    },
  };
  for (const [scenario, measure] of Object.entries(scenarios)) {
    const times = Object.fromEntries(tools.map((t) => [t.name, []]));
    for (let run = 0; run < RUNS; run++) {
      for (const t of tools) times[t.name].push(measure(t, run));
    }
    results[scenario] = Object.fromEntries(tools.map((t) => [t.name, median(times[t.name])]));
  }
  const names = tools.map((t) => t.name);
  console.log(`| scenario | ${names.join(' | ')} | lab/BuildKit | lab/buildah |`);
  console.log(`|---|${names.map(() => '---:').join('|')}|---:|---:|`);
  for (const [scenario, r] of Object.entries(results)) {
    const cells = names.map((n) => r[n].toFixed(0));
    const bk = (r.lab / r['docker BuildKit']).toFixed(2);
    const ba = (r.lab / r.buildah).toFixed(2);
    console.log(`| ${scenario} | ${cells.join(' | ')} | ${bk}x | ${ba}x |`);
  }
  return results;
}

try {
  console.log(
    `build benchmark: ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(2)}, ` +
      `node ${process.version}, ${execFileSync('/usr/bin/docker', ['--version'], { encoding: 'utf8' }).trim()}, ` +
      `buildah ${sh('buildah', ['--version']).trim().split(' ')[2] ?? '?'}`,
  );
  console.log('goal: cold and warm each <= 1.0x BuildKit and <= 0.3x buildah');
  await startDockerd();
  const contexts = [];
  if (which === 'small' || which === 'all') {
    const rootfs = path.join(tmp, 'busybox-rootfs.tar');
    sh('bash', [path.join(REPO, 'scripts/busybox-image.sh'), '--rootfs-tar', rootfs]);
    loadBase(
      rootfs,
      ['CMD ["sh"]', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      'busybox:latest',
    );
    contexts.push(smallContext());
  }
  if (which === 'example' || which === 'all') {
    const script = path.join(REPO, 'scripts/node-image.sh');
    const rootfs = path.join(tmp, 'node-rootfs.tar');
    sh('bash', [script, '--rootfs-tar', rootfs]);
    const changes = sh('bash', [script, '--changes']).split('\n').filter(Boolean);
    loadBase(rootfs, changes, 'node:16');
    fs.rmSync(rootfs);
    contexts.push(exampleContext());
  }
  if (contexts.length === 0) throw new Error(`unknown context ${which}: use small, example or all`);
  // the clients' own start-up, part of every figure below
  const floor = { lab: [], docker: [], buildah: [] };
  for (let run = 0; run < RUNS; run++) {
    floor.lab.push(timed(() => sh('node', [MAIN, '--version'])));
    floor.docker.push(timed(() => docker(['--version'])));
    floor.buildah.push(timed(() => buildah(['--version'])));
  }
  console.log(
    `\nclient start-up floor (--version), median ms: lab ${median(floor.lab).toFixed(0)}, ` +
      `docker ${median(floor.docker).toFixed(0)}, buildah ${median(floor.buildah).toFixed(0)}`,
  );
  for (const ctx of contexts) benchContext(ctx);
} finally {
  await stopDockerd();
  spawnSync('buildah', [...buildahArgs, 'rm', '-a']);
  spawnSync('buildah', [...buildahArgs, 'rmi', '-af']);
  unmountBelow(tmp);
  unmountBelow(`/run/${tag}`);
  unmountBelow(`/run/${tag}-buildah`);
  for (const p of [`/run/${tag}`, `/run/${tag}-buildah`, `/run/${tag}.pid`, sock]) {
    fs.rmSync(p, { recursive: true, force: true });
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}
