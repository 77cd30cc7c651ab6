/**
 * A container's cgroup, on cgroup v1 (one directory per controller hierarchy, as on this
 * hybrid host: `/sys/fs/cgroup/<controller>/<path>`) or v2 (one directory in the unified
 * hierarchy). The path is the runtime-spec `linux.cgroupsPath` (e.g. `/lab/<id>`), relative
 * to each hierarchy's root, which is also where runc puts it with the cgroupfs driver, so
 * both runtimes can be observed (OOM counts, pids) through the same object.
 */
import { access, mkdir, readFile, readdir, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LinuxResources } from '@lab/oci';
import { failedPrecondition, invalidArgument } from '@lab/oci';

/** The cgroup layout of the host. */
export type CgroupMode = 'v1' | 'v2';

/** What the memory controller recorded about out-of-memory events. */
export interface MemoryEvents {
  /** Processes the OOM killer killed in this cgroup (`oom_kill`). */
  oomKills: number;
  /** Times the limit was hit (v1 `memory.failcnt`, v2 `max` events). */
  limitHits: number;
}

/** Resource usage of a cgroup. Unlimited limits are `undefined`. */
export interface CgroupStats {
  memory: { usage?: number; limit?: number };
  /** CPU time consumed, nanoseconds. */
  cpu: { usageNs?: number };
  pids: { current?: number; limit?: number };
}

/** A container's cgroup, on whichever hierarchy the host has. */
export interface Cgroup {
  readonly mode: CgroupMode;
  /** The cgroup path relative to the hierarchy roots (`/lab/<id>`). */
  readonly path: string;
  /** Every directory that makes up this cgroup (one per v1 controller, or one on v2). */
  readonly dirs: readonly string[];
  /** Creates the directories (idempotent). */
  create(): Promise<void>;
  /** Writes the limits of `resources` (memory, swap, cpu, pids, devices). */
  apply(resources: LinuxResources | undefined): Promise<void>;
  /** Moves `pid` (and, on v1, only that process) into every directory. */
  addProcess(pid: number): Promise<void>;
  /** The `cgroup.procs` files, for a process that joins by writing its own pid. */
  procsFiles(): string[];
  /** The pids in the cgroup (host view). */
  pids(): Promise<number[]>;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  frozen(): Promise<boolean>;
  memoryEvents(): Promise<MemoryEvents>;
  /** Resource usage (what `docker stats` shows); fields are undefined where not available. */
  stats(): Promise<CgroupStats>;
  /** Removes the directories (retrying while the last processes are reaped); idempotent. */
  destroy(): Promise<void>;
  /** Whether the directory exists. */
  exists(): Promise<boolean>;
}

const V1_CONTROLLERS = [
  'cpuset',
  'cpu',
  'cpuacct',
  'blkio',
  'memory',
  'devices',
  'freezer',
  'pids',
];

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function readNumber(file: string): Promise<number> {
  const text = (await readFile(file, 'utf8')).trim();
  return text === 'max' ? Number.POSITIVE_INFINITY : Number(text);
}

async function readOptional(file: string): Promise<number | undefined> {
  try {
    const value = await readNumber(file);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

async function readKeyed(file: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      const [k, v] = line.trim().split(/\s+/);
      if (k !== undefined && v !== undefined) out.set(k, Number(v));
    }
  } catch {
    // missing controller file: no events
  }
  return out;
}

async function readPids(file: string): Promise<number[]> {
  try {
    return (await readFile(file, 'utf8'))
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      // child cgroups first (runc and tools may create them)
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) await removeDir(join(dir, entry.name));
      }
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 100) {
        throw failedPrecondition(
          `cannot remove cgroup ${dir}: ${(err as Error).message}; processes are still in it (see ${join(dir, 'cgroup.procs')})`,
          { cause: err, details: { dir } },
        );
      }
      await sleep(20);
    }
  }
}

/** Detects the layout under `root`: `v2` when `root` itself is cgroup2 with controllers, else `v1`. */
export async function detectCgroupMode(root = '/sys/fs/cgroup'): Promise<CgroupMode> {
  if (await exists(join(root, 'cgroup.controllers'))) return 'v2';
  return 'v1';
}

