import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinRuntime } from '../runtime/builtin/builtin-runtime.js';
import { makeBusyboxRootfs } from '../runtime/testsuite.js';
import { createRunExecutor, type BuildRunExecutor } from './run-executor.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('run executor tests skipped: containers need root');

function collector(): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  }) as Writable & { text(): string };
  w.text = () => Buffer.concat(chunks).toString('utf8');
  return w;
}

describe.skipIf(!isRoot)('createRunExecutor', () => {
  let tmp = '';
  let rootfs = '';
  let executor: BuildRunExecutor;
  let n = 0;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'lab-run-executor-'));
    rootfs = join(tmp, 'rootfs');
    await makeBusyboxRootfs(rootfs);
    executor = createRunExecutor({
      runtime: createBuiltinRuntime({ root: join(tmp, 'state') }),
      bundleRoot: join(tmp, 'bundles'),
    });
  });
  afterAll(async () => {
    if (tmp !== '') await rm(tmp, { recursive: true, force: true });
  });

  function request(args: string[], extra: Partial<Parameters<BuildRunExecutor['run']>[0]> = {}) {
    const stdout = collector();
    const stderr = collector();
    return {
      stdout,
      stderr,
      run: () =>
        executor.run({
          id: `exec-test-${String(process.pid)}-${String(n++)}`,
          rootfs,
          args,
          env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'STEP=one'],
          cwd: '/tmp',
          user: '',
          network: 'none',
          hostname: 'buildkitsandbox',
          mounts: [],
          stdout,
          stderr,
          ...extra,
        }),
    };
  }

  it('runs the step with its env, cwd, hostname and user, streaming stdout and stderr', async () => {
    const r = request(
      ['/bin/sh', '-c', 'echo "$STEP $(pwd) $(hostname) $(id -u)"; echo oops >&2; exit 4'],
      {
        user: 'nobody',
      },
    );
    expect(await r.run()).toEqual({ exitCode: 4 });
    expect(r.stdout.text()).toBe('one /tmp buildkitsandbox 65534\n');
    expect(r.stderr.text()).toBe('oops\n');
  });

  it('gives the step its bind and tmpfs mounts and no network with none', async () => {
    const cache = join(tmp, 'cache');
    await mkdir(cache);
    await writeFile(join(cache, 'seed'), 'seed\n');
    const r = request(
      [
        '/bin/sh',
        '-c',
        'cat /cache/seed; echo more >> /cache/seed; printf "#!/bin/sh\\necho ran\\n" > /scratch/x; chmod +x /scratch/x; /scratch/x; cat /proc/net/dev | grep -c :',
      ],
      {
        mounts: [
          { type: 'bind', source: cache, target: '/cache', readonly: false },
          { type: 'tmpfs', target: '/scratch', size: 1 << 20 },
        ],
      },
    );
    expect(await r.run()).toEqual({ exitCode: 0 });
    // only the loopback interface in a network namespace of its own
    expect(r.stdout.text()).toBe('seed\nran\n1\n');
    expect(await readFile(join(cache, 'seed'), 'utf8')).toBe('seed\nmore\n');
  });
});
