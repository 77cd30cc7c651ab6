/**
 * The build oracle: every Dockerfile of ./cases.ts (and the example app under examples/) is
 * built by docker — dockerd 20.10's BuildKit, `docker build --network none` — and by `lab build`
 * from the same context and the same base images, and the two images must agree on the config
 * fields of {@link CONFIG_FIELDS}, on their history (created_by and empty-layer flags) and on
 * their file trees (paths, types, modes, owners, contents, symlink targets).
 *
 * Base images: the same rootfs tar (scripts/busybox-image.sh, scripts/node-image.sh) goes into
 * both, `docker import` and `lab import`, with the same --change instructions.
 *
 * Needs root and dockerd (apt docker.io); skips with the reason printed when either is missing
 * or dockerd does not start. Every normalisation is listed in ./README.md.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  lutimesSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_CHANGES, isRoot, REPO, runLab } from '../harness.js';
import {
  CASES,
  type ContextEntry,
  type OracleBuild,
  type OracleCase,
  type TreeDifferences,
} from './cases.js';
import { startDockerd, type Dockerd } from './dockerd.js';
import { CONTEXT_MTIME, readImageArchive, type ImageView } from './image-tree.js';

const EPOCH = '946684800';
if (!isRoot) console.warn('build oracle skipped: it needs root (dockerd, lab build mounts)');

/** Runs the lab CLI in process; throws with its stderr on a non-zero exit. */
async function lab(root: string, args: string[], env: Record<string, string> = {}) {
  return (await labOutput(root, args, env)).stdout;
}

