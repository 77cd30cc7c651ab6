import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFailedPrecondition } from '@lab/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpec } from '../../bundle/create-spec.js';
import { writeBundle } from '../../bundle/write-bundle.js';
import { isSameProcessAlive } from '../process-info.js';
import type { ContainerRecord } from '../state-store.js';
import { makeBusyboxRootfs } from '../testsuite.js';
import { createBuiltinRuntime } from './builtin-runtime.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('[builtin crash recovery] skipped: needs root');

describe.skipIf(!root)('builtin runtime after a crash during create', () => {
  let tmp = '';
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'lab-crash-'));
    await makeBusyboxRootfs(join(tmp, 'rootfs'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('reports the provisional record as creating, and force-delete kills the whole chain', async () => {
    const id = `crash-${process.pid}`;
    const spec = await createSpec(
      { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } },
      { id, rootfs: join(tmp, 'rootfs'), cmd: ['sleep', '1000'] },
    );
    await writeBundle(join(tmp, 'bundle'), spec);
    const state = join(tmp, 'state');
    const runtime = createBuiltinRuntime({ root: state });
    const created = await runtime.create(id, join(tmp, 'bundle'));
    // what a crash between spawning the keeper and the final state write leaves behind
    const file = join(state, id, 'state.json');
    const record = JSON.parse(await readFile(file, 'utf8')) as ContainerRecord;
    await writeFile(file, JSON.stringify({ ...record, pid: 0, pidStartTime: 0 }));

    const other = createBuiltinRuntime({ root: state });
    expect((await other.state(id)).status).toBe('creating');
    await expect(other.delete(id)).rejects.toSatisfy(isFailedPrecondition);
    await other.delete(id, { force: true });
    expect(await isSameProcessAlive(record.keeperPid, record.keeperStartTime)).toBe(false);
    expect(await isSameProcessAlive(created.pid ?? 0, record.pidStartTime)).toBe(false);
    expect(existsSync(join(state, id))).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/memory/lab/${id}`)).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(id);
  });
});
