import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxRootfs, isRoot, PATH_ENV, runLab, type LabResult } from '../../../test/harness.js';
import { parseBuildArgs, parseSecret } from './index.js';

if (!isRoot) console.warn('lab build CLI tests skipped: builds need root (mounts, namespaces)');

function lab(
  root: string,
  args: string[],
  opts: { stdin?: string; env?: Record<string, string>; cwd?: string } = {},
): Promise<LabResult> {
  return runLab(args, { root, ...opts });
}

describe('build flag parsing', () => {
  it('takes --build-arg NAME from the environment and skips it when unset', () => {
    expect(parseBuildArgs(['A=1', 'B', 'C', 'D='], { B: 'env' })).toEqual({
      A: '1',
      B: 'env',
      D: '',
    });
  });
  it('reads --secret id=…,src=… and env=…', () => {
    expect(parseSecret('id=tok,src=tok.txt', '/ctx')).toEqual({ id: 'tok', file: '/ctx/tok.txt' });
    expect(parseSecret('id=tok,env=TOKEN', '/ctx')).toEqual({ id: 'tok', env: 'TOKEN' });
    expect(() => parseSecret('src=x', '/')).toThrow(/id= is required/);
  });
});

describe.skipIf(!isRoot)('lab build', () => {
  let tmp: string;
  let root: string;
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lab-cli-build-'));
    root = join(tmp, 'root');
    const rootfs = busyboxRootfs(tmp);
    const r = await lab(
      root,
      ['import', '--change', 'CMD ["sh"]', '--change', `ENV ${PATH_ENV}`, rootfs, 'busybox'],
      {
        env: { SOURCE_DATE_EPOCH: '946684800' },
      },
    );
    expect(r.code).toBe(0);
  });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('builds a context with plain progress, tags it, writes --iidfile, and shows CACHED on a rebuild', async () => {
    const ctx = join(tmp, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY hello.txt /\nRUN cat /hello.txt\n');
    writeFileSync(join(ctx, 'hello.txt'), 'hello from the context\n');
    writeFileSync(join(ctx, 'secret.key'), 'never copied\n');
    writeFileSync(join(ctx, '.dockerignore'), '*.key\n');
    const iid = join(tmp, 'iid');
    const r = await lab(root, [
      'build',
      '--progress',
      'plain',
      '-t',
      'hello:1',
      '--iidfile',
      iid,
      ctx,
    ]);
    expect(r.stderr).toMatch(
      /#\d+ \[internal\] load metadata for docker\.io\/library\/busybox:latest\n/,
    );
    expect(r.stderr).toMatch(
      /#\d+ \[1\/3\] FROM docker\.io\/library\/busybox:latest@sha256:[0-9a-f]{64}\n/,
    );
    expect(r.stderr).toMatch(
      /#(\d+) \[3\/3\] RUN cat \/hello\.txt\n#\1 \d+\.\d{3} hello from the context\n#\1 DONE/,
    );
    expect(r.code).toBe(0);
    expect(readFileSync(iid, 'utf8')).toMatch(/^sha256:[0-9a-f]{64}$/);
    const images = await lab(root, ['images', '--format', '{{.Repository}}:{{.Tag}}']);
    expect(images.stdout).toContain('hello:1');
    const again = await lab(root, ['image', 'build', '--progress=plain', '-q', ctx]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    // -q prints no progress
    expect(again.stderr).toBe('');
    const plain = await lab(root, ['build', '--progress=plain', ctx]);
    expect(plain.stderr).toMatch(/#\d+ \[3\/3\] RUN cat \/hello\.txt\n#\d+ CACHED/);
    // .dockerignore hides the key from COPY
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY secret.key /\n');
    const ignored = await lab(root, ['build', '--progress=plain', ctx]);
    expect(ignored.code).toBe(1);
    expect(ignored.stderr).toContain('"/secret.key": not found');
  }, 120_000);

  it('reads a Dockerfile from stdin and reports a failing step with its line', async () => {
    const df = 'FROM busybox\nRUN echo about to fail && exit 7\n';
    const r = await lab(root, ['build', '--progress=plain', '-t', 'broken', '-'], { stdin: df });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'Dockerfile:2\n--------------------\n   1 |     FROM busybox\n   2 | >>> RUN echo about to fail && exit 7\n',
    );
    expect(r.stderr).toContain(
      'ERROR: failed to solve: process "/bin/sh -c echo about to fail && exit 7" did not complete successfully: exit code: 7',
    );
    expect(r.stderr).toContain('about to fail');
    const images = await lab(root, ['images', '--format', '{{.Repository}}']);
    expect(images.stdout).not.toContain('broken');
  }, 120_000);

  it('passes --build-arg, --label, --target and --secret through', async () => {
    const ctx = join(tmp, 'ctx-args');
    mkdirSync(ctx);
    writeFileSync(join(tmp, 'token.txt'), 's3cret');
    writeFileSync(
      join(ctx, 'Dockerfile'),
      [
        'FROM busybox AS first',
        'ARG WHAT',
        'RUN --mount=type=secret,id=tok cat /run/secrets/tok > /seen; echo "$WHAT" > /what',
        'FROM first AS unused',
        'RUN exit 9',
      ].join('\n'),
    );
    const r = await lab(root, [
      'build',
      '--progress=plain',
      '--build-arg',
      'WHAT=argument',
      '--label',
      'team=lab',
      '--target',
      'first',
      '--secret',
      `id=tok,src=${join(tmp, 'token.txt')}`,
      '-t',
      'args',
      ctx,
    ]);
    expect(r.stderr).not.toContain('exit 9');
    expect(r.code).toBe(0);
    const inspect = await lab(root, ['image', 'inspect', 'args']);
    const [info] = JSON.parse(inspect.stdout) as { Config: { Labels: Record<string, string> } }[];
    expect(info!.Config.Labels).toEqual({ team: 'lab' });
    const out = await lab(root, ['save', '-o', join(tmp, 'args.tar'), 'args']);
    expect(out.code).toBe(0);
    const listing = execFileSync('tar', ['-tf', join(tmp, 'args.tar')]).toString();
    expect(listing).toContain('blobs/sha256/');
  }, 120_000);

  it('builder prune drops the cache: the next build runs its steps again', async () => {
    const ctx = join(tmp, 'ctx-prune');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo pruned > /p\n');
    expect((await lab(root, ['build', '--progress=plain', ctx])).code).toBe(0);
    const cached = await lab(root, ['build', '--progress=plain', ctx]);
    expect(cached.stderr).toMatch(/#\d+ CACHED/);
    const pruned = await lab(root, ['builder', 'prune', '-f']);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/^Total:\t\S+/);
    const again = await lab(root, ['build', '--progress=plain', ctx]);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/#\d+ CACHED/);
    expect(again.stderr).toMatch(/RUN echo pruned > \/p\n#\d+ DONE/);
  }, 120_000);
});