function v1(root: string, path: string, controllers: string[]): Cgroup {
  const dir = (c: string) => join(root, c, path);
  const dirs = controllers.map(dir);
  const has = (c: string) => controllers.includes(c);
  async function applyMemory(resources: LinuxResources): Promise<void> {
    const mem = resources.memory;
    if (mem === undefined || !has('memory')) return;
    const d = dir('memory');
    const memsw = join(d, 'memory.memsw.limit_in_bytes');
    const swapSupported = await exists(memsw);
    // memsw must stay >= limit: lift memsw first, then set the limit, then memsw
    if (mem.limit !== undefined) {
      if (swapSupported && mem.swap !== undefined && mem.swap !== -1) {
        await writeFile(memsw, '-1').catch(() => undefined);
      }
      await writeFile(join(d, 'memory.limit_in_bytes'), String(mem.limit));
    }
    if (swapSupported && mem.swap !== undefined) await writeFile(memsw, String(mem.swap));
    if (mem.swappiness !== undefined)
      await writeFile(join(d, 'memory.swappiness'), String(mem.swappiness));
    if (mem.disableOOMKiller === true) await writeFile(join(d, 'memory.oom_control'), '1');
  }

  async function applyCpu(resources: LinuxResources): Promise<void> {
    const cpu = resources.cpu;
    if (cpu !== undefined && has('cpu')) {
      const d = dir('cpu');
      if (cpu.shares !== undefined) await writeFile(join(d, 'cpu.shares'), String(cpu.shares));
      if (cpu.period !== undefined)
        await writeFile(join(d, 'cpu.cfs_period_us'), String(cpu.period));
      if (cpu.quota !== undefined) await writeFile(join(d, 'cpu.cfs_quota_us'), String(cpu.quota));
    }
    if (cpu?.cpus !== undefined && has('cpuset'))
      await writeFile(join(dir('cpuset'), 'cpuset.cpus'), cpu.cpus);
    if (cpu?.mems !== undefined && has('cpuset'))
      await writeFile(join(dir('cpuset'), 'cpuset.mems'), cpu.mems);
  }

  async function applyPids(resources: LinuxResources): Promise<void> {
    if (resources.pids === undefined || !has('pids')) return;
    const limit = resources.pids.limit;
    await writeFile(join(dir('pids'), 'pids.max'), limit <= 0 ? 'max' : String(limit));
  }

  async function applyDevices(resources: LinuxResources): Promise<void> {
    if (resources.devices === undefined || !has('devices')) return;
    const d = dir('devices');
    for (const rule of resources.devices) {
      const type = rule.type ?? 'a';
      const major = rule.major === undefined || rule.major < 0 ? '*' : String(rule.major);
      const minor = rule.minor === undefined || rule.minor < 0 ? '*' : String(rule.minor);
      const line = type === 'a' ? 'a' : `${type} ${major}:${minor} ${rule.access ?? 'rwm'}`;
      await writeFile(join(d, rule.allow ? 'devices.allow' : 'devices.deny'), line);
    }
  }

  return {
    mode: 'v1',
    path,
    dirs,
    async create() {
      // one directory per hierarchy, created in parallel (each write is a kernel round trip)
      await Promise.all(
        controllers.map(async (c) => {
          if (c === 'cpuset') {
            // a new cpuset is empty: copy cpus/mems down from the parent, level by level
            const parts = path.split('/').filter((p) => p !== '');
            let current = join(root, c);
            for (const part of parts) {
              const next = join(current, part);
              await mkdir(next, { recursive: true });
              for (const f of ['cpuset.cpus', 'cpuset.mems']) {
                if ((await readFile(join(next, f), 'utf8')).trim() === '') {
                  await writeFile(join(next, f), await readFile(join(current, f), 'utf8'));
                }
              }
              current = next;
            }
          } else {
            await mkdir(dir(c), { recursive: true });
          }
        }),
      );
    },
    async apply(resources) {
      if (resources === undefined) return;
      // each controller's writes in order; the controllers in parallel
      await Promise.all([
        applyMemory(resources),
        applyCpu(resources),
        applyPids(resources),
        applyDevices(resources),
      ]);
    },
    async addProcess(pid) {
      // v1 migrations wait for an RCU grace period each: do them in parallel
      await Promise.all(dirs.map((d) => writeFile(join(d, 'cgroup.procs'), String(pid))));
    },
    procsFiles() {
      return dirs.map((d) => join(d, 'cgroup.procs'));
    },
    async pids() {
      const source = has('pids') ? dir('pids') : dirs[0];
      return source === undefined ? [] : readPids(join(source, 'cgroup.procs'));
    },
    async freeze() {
      if (!has('freezer'))
        throw failedPrecondition('the freezer cgroup controller is not mounted: cannot pause');
      const f = join(dir('freezer'), 'freezer.state');
      await writeFile(f, 'FROZEN');
      for (let i = 0; i < 500; i++) {
        if ((await readFile(f, 'utf8')).trim() === 'FROZEN') return;
        await sleep(10);
        await writeFile(f, 'FROZEN');
      }
      throw failedPrecondition(`cgroup ${path} did not reach FROZEN; check ${f}`);
    },
    async thaw() {
      if (!has('freezer')) return;
      await writeFile(join(dir('freezer'), 'freezer.state'), 'THAWED');
    },
    async frozen() {
      if (!has('freezer')) return false;
      try {
        return (await readFile(join(dir('freezer'), 'freezer.state'), 'utf8')).trim() !== 'THAWED';
      } catch {
        return false;
      }
    },
    async stats() {
      const limit = has('memory')
        ? await readOptional(join(dir('memory'), 'memory.limit_in_bytes'))
        : undefined;
      return {
        memory: {
          ...(has('memory')
            ? { usage: await readOptional(join(dir('memory'), 'memory.usage_in_bytes')) }
            : {}),
          // v1 reports "no limit" as a page-aligned huge number
          ...(limit !== undefined && limit < 2 ** 62 ? { limit } : {}),
        },
        cpu: has('cpuacct')
          ? { usageNs: await readOptional(join(dir('cpuacct'), 'cpuacct.usage')) }
          : {},
        pids: has('pids')
          ? {
              current: await readOptional(join(dir('pids'), 'pids.current')),
              limit: await readOptional(join(dir('pids'), 'pids.max')),
            }
          : {},
      } as CgroupStats;
    },
    async memoryEvents() {
      if (!has('memory')) return { oomKills: 0, limitHits: 0 };
      const control = await readKeyed(join(dir('memory'), 'memory.oom_control'));
      let limitHits = 0;
      try {
        limitHits = await readNumber(join(dir('memory'), 'memory.failcnt'));
      } catch {
        // cgroup gone
      }
      return { oomKills: control.get('oom_kill') ?? 0, limitHits };
    },
    async destroy() {
      await Promise.all(dirs.map(removeDir));
    },
    async exists() {
      return exists(dirs[0] ?? join(root, path));
    },
  };
}

