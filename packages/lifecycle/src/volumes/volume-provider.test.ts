/**
 * Volumes in real containers (builtin runtime, busybox rootfs, as root): what a container
 * writes in a named volume is there for the next one; anonymous volumes live as long as their
 * container (`rm -v`); a new volume is filled from the image; read-only mounts refuse writes.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageConfig } from '@lab/oci';
import { isConflict, isNotFound } from '@lab/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BindMount, TmpfsMount } from '../bundle/create-spec.js';
import { createSpec } from '../bundle/create-spec.js';
import { writeBundle } from '../bundle/write-bundle.js';
import type { Container } from '../containers/types.js';
import { createBuiltinRuntime } from '../runtime/builtin/builtin-runtime.js';
import type { Runtime } from '../runtime/runtime.js';
import { makeBusyboxRootfs } from '../runtime/testsuite.js';
import { imageVolumeRequests, openVolumeProvider } from './volume-provider.js';
import { ANONYMOUS_LABEL } from './volume-store.js';

const skipReason = process.getuid?.() === 0 ? undefined : 'needs root (containers, chown)';
if (skipReason !== undefined) console.warn(`[volume provider] skipped: ${skipReason}`);

const IMAGE: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: [] },
  config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], Volumes: { '/data': {}, '/cache/': {} } },
};

describe('imageVolumeRequests', () => {
  it("turns the image's VOLUMEs into anonymous requests, except those the user mounted", () => {
    expect(imageVolumeRequests(IMAGE, ['/cache'])).toEqual([
      { name: '', destination: '/data', readonly: false },
    ]);
    expect(imageVolumeRequests(IMAGE, [])).toHaveLength(2);
    expect(imageVolumeRequests({ ...IMAGE, config: {} }, [])).toEqual([]);
  });
});

describe.skipIf(skipReason !== undefined)('volume provider', () => {
  let tmp = '';
  let root = '';
  let image = '';
  let runtime: Runtime;
  let counter = 0;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'lab-volp-'));
    root = join(tmp, 'root');
    image = join(tmp, 'image');
    await makeBusyboxRootfs(image);
    // image content at /data: owned 1234:5678, mode 0750, a file 0640
    await mkdir(join(image, 'data'));
    await writeFile(join(image, 'data', 'seed.txt'), 'from the image\n');
    await chmod(join(image, 'data', 'seed.txt'), 0o640);
    await chmod(join(image, 'data'), 0o750);
    await chown(join(image, 'data', 'seed.txt'), 1234, 5678);
    await chown(join(image, 'data'), 1234, 5678);
    runtime = createBuiltinRuntime({ root: join(tmp, 'rt') });
  });

  afterAll(async () => {
    if (tmp !== '') await rm(tmp, { recursive: true, force: true });
  });

  /** A container directory with a copy of the image as its rootfs (what the engine mounts). */
  async function makeContainer(): Promise<Container> {
    const id = randomBytes(32).toString('hex');
    const dir = join(root, 'containers', id);
    await mkdir(dir, { recursive: true });
    execFileSync('cp', ['-a', image, join(dir, 'rootfs')]);
    return {
      id,
      name: `c${String(counter++)}`,
      dir,
      config: { Volumes: [] },
    } as unknown as Container;
  }

  async function runIn(
    c: Container,
    script: string,
    mounts: { binds?: BindMount[]; tmpfs?: TmpfsMount[] } = {},
  ): Promise<{ exitCode: number; out: string }> {
    const id = `vol-${String(counter++)}-${String(process.pid)}`;
    const spec = await createSpec(IMAGE, {
      id,
      rootfs: join(c.dir, 'rootfs'),
      cmd: ['sh', '-c', script],
      network: { mode: 'none' },
      binds: mounts.binds ?? [],
      tmpfs: mounts.tmpfs ?? [],
    });
    const bundle = join(tmp, 'bundles', id);
    await writeBundle(bundle, spec);
    const outFile = join(tmp, `${id}.out`);
    const fd = openSync(outFile, 'w');
    try {
      await runtime.create(id, bundle, { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    await runtime.start(id);
    const exit = await runtime.wait(id);
    await runtime.delete(id, { force: true });
    return { exitCode: exit.exitCode, out: readFileSync(outFile, 'utf8') };
  }

  it('keeps what a container wrote in a named volume for the next container, populated once from the image', async () => {
    const volumes = openVolumeProvider({ root });
    const a = await makeContainer();
    const m = await volumes.mount({ name: 'appdata', destination: '/data', readonly: false }, a);
    expect(m.point).toMatchObject({
      Type: 'volume',
      Name: 'appdata',
      Destination: '/data',
      RW: true,
    });
    expect(await volumes.points(a)).toEqual([m.point]);
    // populated from the image, owners and modes kept
    const dirStat = await stat(m.source);
    expect([dirStat.uid, dirStat.gid, dirStat.mode & 0o7777]).toEqual([1234, 5678, 0o750]);
    const seedStat = await stat(join(m.source, 'seed.txt'));
    expect([seedStat.uid, seedStat.gid, seedStat.mode & 0o7777]).toEqual([1234, 5678, 0o640]);

    const wrote = await runIn(
      a,
      'cat /data/seed.txt && echo kept > /data/written && ls -ln /data',
      {
        binds: [{ source: m.source, destination: '/data' }],
      },
    );
    expect(wrote.exitCode).toBe(0);
    expect(wrote.out).toContain('from the image');
    expect(await volumes.store.usedBy('appdata')).toEqual([a.id]);
    await expect(volumes.store.remove('appdata')).rejects.toSatisfy(isConflict);

    // rm -v of the container: a named volume stays
    await volumes.release(a, true);
    await rm(a.dir, { recursive: true, force: true });
    expect(await volumes.store.usedBy('appdata')).toEqual([]);

    const b = await makeContainer();
    await writeFile(join(b.dir, 'rootfs', 'data', 'seed.txt'), 'changed image\n');
    const mb = await volumes.mount({ name: 'appdata', destination: '/data', readonly: true }, b);
    expect(mb.point.RW).toBe(false);
    const read = await runIn(
      b,
      'cat /data/written /data/seed.txt; (echo no > /data/x) 2>/dev/null || echo refused',
      {
        binds: [{ source: mb.source, destination: '/data', readonly: true }],
      },
    );
    // the volume was not empty: no second copy from the image
    expect(read.out).toContain('kept\nfrom the image\n');
    expect(read.out).toContain('refused');
    await volumes.release(b, false);
    await volumes.store.remove('appdata');
  });

  it('gives each container its own anonymous volume, kept across restarts and removed by rm -v', async () => {
    const volumes = openVolumeProvider({ root });
    const c = await makeContainer();
    const first = await volumes.mount({ name: '', destination: '/cache', readonly: false }, c);
    const name = first.point.Name ?? '';
    expect(name).toMatch(/^[0-9a-f]{64}$/);
    expect((await volumes.store.get(name)).Labels).toEqual({ [ANONYMOUS_LABEL]: '' });
    const again = await volumes.mount({ name: '', destination: '/cache', readonly: false }, c);
    expect(again.point.Name).toBe(name);

    const d = await makeContainer();
    const other = await volumes.mount({ name: '', destination: '/cache', readonly: false }, d);
    expect(other.point.Name).not.toBe(name);

    // prune leaves volumes in use alone
    expect((await volumes.store.prune()).removed).toEqual([]);
    await volumes.release(c, true);
    await expect(volumes.store.get(name)).rejects.toSatisfy(isNotFound);
    // rm without -v keeps it (dangling, for prune)
    await volumes.release(d, false);
    await rm(d.dir, { recursive: true, force: true });
    expect((await volumes.store.list({ dangling: true })).map((v) => v.Name)).toContain(
      other.point.Name,
    );
    expect((await volumes.store.prune()).removed).toEqual([other.point.Name]);
  });

  it('mounts host directories read-write and read-only, and tmpfs', async () => {
    const c = await makeContainer();
    const host = join(tmp, 'host-dir');
    await mkdir(host, { recursive: true });
    await writeFile(join(host, 'in.txt'), 'from the host\n');
    const r = await runIn(
      c,
      'cat /rw/in.txt; echo out > /rw/out.txt; (echo x > /ro/y) 2>/dev/null || echo ro-refused; echo t > /scratch/t && grep -q " /scratch tmpfs " /proc/mounts && echo tmpfs-ok',
      {
        binds: [
          { source: host, destination: '/rw' },
          { source: host, destination: '/ro', readonly: true },
        ],
        tmpfs: [{ destination: '/scratch' }],
      },
    );
    expect(r.out).toBe('from the host\nro-refused\ntmpfs-ok\n');
    expect(await readFile(join(host, 'out.txt'), 'utf8')).toBe('out\n');
    await expect(stat(join(c.dir, 'rootfs', 'scratch', 't'))).rejects.toThrow();
  });
});
