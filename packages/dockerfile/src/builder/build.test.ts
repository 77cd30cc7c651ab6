import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  gc,
  importRootfs,
  openImageStore,
  openSnapshotter,
  openUnionView,
  unpackImageLayers,
  type UnionView,
} from '@lab/layers';
import { createBuiltinRuntime, createRunExecutor } from '@lab/lifecycle';
import { isLabError } from '@lab/oci';
import { createPatternMatcher, parseDockerignore } from '../lint/dockerignore.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  build,
  buildCacheReferences,
  formatBuildError,
  type BuildOptions,
  type BuildProgressEvent,
  type BuildResult,
} from './index.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('builder tests skipped: they need root (mounts, namespaces)');

let tmp = '';
let root = '';
let executor: BuildOptions['executor'];
let counter = 0;

async function context(files: Record<string, string>): Promise<string> {
  const dir = join(tmp, `ctx-${String(counter++)}`);
  for (const [name, body] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), body);
  }
  await mkdir(dir, { recursive: true });
  return dir;
}

function run(
  dockerfile: string,
  ctx: string | undefined,
  options: Partial<BuildOptions> = {},
): Promise<BuildResult> {
  return build({
    root,
    dockerfile,
    context: ctx === undefined ? { kind: 'none' } : { kind: 'directory', path: ctx },
    executor,
    ...options,
  });
}

/** A union view of an image's layers (unpacked as snapshots). */
async function viewOf(imageRoot: string, ref: string): Promise<UnionView> {
  const images = await openImageStore(imageRoot);
  const image = await images.resolve(ref);
  const snap = await openSnapshotter('overlay', imageRoot).catch(() =>
    openSnapshotter('native', imageRoot),
  );
  await unpackImageLayers(
    snap,
    image.layers.map((l, i) => ({
      chainID: image.chainIDs[i]!,
      diffID: image.diffIDs[i]!,
      open: () => images.content.reader(l.digest),
    })),
  );
  const top = image.chainIDs[image.chainIDs.length - 1]!;
  if (snap.layerFormat === 'overlay') {
    return openUnionView(await snap.layerStack(top), { format: 'overlay' });
  }
  return openUnionView([await snap.layerDir(top)], { format: 'merged' });
}

async function text(view: UnionView, p: string): Promise<string> {
  return (await view.readFile(p)).toString('utf8');
}