function v2(root: string, path: string): Cgroup {
  const d = join(root, path);
  const file = (f: string) => join(d, f);
  return {
    mode: 'v2',
    path,
    dirs: [d],
    async create() {
      const parts = path.split('/').filter((p) => p !== '');
      let current = root;
      const available = (await readFile(join(root, 'cgroup.controllers'), 'utf8'))
        .trim()
        .split(/\s+/);
      const wanted = ['cpu', 'cpuset', 'io', 'memory', 'pids'].filter((c) => available.includes(c));
      for (const part of parts) {
        // enable the controllers for the children of every level above the leaf
        await writeFile(
          join(current, 'cgroup.subtree_control'),
          wanted.map((c) => `+${c}`).join(' '),
        ).catch(() => undefined);
        current = join(current, part);
        await mkdir(current, { recursive: true });
      }
    },
    async apply(resources) {
      if (resources === undefined) return;
      const mem = resources.memory;
      if (mem?.limit !== undefined)
        await writeFile(file('memory.max'), mem.limit < 0 ? 'max' : String(mem.limit));
      if (mem?.swap !== undefined && (await exists(file('memory.swap.max')))) {
        // v2 counts swap alone; the spec's swap is memory + swap
        const swap = mem.swap < 0 ? 'max' : String(Math.max(0, mem.swap - (mem.limit ?? 0)));
        await writeFile(file('memory.swap.max'), swap);
      }
      const cpu = resources.cpu;
      if (cpu?.quota !== undefined || cpu?.period !== undefined) {
        const quota = cpu.quota === undefined || cpu.quota < 0 ? 'max' : String(cpu.quota);
        await writeFile(file('cpu.max'), `${quota} ${cpu.period ?? 100000}`);
      }
      if (cpu?.shares !== undefined) {
        // runc's conversion of shares [2, 262144] to weight [1, 10000]
        const weight = Math.round(1 + ((cpu.shares - 2) * 9999) / 262142);
        await writeFile(file('cpu.weight'), String(weight));
      }
      if (resources.pids !== undefined) {
        await writeFile(
          file('pids.max'),
          resources.pids.limit <= 0 ? 'max' : String(resources.pids.limit),
        );
      }
      // device rules on v2 need an eBPF program; not applied (documented limitation)
    },
    async addProcess(pid) {
      await writeFile(file('cgroup.procs'), String(pid));
    },
    procsFiles() {
      return [file('cgroup.procs')];
    },
    async pids() {
      return readPids(file('cgroup.procs'));
    },
    async freeze() {
      await writeFile(file('cgroup.freeze'), '1');
      for (let i = 0; i < 500; i++) {
        if ((await readKeyed(file('cgroup.events'))).get('frozen') === 1) return;
        await sleep(10);
      }
      throw failedPrecondition(`cgroup ${path} did not freeze; check ${file('cgroup.events')}`);
    },
    async thaw() {
      await writeFile(file('cgroup.freeze'), '0');
    },
    async frozen() {
      return (await readKeyed(file('cgroup.events'))).get('frozen') === 1;
    },
    async stats() {
      const cpu = await readKeyed(file('cpu.stat'));
      const usageUsec = cpu.get('usage_usec');
      return {
        memory: {
          usage: await readOptional(file('memory.current')),
          limit: await readOptional(file('memory.max')),
        },
        cpu: usageUsec === undefined ? {} : { usageNs: usageUsec * 1000 },
        pids: {
          current: await readOptional(file('pids.current')),
          limit: await readOptional(file('pids.max')),
        },
      } as CgroupStats;
    },
    async memoryEvents() {
      const events = await readKeyed(file('memory.events'));
      return { oomKills: events.get('oom_kill') ?? 0, limitHits: events.get('max') ?? 0 };
    },
    async destroy() {
      await removeDir(d);
    },
    async exists() {
      return exists(d);
    },
  };
}

/** Options of {@link openCgroup}. */
export interface OpenCgroupOptions {
  /** The cgroup filesystem root; default `/sys/fs/cgroup`. */
  root?: string;
  /** Default: detected. */
  mode?: CgroupMode;
}

/** The cgroup at `path` (e.g. `/lab/<id>`); nothing is created until `create()`. */
export async function openCgroup(path: string, options: OpenCgroupOptions = {}): Promise<Cgroup> {
  if (!path.startsWith('/') || path.split('/').includes('..')) {
    throw invalidArgument(`cgroup path "${path}" must be absolute and must not contain ".."`, {
      details: { cgroupsPath: path },
    });
  }
  const root = options.root ?? '/sys/fs/cgroup';
  const mode = options.mode ?? (await detectCgroupMode(root));
  if (mode === 'v2') return v2(root, path);
  const controllers: string[] = [];
  for (const c of V1_CONTROLLERS) {
    try {
      if ((await stat(join(root, c))).isDirectory()) controllers.push(c);
    } catch {
      // controller not mounted
    }
  }
  if (controllers.length === 0) {
    throw failedPrecondition(
      `no cgroup v1 controllers are mounted under ${root}; mount them or use cgroup v2`,
    );
  }
  return v1(root, path, controllers);
}
