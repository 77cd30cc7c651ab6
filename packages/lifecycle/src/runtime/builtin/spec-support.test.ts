import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuntimeSpec } from '@lab/oci';
import { isInvalidArgument } from '@lab/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpec } from '../../bundle/create-spec.js';
import { writeBundle } from '../../bundle/write-bundle.js';
import { makeBusyboxRootfs } from '../testsuite.js';
import { createBuiltinRuntime } from './builtin-runtime.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('[builtin spec support] skipped: needs root');

describe.skipIf(!root)('builtin runtime and spec fields', () => {
  let tmp = '';
  let n = 0;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'lab-specsupport-'));
    await makeBusyboxRootfs(join(tmp, 'rootfs'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  async function bundle(
    cmd: string[],
    edit: (spec: RuntimeSpec) => void,
  ): Promise<{ id: string; dir: string }> {
    const id = `spec-${process.pid}-${n++}`;
    const spec = await createSpec(
      { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } },
      { id, rootfs: join(tmp, 'rootfs'), cmd },
    );
    edit(spec);
    const dir = join(tmp, id);
    await writeBundle(dir, spec);
    return { id, dir };
  }

  it('refuses a seccomp filter instead of running unconfined, leaving nothing behind', async () => {
    const runtime = createBuiltinRuntime({ root: join(tmp, 'state') });
    const { id, dir } = await bundle(['true'], (spec) => {
      spec.linux = { ...spec.linux, seccomp: { defaultAction: 'SCMP_ACT_ERRNO' } };
    });
    await expect(runtime.create(id, dir)).rejects.toSatisfy(isInvalidArgument);
    expect(existsSync(join(tmp, 'state', id))).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/memory/lab/${id}`)).toBe(false);
  });

  it('applies process.oomScoreAdj', async () => {
    const runtime = createBuiltinRuntime({ root: join(tmp, 'state') });
    const { id, dir } = await bundle(['cat', '/proc/self/oom_score_adj'], (spec) => {
      spec.process = { ...spec.process!, oomScoreAdj: 500 };
    });
    const outFile = join(tmp, `${id}.out`);
    const out = openSync(outFile, 'w');
    await runtime.create(id, dir, { stdio: ['ignore', out, out] });
    closeSync(out);
    await runtime.start(id);
    expect((await runtime.wait(id)).exitCode).toBe(0);
    expect(readFileSync(outFile, 'utf8').trim()).toBe('500');
    await runtime.delete(id);
  });
});