async function labOutput(root: string, args: string[], env: Record<string, string> = {}) {
  const r = await runLab(args, { root, env, cwd: REPO, version: 'oracle' });
  if (r.code !== 0) throw new Error(`lab ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

function writeEntry(dir: string, rel: string, entry: ContextEntry, scratch: string): void {
  const abs = join(dir, rel);
  mkdirSync(dirname(abs), { recursive: true });
  if (typeof entry === 'string') {
    writeFileSync(abs, entry);
    chmodSync(abs, 0o644);
    utimesSync(abs, CONTEXT_MTIME, CONTEXT_MTIME);
  } else if ('content' in entry) {
    writeFileSync(abs, entry.content);
    chmodSync(abs, entry.mode);
    utimesSync(abs, CONTEXT_MTIME, CONTEXT_MTIME);
  } else if ('symlink' in entry) {
    symlinkSync(entry.symlink, abs);
    lutimesSync(abs, CONTEXT_MTIME, CONTEXT_MTIME);
  } else if ('dir' in entry) {
    mkdirSync(abs, { recursive: true });
    if (entry.mode !== undefined) chmodSync(abs, entry.mode);
    utimesSync(abs, CONTEXT_MTIME, CONTEXT_MTIME);
  } else {
    const staging = mkdtempSync(join(scratch, 'tar-'));
    for (const [p, e] of Object.entries(entry.tar)) writeEntry(staging, p, e, scratch);
    const owner = String(entry.owner ?? 0);
    execFileSync('tar', [
      '-C',
      staging,
      '--sort=name',
      '--mtime=@946684800',
      `--owner=${owner}`,
      `--group=${owner}`,
      '--numeric-owner',
      { gzip: '-czf', xz: '-cJf', bzip2: '-cjf', none: '-cf' }[entry.compress ?? 'none'],
      abs,
      ...Object.keys(entry.tar)
        .map((p) => p.split('/')[0]!)
        .filter((p, i, all) => all.indexOf(p) === i)
        .sort(),
    ]);
    rmSync(staging, { recursive: true, force: true });
    utimesSync(abs, CONTEXT_MTIME, CONTEXT_MTIME);
  }
}

/** Lines only one side has: what a failing comparison shows. */
function treeDiff(docker: ImageView, labView: ImageView): TreeDifferences {
  const d = new Set(docker.tree);
  const l = new Set(labView.tree);
  return {
    onlyDocker: docker.tree.filter((x) => !l.has(x)),
    onlyLab: labView.tree.filter((x) => !d.has(x)),
  };
}

/**
 * What yarn leaves behind that differs from run to run, whoever builds: `yarn run` leaves its
 * shim directory `/tmp/yarn--<time>-<random>` behind, and v8-compile-cache's files (V8 code
 * cache `.BLOB` and its `.MAP`) are not deterministic. Those directories are dropped and the
 * cache files' sizes and hashes masked (their paths, modes and owners still count).
 */
function yarnRunNormalised(view: ImageView): ImageView {
  return {
    ...view,
    tree: view.tree
      .filter((l) => !l.startsWith('/tmp/yarn--'))
      .map((l) =>
        /^\/tmp\/v8-compile-cache-[^ ]* file /.test(l)
          ? l.replace(/ \d+ [0-9a-f]{16}$/, ' * *')
          : l,
      ),
  };
}

/**
 * The build steps of BuildKit's plain progress (`#N [stage i/n] INSTRUCTION` … `#N CACHED`),
 * sorted (BuildKit prints vertices in the order it solves them), each `CACHED <instruction>` or `BUILT <instruction>`; FROM and internal vertices left
 * out (docker 20.10 names the base `FROM docker.io/library/busybox`, lab with its tag).
 */
function stepsOf(progress: string): string[] {
  const names = new Map<string, string>();
  const cached = new Set<string>();
  for (const line of progress.split('\n')) {
    const named = /^#(\d+) \[(?:[^\]]+ )?\d+\/\d+\] (.*)$/.exec(line);
    if (named !== null && !names.has(named[1]!)) names.set(named[1]!, named[2]!.trim());
    const hit = /^#(\d+) CACHED$/.exec(line);
    if (hit !== null) cached.add(hit[1]!);
  }
  return [...names]
    .filter(([, name]) => !name.startsWith('FROM '))
    .map(([id, name]) => `${cached.has(id) ? 'CACHED' : 'BUILT'} ${name}`)
    .sort();
}

function describeBuild(b: OracleBuild): string {
  const parts = [];
  if (b.target !== undefined) parts.push(`--target ${b.target}`);
  for (const [k, v] of Object.entries(b.buildArgs ?? {})) parts.push(`--build-arg ${k}=${v}`);
  return parts.length === 0 ? 'default target' : parts.join(' ');
}

function buildFlags(b: OracleBuild, secretFile: string): string[] {
  const flags: string[] = [];
  if (b.secret !== undefined) {
    writeFileSync(secretFile, b.secret);
    flags.push('--secret', `id=tok,src=${secretFile}`);
  }
  if (b.target !== undefined) flags.push('--target', b.target);
  for (const [k, v] of Object.entries(b.buildArgs ?? {})) flags.push('--build-arg', `${k}=${v}`);
  return flags;
}

describe.skipIf(!isRoot)('build oracle: lab build agrees with docker build (BuildKit)', () => {
  let tmp: string;
  let root: string;
  let dockerd: Dockerd | undefined;
  let skipReason: string | undefined;
  let serial = 0;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lab-build-oracle-'));
    root = join(tmp, 'lab');
    const started = await startDockerd(join(tmp, 'docker'));
    if (!started.ok) {
      skipReason = started.reason;
      console.warn(`build oracle skipped: ${skipReason}`);
      return;
    }
    dockerd = started.dockerd;
    const rootfs = join(tmp, 'busybox-rootfs.tar');
    execFileSync('bash', [join(REPO, 'scripts/busybox-image.sh'), '--rootfs-tar', rootfs]);
    await Promise.all([
      dockerd.docker([
        'import',
        ...BUSYBOX_CHANGES.flatMap((c) => ['--change', c]),
        rootfs,
        'busybox:latest',
      ]),
      lab(
        root,
        ['import', ...BUSYBOX_CHANGES.flatMap((c) => ['--change', c]), rootfs, 'busybox:latest'],
        { SOURCE_DATE_EPOCH: EPOCH },
      ),
    ]);
  }, 180_000);

  afterAll(async () => {
    await dockerd?.stop();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }, 120_000);

  /** Builds `context` with both, saves both images and reads them the same way. */
  async function buildBoth(
    context: string,
    b: OracleBuild,
    tag: string | undefined,
  ): Promise<{ docker: ImageView; lab: ImageView }> {
    const d = dockerd!;
    const name = tag ?? `oracle-${++serial}`;
    const flags = buildFlags(b, join(tmp, `${name}.secret`));
    await Promise.all([
      d.docker(['build', '--network', 'none', '-q', ...flags, '-t', name, context]),
      lab(root, ['build', '--network', 'none', '-q', ...flags, '-t', name, context]),
    ]);
    const dockerTar = join(tmp, `${name}.docker.tar`);
    const labTar = join(tmp, `${name}.lab.tar`);
    await Promise.all([
      d.docker(['save', '-o', dockerTar, name]),
      lab(root, ['save', '-o', labTar, name]),
    ]);
    const [docker, labView] = await Promise.all([
      readImageArchive(dockerTar, join(tmp, `${name}.docker`)),
      readImageArchive(labTar, join(tmp, `${name}.lab`)),
    ]);
    rmSync(dockerTar, { force: true });
    rmSync(labTar, { force: true });
    return { docker, lab: labView };
  }

  function contextFor(c: OracleCase): string {
    const dir = mkdtempSync(join(tmp, 'ctx-'));
    for (const [p, e] of Object.entries(c.context)) writeEntry(dir, p, e, tmp);
    writeFileSync(join(dir, 'Dockerfile'), c.dockerfile);
    utimesSync(join(dir, 'Dockerfile'), CONTEXT_MTIME, CONTEXT_MTIME);
    return dir;
  }

  for (const c of CASES) {
    for (const b of c.builds ?? [{}]) {
      it(`${c.name} (${describeBuild(b)})`, async (t) => {
        if (dockerd === undefined) {
          t.skip(skipReason);
          return;
        }
        const context = contextFor(c);
        const built = await buildBoth(context, b, c.tag);
        const labView = built.lab;
        let docker = built.docker;
        if (c.oracleMountStubs !== undefined) {
          const stubs = c.oracleMountStubs.map((p) => `${p} dir 0755 0:0`);
          expect(docker.tree.filter((l) => stubs.includes(l))).toEqual(stubs);
          docker = { ...docker, tree: docker.tree.filter((l) => !stubs.includes(l)) };
        }
        expect(labView.config).toEqual(docker.config);
        if (b.knownHistory !== undefined) {
          const { docker: from, lab: to } = b.knownHistory;
          expect(docker.history.filter((h) => from.includes(h))).toEqual(from);
          docker = {
            ...docker,
            history: docker.history.map((h) => (from.includes(h) ? to[from.indexOf(h)]! : h)),
          };
        }
        expect(labView.history).toEqual(docker.history);
        expect(treeDiff(docker, labView)).toEqual(
          b.knownDifferences ?? { onlyDocker: [], onlyLab: [] },
        );
        for (const pattern of c.expect ?? []) {
          expect(
            docker.tree.filter((l) => pattern.test(l)),
            String(pattern),
          ).toHaveLength(1);
        }
        expect(docker.tree.length).toBeGreaterThan(0);
      }, 120_000);
    }
  }

  it('cache: the steps answered from the cache after each change are the ones BuildKit reuses', async (t) => {
    if (dockerd === undefined) {
      t.skip(skipReason);
      return;
    }
    const d = dockerd;
    const ctx = mkdtempSync(join(tmp, 'cache-'));
    writeFileSync(
      join(ctx, 'Dockerfile'),
      [
        'FROM busybox',
        'ARG V=1',
        'ENV GREETING=hello',
        'WORKDIR /cache-app',
        'COPY files/ /cache-app/files/',
        'COPY a.txt b.txt ./',
        'RUN echo "built $GREETING" > built.txt',
        'RUN echo "v=$V" > v.txt',
        'COPY c.txt .',
        'CMD ["cat", "built.txt"]',
        '',
      ].join('\n'),
    );
    mkdirSync(join(ctx, 'files/sub'), { recursive: true });
    for (const [p, text] of [
      ['a.txt', 'a\n'],
      ['b.txt', 'b\n'],
      ['c.txt', 'c\n'],
      ['files/sub/d.txt', 'd\n'],
    ] as const) {
      writeFileSync(join(ctx, p), text);
    }
    const build = async (args: string[] = []) => {
      const flags = ['build', '--network', 'none', '--progress', 'plain', ...args, ctx];
      const [dockerRun, labRun] = await Promise.all([
        d.dockerOutput(flags),
        labOutput(root, flags),
      ]);
      return { docker: stepsOf(dockerRun.stderr), lab: stepsOf(labRun.stderr) };
    };
    await build(); // fills both caches; earlier cases may already hold some of these steps
    // [what, change → extra build flags, steps BuildKit must rebuild]
    const changes: [string, () => string[], number][] = [
      ['nothing changed', () => [], 0],
      [
        'a.txt touched (mtime only)',
        () => {
          utimesSync(join(ctx, 'a.txt'), 1_000_000_000, 1_000_000_000);
          return [];
        },
        0,
      ],
      [
        'a.txt content changed',
        () => {
          writeFileSync(join(ctx, 'a.txt'), 'a changed\n');
          return [];
        },
        4,
      ],
      [
        'b.txt mode changed',
        () => {
          chmodSync(join(ctx, 'b.txt'), 0o600);
          return [];
        },
        4,
      ],
      ['--build-arg V=2 (every RUN after the ARG sees it)', () => ['--build-arg', 'V=2'], 3],
      [
        'c.txt content changed (last COPY)',
        () => {
          writeFileSync(join(ctx, 'c.txt'), 'c changed\n');
          return ['--build-arg', 'V=2'];
        },
        1,
      ],
      [
        'a.txt, b.txt and V back to the first build',
        () => {
          writeFileSync(join(ctx, 'a.txt'), 'a\n');
          chmodSync(join(ctx, 'b.txt'), 0o644);
          writeFileSync(join(ctx, 'c.txt'), 'c\n');
          return [];
        },
        0,
      ],
    ];
    for (const [what, change, rebuilt] of changes) {
      const args = change();
      const steps = await build(args);
      expect(steps.docker, `docker's steps after: ${what}`).toHaveLength(6);
      expect(
        steps.docker.filter((x) => x.startsWith('BUILT ')),
        `docker's rebuilt steps after: ${what}`,
      ).toHaveLength(rebuilt);
      expect(steps.lab, `after: ${what}`).toEqual(steps.docker);
    }
  }, 180_000);

  it('examples/hello-node (the seed Dockerfile) on the node:16 stand-in, PROFILE=prod', async (t) => {
    if (dockerd === undefined) {
      t.skip(skipReason);
      return;
    }
    const rootfs = join(tmp, 'node-rootfs.tar');
    const script = join(REPO, 'scripts/node-image.sh');
    execFileSync('bash', [script, '--rootfs-tar', rootfs]);
    const changes = execFileSync('bash', [script, '--changes'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    await Promise.all([
      dockerd.docker(['import', ...changes.flatMap((c) => ['--change', c]), rootfs, 'node:16']),
      lab(root, ['import', ...changes.flatMap((c) => ['--change', c]), rootfs, 'node:16'], {
        SOURCE_DATE_EPOCH: EPOCH,
      }),
    ]);
    rmSync(rootfs, { force: true });
    const { docker, lab: labView } = await buildBoth(
      join(REPO, 'examples/hello-node'),
      { buildArgs: { PROFILE: 'prod' } },
      'hello-node',
    );
    expect(labView.config).toEqual(docker.config);
    expect(labView.history).toEqual(docker.history);
    expect(treeDiff(yarnRunNormalised(docker), yarnRunNormalised(labView))).toEqual({
      onlyDocker: [],
      onlyLab: [],
    });
    expect(labView.tree.some((l) => l.startsWith('/app/dist/build.json file'))).toBe(true);
  }, 240_000);
});
