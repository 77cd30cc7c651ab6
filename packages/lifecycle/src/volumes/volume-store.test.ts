import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isConflict, isInvalidArgument, isNotFound } from '@lab/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VolumeStore } from './volume-store.js';
import { ANONYMOUS_LABEL, openVolumeStore } from './volume-store.js';

describe('volume store', () => {
  let tmp = '';
  let store: VolumeStore;
  const users = new Map<string, string[]>();

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'lab-vol-'));
    users.clear();
    store = openVolumeStore({
      root: tmp,
      usage: { usedBy: (name) => Promise.resolve(users.get(name) ?? []) },
    });
  });

  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('creates a named volume with docker-shaped metadata under <root>/volumes/<name>', async () => {
    const v = await store.create('data', { labels: { app: 'web' } });
    expect(v).toEqual({
      CreatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) as unknown,
      Driver: 'local',
      Labels: { app: 'web' },
      Mountpoint: join(tmp, 'volumes', 'data', '_data'),
      Name: 'data',
      Options: null,
      Scope: 'local',
    });
    expect((await stat(v.Mountpoint)).isDirectory()).toBe(true);
    const meta = JSON.parse(
      await readFile(join(tmp, 'volumes', 'data', 'volume.json'), 'utf8'),
    ) as object;
    expect(meta).toMatchObject({ Driver: 'local', Labels: { app: 'web' } });
    // creating it again returns the same volume, data kept
    await writeFile(join(v.Mountpoint, 'f'), 'x');
    const again = await store.create('data');
    expect(again.CreatedAt).toBe(v.CreatedAt);
    expect(await readFile(join(v.Mountpoint, 'f'), 'utf8')).toBe('x');
    // no temp directories are left behind
    expect(await readdir(join(tmp, 'volumes'))).toEqual(['data']);
  });

  it('names an unnamed volume with 64 hex digits', async () => {
    const v = await store.create();
    expect(v.Name).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses names docker refuses, in docker's words", async () => {
    for (const bad of ['a', '-x', 'x/y', '.hidden', 'a b']) {
      await expect(store.create(bad)).rejects.toSatisfy(
        (e: unknown) =>
          isInvalidArgument(e) &&
          String(e).includes('includes invalid characters for a local volume name'),
      );
    }
    await expect(store.create('x', { driver: 'nfs' })).rejects.toThrow(/plugin "nfs" not found/);
  });

  it('lists with name, label and dangling filters', async () => {
    await store.create('alpha', { labels: { tier: 'db' } });
    await store.create('beta');
    await store.create('alphabet');
    users.set('beta', ['c1']);
    const names = async (f: Parameters<VolumeStore['list']>[0]) =>
      (await store.list(f)).map((v) => v.Name);
    expect(await names({})).toEqual(['alpha', 'alphabet', 'beta']);
    expect(await names({ name: ['alpha'] })).toEqual(['alpha', 'alphabet']);
    expect(await names({ label: ['tier=db'] })).toEqual(['alpha']);
    expect(await names({ label: ['tier'] })).toEqual(['alpha']);
    expect(await names({ dangling: true })).toEqual(['alpha', 'alphabet']);
    expect(await names({ dangling: false })).toEqual(['beta']);
  });

  it('refuses to remove a volume in use, and a missing one unless forced', async () => {
    await store.create('busy');
    users.set('busy', ['abc123']);
    await expect(store.remove('busy')).rejects.toSatisfy(
      (e: unknown) =>
        isConflict(e) && String(e).includes('remove busy: volume is in use - [abc123]'),
    );
    await expect(store.remove('busy', { force: true })).rejects.toSatisfy(isConflict);
    users.delete('busy');
    await store.remove('busy');
    await expect(store.get('busy')).rejects.toSatisfy(
      (e: unknown) => isNotFound(e) && String(e).includes('get busy: no such volume'),
    );
    await expect(store.remove('busy')).rejects.toSatisfy(isNotFound);
    await store.remove('busy', { force: true });
  });

  it('prunes unused anonymous volumes, or every unused one with all', async () => {
    const anon = await store.create(undefined, { labels: { [ANONYMOUS_LABEL]: '' } });
    const usedAnon = await store.create(undefined, { labels: { [ANONYMOUS_LABEL]: '' } });
    await store.create('named');
    users.set(usedAnon.Name, ['c']);
    await mkdir(join(anon.Mountpoint, 'd'));
    await writeFile(join(anon.Mountpoint, 'd', 'f'), 'x'.repeat(1000));
    const first = await store.prune();
    expect(first.removed).toEqual([anon.Name]);
    expect(first.reclaimedBytes).toBeGreaterThanOrEqual(1000);
    const second = await store.prune({ all: true });
    expect(second.removed).toEqual(['named']);
    expect((await store.list()).map((v) => v.Name)).toEqual([usedAnon.Name]);
  });
});