describe.skipIf(!isRoot)('build', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'lab-build-test-'));
    root = join(tmp, 'root');
    const rootfs = join(tmp, 'rootfs.tar');
    execFileSync('bash', [join(REPO, 'scripts/busybox-image.sh'), '--rootfs-tar', rootfs]);
    const images = await openImageStore(root);
    await importRootfs(images, createReadStream(rootfs), 'busybox:latest', {
      config: { Cmd: ['sh'], Env: [PATH_ENV] },
      created: '2000-01-01T00:00:00Z',
    });
    executor = createRunExecutor({
      runtime: createBuiltinRuntime({ root: join(tmp, 'runtime') }),
      bundleRoot: join(tmp, 'bundles'),
    });
  });
  afterAll(async () => {
    if (tmp !== '') await rm(tmp, { recursive: true, force: true });
  });

  it('applies every instruction to the config and history as BuildKit writes them', async () => {
    const ctx = await context({ 'a.txt': 'A\n', 'b.txt': 'B\n' });
    const r = await run(
      [
        'FROM busybox',
        'ARG V=one',
        'ENV GREETING=hello PLACE=world',
        'LABEL org.example.k=v',
        'WORKDIR /app',
        'COPY a.txt b.txt ./',
        'RUN echo "$GREETING $V" > out.txt',
        'EXPOSE 80 53/udp',
        'VOLUME /data',
        'STOPSIGNAL SIGTERM',
        'HEALTHCHECK --interval=5s CMD true',
        'USER nobody',
        'ENTRYPOINT ["sh"]',
        'CMD echo hi',
        'ONBUILD RUN true',
      ].join('\n'),
      ctx,
      { tags: ['all:latest', 'all:v1'] },
    );
    const c = r.config.config!;
    expect(c.Env).toEqual([PATH_ENV, 'GREETING=hello', 'PLACE=world']);
    expect(c.Labels).toEqual({ 'org.example.k': 'v' });
    expect(c.WorkingDir).toBe('/app');
    expect(c.ExposedPorts).toEqual({ '80/tcp': {}, '53/udp': {} });
    expect(c.Volumes).toEqual({ '/data': {} });
    expect(c.StopSignal).toBe('SIGTERM');
    expect(c.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'true'], Interval: 5_000_000_000 });
    expect(c.User).toBe('nobody');
    expect(c.Entrypoint).toEqual(['sh']);
    expect(c.Cmd).toEqual(['/bin/sh', '-c', 'echo hi']);
    expect(c.OnBuild).toEqual(['RUN true']);
    const history = r.config.history!.slice(1).map((h) => [h.created_by, h.empty_layer ?? false]);
    expect(history).toEqual([
      ['ARG V=one', true],
      ['ENV GREETING=hello PLACE=world', true],
      ['LABEL org.example.k=v', true],
      ['WORKDIR /app', false],
      ['COPY a.txt b.txt ./ # buildkit', false],
      ['RUN |1 V=one /bin/sh -c echo "$GREETING $V" > out.txt # buildkit', false],
      ['EXPOSE [53/udp 80/tcp]', true],
      ['VOLUME [/data]', true],
      ['STOPSIGNAL SIGTERM', true],
      [
        'HEALTHCHECK {Test:[CMD-SHELL true] Interval:5s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}',
        true,
      ],
      ['USER nobody', true],
      ['ENTRYPOINT ["sh"]', true],
      ['CMD ["/bin/sh" "-c" "echo hi"]', true],
    ]);
    expect(r.config.rootfs.diff_ids).toHaveLength(4);
    expect(r.names).toEqual(['docker.io/library/all:latest', 'docker.io/library/all:v1']);
    const view = await viewOf(root, 'all:v1');
    expect(await text(view, '/app/out.txt')).toBe('hello one\n');
    expect(await text(view, '/app/a.txt')).toBe('A\n');
    const a = await view.lstat('/app/a.txt');
    expect([a.uid, a.gid]).toEqual([0, 0]);
    expect((await view.lstat('/app')).mode & 0o7777).toBe(0o755);
  }, 120_000);

  it('answers a warm rebuild from the cache and invalidates from the first step reading a changed file', async () => {
    const ctx = await context({ 'a.txt': 'one\n', 'b.txt': 'bee\n' });
    const df = [
      'FROM busybox',
      'RUN echo base > /base',
      'COPY b.txt /b.txt',
      'RUN cat /b.txt > /b.copy',
      'COPY a.txt /a.txt',
      'RUN cat /a.txt > /a.copy',
    ].join('\n');
    const first = await run(df, ctx);
    expect(first.stats).toEqual({ steps: 5, cached: 0, runsExecuted: 3, layersWritten: 5 });
    const warm = await run(df, ctx);
    expect(warm.stats).toEqual({ steps: 5, cached: 5, runsExecuted: 0, layersWritten: 0 });
    expect(warm.config.rootfs.diff_ids).toEqual(first.config.rootfs.diff_ids);
    // a new mtime alone changes nothing
    await utimes(join(ctx, 'a.txt'), new Date(1e12), new Date(1e12));
    expect((await run(df, ctx)).stats.runsExecuted).toBe(0);
    await writeFile(join(ctx, 'a.txt'), 'two\n');
    const changed = await run(df, ctx, { tags: ['changed'] });
    expect(changed.stats).toEqual({ steps: 5, cached: 3, runsExecuted: 1, layersWritten: 2 });
    expect(await text(await viewOf(root, 'changed'), '/a.copy')).toBe('two\n');
    const noCache = await run(df, ctx, { noCache: true });
    expect(noCache.stats.runsExecuted).toBe(3);
    expect(noCache.stats.cached).toBe(0);
  }, 120_000);

  it('keeps RUN --mount=type=cache directories between builds', async () => {
    const df = [
      'FROM busybox',
      'RUN --mount=type=cache,target=/var/cache/x sh -c "echo x >> /var/cache/x/log; wc -l < /var/cache/x/log > /count"',
    ].join('\n');
    await run(df, undefined);
    const second = await run(df, undefined, { noCache: true, tags: ['cachemount'] });
    expect(second.stats.runsExecuted).toBe(1);
    const view = await viewOf(root, 'cachemount');
    expect((await text(view, '/count')).trim()).toBe('2');
    expect(await view.lookup('/var/cache/x')).toBeUndefined();
  }, 120_000);

  it('reports a failing step with its Dockerfile line and output, and leaves no image', async () => {
    const df = [
      'FROM busybox',
      'RUN echo fine',
      'RUN echo broken-output; exit 3',
      'RUN echo never',
    ].join('\n');
    const err = await run(df, undefined, { tags: ['failed:latest'] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isLabError(err)).toBe(true);
    expect((err as Error).message).toBe(
      'Dockerfile:3: process "/bin/sh -c echo broken-output; exit 3" did not complete successfully: exit code: 3',
    );
    const shown = formatBuildError(err, df);
    expect(shown).toContain('   3 | >>> RUN echo broken-output; exit 3');
    expect(shown).toContain('broken-output');
    const images = await openImageStore(root);
    await expect(images.get('failed:latest')).rejects.toSatisfy(isLabError);
    const typo = 'FROM busybox\nFORM busybox\n';
    const parseErr = await run(typo, undefined).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(formatBuildError(parseErr, typo)).toContain(
      '   2 | >>> FORM busybox\n--------------------\nERROR: failed to solve: dockerfile parse error on line 2: unknown instruction: FORM (did you mean FROM?)\n',
    );
  }, 120_000);

  it('gives the same image digest for two builds with SOURCE_DATE_EPOCH', async () => {
    const ctx = await context({ 'f.txt': 'same\n' });
    const df = 'FROM busybox\nCOPY f.txt /\nRUN echo made > /made\n';
    const one = await run(df, ctx, { sourceDateEpoch: 1_700_000_000, noCache: true });
    await new Promise((r) => setTimeout(r, 1100));
    await utimes(join(ctx, 'f.txt'), new Date(), new Date());
    const two = await run(df, ctx, { sourceDateEpoch: 1_700_000_000, noCache: true });
    expect(two.manifestDigest).toBe(one.manifestDigest);
    expect(one.config.created).toBe('2023-11-14T22:13:20Z');
  }, 120_000);

  it('builds only the stages the target needs; COPY --from takes a stage name, index or image', async () => {
    const df = [
      'FROM busybox AS builder',
      'RUN echo built > /artifact',
      'FROM no-such-image:anywhere AS broken',
      'RUN exit 1',
      'FROM scratch',
      'COPY --from=builder /artifact /by-name',
      'COPY --from=0 /artifact /by-index',
      'COPY --from=busybox /etc/passwd /passwd',
    ].join('\n');
    const r = await run(df, undefined, { tags: ['multi'] });
    expect(r.stagesBuilt.sort()).toEqual(['builder', 'stage-2']);
    const view = await viewOf(root, 'multi');
    expect(await text(view, '/by-name')).toBe('built\n');
    expect(await text(view, '/by-index')).toBe('built\n');
    expect(await text(view, '/passwd')).toContain('root:x:0:0');
    expect(r.config.config?.WorkingDir).toBe('/');
    await expect(run(df, undefined, { target: 'broken' })).rejects.toThrow(/no-such-image/);
  }, 120_000);

  it('runs ONBUILD triggers of the base image in a child build', async () => {
    await run('FROM busybox\nONBUILD RUN echo triggered > /onbuild\n', undefined, {
      tags: ['parent-onbuild'],
    });
    const names: string[] = [];
    const child = await run('FROM parent-onbuild\nRUN cat /onbuild\n', undefined, {
      tags: ['child-onbuild'],
      onProgress: (e) => {
        if (e.type === 'start') names.push(e.name);
      },
    });
    expect(names).toContain('[2/3] ONBUILD RUN echo triggered > /onbuild');
    expect(child.config.config?.OnBuild ?? null).toBeNull();
    expect(await text(await viewOf(root, 'child-onbuild'), '/onbuild')).toBe('triggered\n');
    expect(child.stats.runsExecuted + child.stats.cached).toBe(2);
  }, 120_000);

  it('ADD downloads from an http URL, extracts local tars, and names an unreachable URL', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'last-modified': 'Wed, 01 Jan 2020 00:00:00 GMT' });
      res.end('downloaded body\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const ctx = await context({ 'tree/x/y.txt': 'in tar\n' });
      execFileSync('tar', ['-czf', join(ctx, 'bundle.tgz'), '-C', join(ctx, 'tree'), '.']);
      const r = await run(
        `FROM busybox\nADD http://127.0.0.1:${String(port)}/files/data.txt /dl/\nADD bundle.tgz /unpacked/\n`,
        ctx,
        { tags: ['added'] },
      );
      expect(r.config.history!.at(-1)!.created_by).toBe('ADD bundle.tgz /unpacked/ # buildkit');
      const view = await viewOf(root, 'added');
      expect(await text(view, '/dl/data.txt')).toBe('downloaded body\n');
      expect((await view.lstat('/dl/data.txt')).mode & 0o777).toBe(0o600);
      expect(await text(view, '/unpacked/x/y.txt')).toBe('in tar\n');
      const good = createHash('sha256').update('downloaded body\n').digest('hex');
      const url = `http://127.0.0.1:${String(port)}/f`;
      await run(`FROM busybox\nADD --checksum=sha256:${good} ${url} /checked\n`, undefined);
      await expect(
        run(`FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} ${url} /checked\n`, undefined),
      ).rejects.toThrow(/digest mismatch/);
    } finally {
      server.close();
    }
    const err = await run(
      `FROM busybox\nADD http://127.0.0.1:${String(port)}/gone /x\n`,
      undefined,
    ).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(
      /^Dockerfile:2: failed to download http:\/\/127\.0\.0\.1:\d+\/gone: .*ECONNREFUSED/,
    );
  }, 120_000);

  it('runs heredocs, passes build args and honours SHELL', async () => {
    const df = [
      'FROM busybox',
      'ARG WHO',
      'RUN <<EOF',
      'echo "hello $WHO" > /greeting',
      'EOF',
      'COPY <<EOT /note.txt',
      'note for ${WHO}',
      'EOT',
      'SHELL ["/bin/sh", "-ec"]',
      'RUN echo shell-form > /shell',
    ].join('\n');
    const started: string[] = [];
    const r = await run(df, undefined, {
      buildArgs: { WHO: 'lab' },
      tags: ['heredoc'],
      onProgress: (e) => {
        if (e.type === 'start') started.push(e.name);
      },
    });
    expect(started).toContain('[2/4] RUN <<EOF (echo "hello $WHO" > /greeting)');
    const view = await viewOf(root, 'heredoc');
    expect(await text(view, '/greeting')).toBe('hello lab\n');
    expect(await text(view, '/note.txt')).toBe('note for lab\n');
    expect(r.config.history!.at(-1)!.created_by).toBe(
      'RUN |1 WHO=lab /bin/sh -ec echo shell-form > /shell # buildkit',
    );
    expect(existsSync(join(root, 'buildcache', 'records'))).toBe(true);
  }, 120_000);

  it("keeps the cache's blobs through gc as roots and leaves no build snapshots behind", async () => {
    const ctx = await context({ 'g.txt': 'gc\n' });
    const df = 'FROM busybox\nCOPY g.txt /g.txt\nRUN cat /g.txt > /g.copy\n';
    const first = await run(df, ctx, { tags: ['gc-me'] });
    const images = await openImageStore(root);
    await images.removeEntries(first.manifestDigest);
    await gc(images, { references: [buildCacheReferences(root)] });
    const kept = await run(df, ctx);
    expect(kept.stats).toMatchObject({ cached: 2, runsExecuted: 0, layersWritten: 0 });
    await images.removeEntries(kept.manifestDigest);
    await gc(images);
    const rebuilt = await run(df, ctx);
    expect(rebuilt.stats).toMatchObject({ cached: 0, runsExecuted: 1, layersWritten: 2 });
    const snap = await openSnapshotter('overlay', root).catch(() =>
      openSnapshotter('native', root),
    );
    const leftovers: string[] = [];
    await snap.walk((info) => {
      if (info.kind !== 'committed') leftovers.push(info.name);
    });
    expect(leftovers).toEqual([]);
  }, 120_000);

  it('copies with COPY semantics: directory contents, --chown, --chmod, --parents, --exclude', async () => {
    const ctx = await context({
      'dir/a.txt': 'a\n',
      'dir/sub/b.log': 'b\n',
      'dir/sub/c.txt': 'c\n',
      'src/one/keep.txt': '1\n',
      'src/two/keep.txt': '2\n',
    });
    // an absolute link resolves inside the context, as BuildKit's copy does
    await symlink('/dir/a.txt', join(ctx, 'abs-link'));
    // the source directory's own mode is not the destination's (contents only)
    await chmod(join(ctx, 'dir'), 0o700);
    const df = [
      'FROM busybox',
      'COPY abs-link /followed',
      'COPY dir /copied',
      'COPY --chown=nobody:nobody --chmod=640 dir/a.txt /owned/a.txt',
      'COPY --chmod=u=rwX,go=rX dir/sub /modes/',
      'COPY --parents src/*/keep.txt /parents/',
      'COPY --exclude=**/*.log dir/ /excluded/',
      'WORKDIR rel',
      'USER nobody',
      'WORKDIR owned-by-nobody',
    ].join('\n');
    const r = await run(df, ctx, { tags: ['copies'] });
    const view = await viewOf(root, 'copies');
    expect(await text(view, '/copied/sub/c.txt')).toBe('c\n');
    expect(await text(view, '/followed')).toBe('a\n');
    expect((await view.lstat('/copied')).mode & 0o7777).toBe(0o755);
    expect(await view.lookup('/copied/dir')).toBeUndefined();
    const owned = await view.lstat('/owned/a.txt');
    expect([owned.uid, owned.gid, owned.mode & 0o7777]).toEqual([65534, 65534, 0o640]);
    expect((await view.lstat('/modes/b.log')).mode & 0o777).toBe(0o644);
    expect((await view.lstat('/modes')).mode & 0o777).toBe(0o755);
    expect(await text(view, '/parents/src/one/keep.txt')).toBe('1\n');
    expect(await text(view, '/parents/src/two/keep.txt')).toBe('2\n');
    expect(await view.lookup('/excluded/sub/b.log')).toBeUndefined();
    expect(await text(view, '/excluded/sub/c.txt')).toBe('c\n');
    expect(r.config.config?.WorkingDir).toBe('/rel/owned-by-nobody');
    const wd = await view.lstat('/rel/owned-by-nobody');
    expect([wd.uid, wd.type]).toEqual([65534, 'dir']);
    expect(r.config.history!.slice(-8).map((h) => h.created_by)).toEqual([
      'COPY dir /copied # buildkit',
      'COPY --chown=nobody:nobody --chmod=640 dir/a.txt /owned/a.txt # buildkit',
      'COPY --chmod=u=rwX,go=rX dir/sub /modes/ # buildkit',
      'COPY --parents src/*/keep.txt /parents/ # buildkit',
      'COPY dir/ /excluded/ # buildkit',
      'WORKDIR /rel',
      'USER nobody',
      'WORKDIR /rel/owned-by-nobody',
    ]);
  }, 120_000);

  it('runs a base stage ONBUILD in a child stage, clears CMD at ENTRYPOINT and mounts stages and tmpfs', async () => {
    const df = [
      'FROM busybox AS base',
      'CMD ["from-base"]',
      'ONBUILD RUN echo stage-trigger > /trigger',
      'RUN echo data > /data',
      'FROM base AS child',
      'ENTRYPOINT ["/bin/echo"]',
      'RUN --mount=type=bind,from=base,source=/data,target=/mnt/data --mount=type=tmpfs,target=/scratch \\',
      '    cat /mnt/data > /from-mount && echo tmp > /scratch/x && test ! -e /mnt/data.copy',
      'RUN --network=none sh -c "ip link 2>/dev/null | grep -c mtu > /links || echo 1 > /links"',
    ].join('\n');
    const r = await run(df, undefined, { tags: ['child-stage'] });
    const view = await viewOf(root, 'child-stage');
    expect(await text(view, '/trigger')).toBe('stage-trigger\n');
    expect(await text(view, '/from-mount')).toBe('data\n');
    expect(await view.lookup('/scratch')).toBeUndefined();
    expect(await view.lookup('/mnt/data')).toBeUndefined();
    expect(r.config.config?.Cmd ?? null).toBeNull();
    expect(r.config.config?.Entrypoint).toEqual(['/bin/echo']);
    expect((await text(view, '/links')).trim()).toBe('1');
  }, 120_000);

  it('builds independent stages concurrently and names their vertices [stage k/m]', async () => {
    const df = [
      'FROM busybox AS left',
      'RUN sleep 3 && echo L > /l',
      'FROM busybox AS right',
      'RUN sleep 3 && echo R > /r',
      'FROM busybox',
      'COPY --from=left /l /l',
      'COPY --from=right /r /r',
    ].join('\n');
    const events: BuildProgressEvent[] = [];
    await run(df, undefined, { noCache: true, onProgress: (e) => events.push(e) });
    const names = new Map<number, string>();
    for (const e of events) if (e.type === 'start') names.set(e.id, e.name);
    const at = (type: string, name: string): number =>
      events.findIndex((e) => e.type === type && names.get(e.id) === name);
    const leftRun = '[left 2/2] RUN sleep 3 && echo L > /l';
    const rightRun = '[right 2/2] RUN sleep 3 && echo R > /r';
    expect(at('start', leftRun)).toBeGreaterThanOrEqual(0);
    // both RUNs are under way before either finishes
    expect(at('start', rightRun)).toBeLessThan(at('done', leftRun));
    expect(at('start', leftRun)).toBeLessThan(at('done', rightRun));
    // the final stage's COPY starts only after the stage it reads is done
    expect(at('start', '[stage-2 2/3] COPY --from=left /l /l')).toBeGreaterThan(
      at('done', leftRun),
    );
  }, 120_000);

  it('removes the step snapshots of a build whose process died', async () => {
    const snap = await openSnapshotter('overlay', root).catch(() =>
      openSnapshotter('native', root),
    );
    await snap.prepare('build-step-999999999-deadbeef', undefined);
    await run('FROM busybox\nLABEL a=b\n', undefined);
    const names: string[] = [];
    await snap.walk((info) => {
      names.push(info.name);
    });
    expect(names).not.toContain('build-step-999999999-deadbeef');
  }, 60_000);

  it('mounts secrets from files and the environment without leaving them in the image', async () => {
    const file = join(tmp, 'secret.txt');
    await writeFile(file, 'from-file');
    const df = [
      'FROM busybox',
      'RUN --mount=type=secret,id=tok cat /run/secrets/tok > /seen && stat -c %a /run/secrets/tok > /mode',
      'RUN --mount=type=secret,id=envtok,env=TOK echo "$TOK" > /seen-env',
      'RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent',
    ].join('\n');
    const r = await run(df, undefined, {
      tags: ['secrets'],
      secrets: [
        { id: 'tok', file },
        { id: 'envtok', env: 'MY_TOKEN' },
      ],
      environment: { MY_TOKEN: 'from-env' },
    });
    const view = await viewOf(root, 'secrets');
    expect(await text(view, '/seen')).toBe('from-file');
    expect((await text(view, '/mode')).trim()).toBe('400');
    expect(await text(view, '/seen-env')).toBe('from-env\n');
    expect(await view.lookup('/run/secrets')).toBeUndefined();
    expect(JSON.stringify(r.config)).not.toContain('from-');
    await expect(
      run('FROM busybox\nRUN --mount=type=secret,id=need,required=true true\n', undefined),
    ).rejects.toThrow(/secret need not found/);
  }, 120_000);

  it('walks excluded directories for re-included paths (.dockerignore exceptions)', async () => {
    const ctx = await context({
      'logs/keep.txt': 'keep\n',
      'logs/drop.txt': 'drop\n',
      'tmp/x': 'x\n',
      'app.txt': 'app\n',
    });
    const matcher = createPatternMatcher(parseDockerignore('logs\ntmp\n!logs/keep.txt\n'));
    await build({
      root,
      dockerfile: 'FROM busybox\nCOPY . /ctx/\n',
      context: {
        kind: 'directory',
        path: ctx,
        shouldInclude: (p) => !matcher.matchesOrParentMatches(p),
        reincludes: matcher.exclusions,
      },
      executor,
      tags: ['reincluded'],
    });
    const view = await viewOf(root, 'reincluded');
    expect(await text(view, '/ctx/logs/keep.txt')).toBe('keep\n');
    expect(await view.lookup('/ctx/logs/drop.txt')).toBeUndefined();
    expect(await view.lookup('/ctx/tmp')).toBeUndefined();
    expect(await text(view, '/ctx/app.txt')).toBe('app\n');
  }, 120_000);

  it('accepts FROM --platform and stamps scratch stages with it', async () => {
    const host = await run('FROM --platform=$BUILDPLATFORM busybox\nLABEL p=host\n', undefined);
    expect(host.config.os).toBe('linux');
    const arm = await run('FROM --platform=linux/arm64 scratch\nLABEL p=arm\n', undefined);
    expect([arm.config.os, arm.config.architecture]).toEqual(['linux', 'arm64']);
    // a single-platform image in the store is used as it is (BuildKit only warns:
    // InvalidBaseImagePlatform)
    const other = await run('FROM --platform=linux/s390x busybox\nLABEL p=other\n', undefined);
    expect(other.config.architecture).toBe(host.config.architecture);
  }, 60_000);

  it('cancels the other stages when one fails and reports the failing one', async () => {
    const df = [
      'FROM busybox AS slow',
      'RUN sleep 300',
      'FROM busybox AS bad',
      'RUN exit 5',
      'FROM busybox',
      'COPY --from=slow /etc/passwd /a',
      'COPY --from=bad /etc/passwd /b',
    ].join('\n');
    const err = await run(df, undefined, { noCache: true }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toBe(
      'Dockerfile:4: process "/bin/sh -c exit 5" did not complete successfully: exit code: 5',
    );
  }, 120_000);

  it('keeps a COPY --link layer cached when the steps before it change', async () => {
    const ctx = await context({ 'linked.txt': 'linked\n' });
    const df = 'FROM busybox\nARG V\nRUN echo "$V" > /v\nCOPY --link linked.txt /opt/linked.txt\n';
    const one = await run(df, ctx, { buildArgs: { V: '1' }, tags: ['linked'] });
    expect(one.stats).toMatchObject({ runsExecuted: 1, layersWritten: 2 });
    const two = await run(df, ctx, { buildArgs: { V: '2' }, tags: ['linked'] });
    expect(two.stats).toMatchObject({ cached: 1, runsExecuted: 1, layersWritten: 1 });
    expect(two.config.rootfs.diff_ids.at(-1)).toBe(one.config.rootfs.diff_ids.at(-1));
    const view = await viewOf(root, 'linked');
    expect(await text(view, '/opt/linked.txt')).toBe('linked\n');
    expect(await text(view, '/v')).toBe('2\n');
  }, 120_000);

  it('leaves mount points and copied-up parents out of RUN layers', async () => {
    const r = await run(
      [
        'FROM busybox',
        'RUN --mount=type=cache,target=/root/.cache --mount=type=tmpfs,target=/tmp/t true',
        'RUN --mount=type=cache,target=/etc/cachedir echo changed > /etc/changed',
      ].join('\n'),
      undefined,
      { noCache: true, tags: ['mountpoints'] },
    );
    const history = r.config.history!.slice(-2);
    expect(history[0]!.empty_layer).toBe(true);
    expect(history[1]!.empty_layer ?? false).toBe(false);
    expect(r.config.rootfs.diff_ids).toHaveLength(2);
    const view = await viewOf(root, 'mountpoints');
    expect(await view.lookup('/etc/cachedir')).toBeUndefined();
    expect(await view.lookup('/root/.cache')).toBeUndefined();
    expect(await text(view, '/etc/changed')).toBe('changed\n');
  }, 120_000);

  it('serializes sharing=locked cache mounts and separates sharing=private ones', async () => {
    const step = (sharing: string, id: string): string =>
      `RUN --mount=type=cache,id=${id},target=/c,sharing=${sharing} sh -c 'if [ -e /c/busy ]; then echo overlap >> /c/overlaps; fi; touch /c/busy; sleep 2; rm -f /c/busy'`;
    const df = (sharing: string, id: string): string =>
      [
        'FROM busybox AS a',
        step(sharing, id),
        'FROM busybox AS b',
        step(sharing, id),
        'FROM busybox',
        'COPY --from=a /etc/passwd /a',
        'COPY --from=b /etc/passwd /b',
        `RUN --mount=type=cache,id=${id},target=/c cat /c/overlaps > /overlaps 2>/dev/null; true`,
      ].join('\n');
    const locked = await run(df('locked', 'lock-test'), undefined, {
      noCache: true,
      tags: ['locked'],
    });
    expect(locked.stats.runsExecuted).toBe(3);
    expect(await (await viewOf(root, 'locked')).lookup('/overlaps')).toMatchObject({ size: 0 });
    await run(df('private', 'private-test'), undefined, { noCache: true, tags: ['private'] });
    expect(await (await viewOf(root, 'private')).lookup('/overlaps')).toMatchObject({ size: 0 });
  }, 120_000);

  it('gives RUN the proxy build args in both spellings, outside the history and the cache key', async () => {
    const df = 'FROM busybox\nRUN env | grep -i _proxy= | sort > /proxies\n';
    const r = await run(df, undefined, {
      buildArgs: { HTTP_PROXY: 'http://proxy.invalid:3128', no_proxy: 'localhost' },
      tags: ['proxies'],
    });
    expect(await text(await viewOf(root, 'proxies'), '/proxies')).toBe(
      'HTTP_PROXY=http://proxy.invalid:3128\nNO_PROXY=localhost\nhttp_proxy=http://proxy.invalid:3128\nno_proxy=localhost\n',
    );
    expect(r.config.history!.at(-1)!.created_by).toBe(
      'RUN /bin/sh -c env | grep -i _proxy= | sort > /proxies # buildkit',
    );
    const again = await run(df, undefined, { buildArgs: { HTTP_PROXY: 'http://other:1' } });
    expect(again.stats.runsExecuted).toBe(0);
  }, 120_000);
});
