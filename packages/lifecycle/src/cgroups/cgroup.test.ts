import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Cgroup } from './cgroup.js';
import { detectCgroupMode, openCgroup } from './cgroup.js';

const root = process.getuid?.() === 0;
const hasV1 = existsSync('/sys/fs/cgroup/memory/cgroup.procs');
// on this hybrid host the unified hierarchy (hugetlb only) still has the core v2 files
const UNIFIED = '/sys/fs/cgroup/unified';
const hasUnified = existsSync(`${UNIFIED}/cgroup.controllers`);
if (!root) console.warn('[cgroups] skipped: needs root');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  // last in, first out (processes before their cgroup); every step runs even if one fails
  const errors: unknown[] = [];
  for (const c of cleanups.splice(0).reverse()) await c().catch((e: unknown) => errors.push(e));
  if (errors.length > 0) throw errors[0];
});

function sleeper() {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  cleanups.push(async () => {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  });
  return child;
}

async function make(path: string, options: Parameters<typeof openCgroup>[1] = {}): Promise<Cgroup> {
  const cg = await openCgroup(path, options);
  await cg.create();
  cleanups.push(async () => {
    await cg.destroy();
  });
  return cg;
}

describe('cgroups', () => {
  it('rejects relative and escaping paths', async () => {
    await expect(openCgroup('lab/x')).rejects.toThrow(/must be absolute/);
    await expect(openCgroup('/lab/../x')).rejects.toThrow(/must be absolute/);
  });

  it.skipIf(!root || !hasV1)(
    'writes v1 limits and device rules the kernel reports back',
    async () => {
      expect(await detectCgroupMode()).toBe('v1');
      const cg = await make(`/lab/test-v1-${process.pid}`);
      await cg.apply({
        memory: { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 },
        cpu: { quota: 50000, period: 100000, shares: 512 },
        pids: { limit: 5 },
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        ],
      });
      const read = (ctrl: string, file: string) =>
        readFileSync(`/sys/fs/cgroup/${ctrl}/lab/test-v1-${process.pid}/${file}`, 'utf8').trim();
      expect(read('memory', 'memory.limit_in_bytes')).toBe(String(32 * 1024 * 1024));
      expect(read('memory', 'memory.memsw.limit_in_bytes')).toBe(String(32 * 1024 * 1024));
      expect(read('cpu', 'cpu.cfs_quota_us')).toBe('50000');
      expect(read('cpu', 'cpu.shares')).toBe('512');
      expect(read('pids', 'pids.max')).toBe('5');
      expect(read('devices', 'devices.list')).toBe('c 1:3 rwm');

      const child = sleeper();
      await cg.addProcess(child.pid!);
      expect(await cg.pids()).toEqual([child.pid]);
      await cg.freeze();
      expect(await cg.frozen()).toBe(true);
      await cg.thaw();
      expect(await cg.frozen()).toBe(false);
      expect(await cg.memoryEvents()).toEqual({ oomKills: 0, limitHits: 0 });
      const stats = await cg.stats();
      expect(stats.memory.limit).toBe(32 * 1024 * 1024);
      // v1 does not move charges with a migrated process: usage may still be 0 here
      expect(stats.memory.usage).toBeGreaterThanOrEqual(0);
      expect(stats.pids).toEqual({ current: 1, limit: 5 });
      expect(stats.cpu.usageNs).toBeGreaterThanOrEqual(0);
    },
  );

  it.skipIf(!root || !hasUnified)('freezes and thaws through cgroup.freeze on v2', async () => {
    expect(await detectCgroupMode(UNIFIED)).toBe('v2');
    const cg = await make(`/lab-test-v2-${process.pid}`, { root: UNIFIED });
    const child = sleeper();
    await cg.addProcess(child.pid!);
    expect(await cg.pids()).toEqual([child.pid]);
    await cg.freeze();
    expect(await cg.frozen()).toBe(true);
    expect(readFileSync(`${UNIFIED}/lab-test-v2-${process.pid}/cgroup.events`, 'utf8')).toMatch(
      /frozen 1/,
    );
    await cg.thaw();
    expect(await cg.frozen()).toBe(false);
    // cpu.stat is a core file; the memory controller is not enabled on this hierarchy
    expect((await cg.stats()).cpu.usageNs).toBeGreaterThanOrEqual(0);
  });

  it.skipIf(!root || !hasV1)(
    'destroy removes every controller directory and is idempotent',
    async () => {
      const cg = await openCgroup(`/lab/test-gone-${process.pid}`);
      await cg.create();
      expect(await cg.exists()).toBe(true);
      await cg.destroy();
      await cg.destroy();
      expect(cg.dirs.filter((d) => existsSync(d))).toEqual([]);
    },
  );
});
