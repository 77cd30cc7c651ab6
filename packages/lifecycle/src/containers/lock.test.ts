import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withFileLock } from './lock.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lab-lock-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('container locks', () => {
  it('serialises concurrent holders in one process', async () => {
    const lock = join(dir, 'a.lock');
    const order: string[] = [];
    await Promise.all(
      [1, 2, 3].map((n) =>
        withFileLock(lock, async () => {
          order.push(`in${n}`);
          await new Promise((r) => setTimeout(r, 20));
          order.push(`out${n}`);
        }),
      ),
    );
    for (let i = 0; i < order.length; i += 2)
      expect(order[i + 1]).toBe(order[i]!.replace('in', 'out'));
  });

  it('is re-entrant within one call chain', async () => {
    const lock = join(dir, 'b.lock');
    const v = await withFileLock(lock, () => withFileLock(lock, () => Promise.resolve(42)), {
      waitMs: 1000,
    });
    expect(v).toBe(42);
  });

  it('treats a young lock whose owner file is still empty as held (its holder is writing it)', async () => {
    const lock = join(dir, 'd.lock');
    await mkdir(lock);
    await writeFile(join(lock, 'owner'), '');
    await expect(
      withFileLock(lock, () => Promise.resolve('taken'), { waitMs: 300 }),
    ).rejects.toThrow(/timed out waiting for the lock/);
    await rm(lock, { recursive: true, force: true });
  });

  it('takes over the lock of a process that died holding it', async () => {
    const lock = join(dir, 'c.lock');
    const child = spawn('sleep', ['0']);
    const pid = child.pid!;
    await new Promise((r) => child.once('exit', r));
    await mkdir(lock);
    await writeFile(join(lock, 'owner'), `${pid} 1`);
    expect(await withFileLock(lock, () => Promise.resolve('taken'), { waitMs: 2000 })).toBe(
      'taken',
    );
  });
});
