import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isConflict, isFailedPrecondition, sha256, type Digest } from '@lab/oci';
import { chainIDs } from '../images/chain-id.js';
import type { CommitLayer } from '../images/commit-image.js';
import { openImageStore, type ImageStore } from '../images/image-store.js';
import { makeImage, makeLayer } from '../images/test-image.fixture.js';
import { gc, referencedChainIDs } from './gc.js';
import { createLease } from './lease.js';
import { prune, removeImage } from './remove-image.js';

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = resolve(here, '../..');
const repoRoot = resolve(packageRoot, '../..');

let root: string;
let images: ImageStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lab-gc-'));
  images = await openImageStore(root);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function blobs(store: ImageStore = images): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const info of store.content.walk()) out.add(info.digest);
  return out;
}

/** Every blob of every listed image is present and intact. */
async function expectAllImagesIntact(store: ImageStore = images): Promise<void> {
  for (const image of await store.list()) {
    const r = await store.resolve(image.id);
    for (const d of [
      r.digest,
      r.manifestDescriptor.digest,
      r.configDigest,
      ...r.layers.map((l) => l.digest),
    ]) {
      await store.content.readBlob(d);
    }
  }
}

describe('gc', () => {
  it('removes nothing while every blob is referenced, and returns what it removed', async () => {
    const layer = await makeLayer(images.content, { a: 'a' });
    await makeImage(images, [layer], 'keep');
    const stray = await images.content.ingest('unreferenced');
    const before = await blobs();
    const result = await gc(images);
    expect(result.removedBlobs).toEqual([{ digest: stray.digest, size: stray.size }]);
    expect(result.reclaimedBytes).toBe(stray.size);
    const after = await blobs();
    expect(after.size).toBe(before.size - 1);
    expect(after.has(stray.digest)).toBe(false);
    expect((await gc(images)).removedBlobs).toEqual([]);
    await expectAllImagesIntact();
  });

  it('removing an image deletes only the blobs no other image uses', async () => {
    const shared = await makeLayer(images.content, { base: 'base' });
    const onlyA = await makeLayer(images.content, { a: 'a' });
    const onlyB = await makeLayer(images.content, { b: 'b' });
    const a = await makeImage(images, [shared, onlyA], 'a');
    const b = await makeImage(images, [shared, onlyB], 'b');
    const result = await removeImage(images, 'a');
    expect(result.untagged).toEqual(['docker.io/library/a:latest']);
    expect(result.deleted).toEqual([a.id]);
    expect(new Set(result.gc?.removedBlobs.map((x) => x.digest))).toEqual(
      new Set([a.manifestDescriptor.digest, a.configDescriptor.digest, onlyA.descriptor.digest]),
    );
    expect(await blobs()).toEqual(
      new Set([
        b.manifestDescriptor.digest,
        b.configDescriptor.digest,
        shared.descriptor.digest,
        onlyB.descriptor.digest,
      ]),
    );
    await expectAllImagesIntact();
  });

  it('never removes a blob that a remaining image references (random images and removals)', async () => {
    const pool: CommitLayer[] = [];
    for (let i = 0; i < 4; i++)
      pool.push(await makeLayer(images.content, { [`f${i}`]: String(i) }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.array(fc.nat(), { maxLength: 4 }),
        async (stacks, removals) => {
          const store = await openImageStore(await mkdtemp(join(tmpdir(), 'lab-gc-prop-')));
          try {
            const names: string[] = [];
            for (const [i, stack] of stacks.entries()) {
              const layers = [];
              for (const n of stack) {
                const p = pool[n]!;
                await store.content.ingest(await images.content.readBlob(p.descriptor.digest));
                layers.push(p);
              }
              await makeImage(store, layers, `img${i}`);
              names.push(`img${i}`);
            }
            for (const r of removals) {
              if (names.length === 0) break;
              const [name] = names.splice(r % names.length, 1);
              await removeImage(store, name!);
              await expectAllImagesIntact(store);
            }
            const stillNeeded = new Set<string>();
            for (const image of await store.list()) {
              const res = await store.resolve(image.id);
              for (const d of [res.digest, res.configDigest, ...res.layers.map((l) => l.digest)])
                stillNeeded.add(d);
            }
            expect(await blobs(store)).toEqual(stillNeeded);
          } finally {
            await rm(store.root, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('finishes a removal that crashed after the index write (process killed mid-sweep)', async () => {
    const keep = await makeImage(images, [await makeLayer(images.content, { k: 'k' })], 'keep');
    const l1 = await makeLayer(images.content, { x: '1' });
    const l2 = await makeLayer(images.content, { y: '2' });
    const gone = await makeImage(images, [l1, l2], 'gone');
    const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
    const child = spawnSync(
      tsx,
      ['--conditions=@lab/source', join(here, 'remove-child.fixture.ts'), root, 'gone'],
      {
        cwd: packageRoot,
        encoding: 'utf8',
      },
    );
    // tsx runs the script in a child node and reports its SIGKILL as status 137.
    expect(
      child.signal === 'SIGKILL' || child.status === 137,
      `${child.status} ${child.stderr}`,
    ).toBe(true);
    // The index no longer names the image, one blob went, the others are left over.
    const index = await readFile(join(root, 'index.json'), 'utf8');
    expect(index).not.toContain(gone.manifestDescriptor.digest);
    const leftover = [
      gone.manifestDescriptor.digest,
      gone.configDescriptor.digest,
      l1.descriptor.digest,
      l2.descriptor.digest,
    ];
    const present = await blobs();
    expect(leftover.filter((d) => present.has(d))).toHaveLength(3);
    // The next gc (from any command) finishes the job. The dead process still "holds" the
    // index lock: gc waits until the lock is stale (not refreshed for 10 s) and takes it over.
    const result = await gc(images);
    expect(result.removedBlobs).toHaveLength(3);
    for (const d of leftover) expect(await images.content.has(d)).toBe(false);
    expect((await images.get('keep')).id).toBe(keep.id);
    await expectAllImagesIntact();
  });

  it('leaves blobs for the next gc with prune: false (docker rmi --no-prune)', async () => {
    const gone = await makeImage(images, [await makeLayer(images.content, { x: 'x' })], 'gone');
    const result = await removeImage(images, 'gone', { prune: false });
    expect(result.gc).toBeUndefined();
    expect(await images.content.has(gone.configDescriptor.digest)).toBe(true);
    expect((await gc(images)).removedBlobs).toHaveLength(3);
  });

  it('keeps blobs held by a lease, extra roots and reference hooks; follows a manifest given as a root', async () => {
    const leased = await images.content.ingest('leased');
    const extra = await images.content.ingest('extra');
    const hooked = await images.content.ingest('hooked');
    const container = await makeImage(images, [await makeLayer(images.content, { c: 'c' })]);
    await images.removeEntries(container.manifestDescriptor.digest); // e.g. a container's image, untagged and removed
    const lease = await createLease(root);
    await lease.add(leased.digest);
    const result = await gc(images, {
      extraRoots: { blobs: [extra.digest, container.manifestDescriptor.digest] },
      references: [() => ({ blobs: [hooked.digest] })],
    });
    expect(result.removedBlobs).toEqual([]);
    await lease.release();
    const after = await gc(images, {
      extraRoots: { blobs: [container.manifestDescriptor.digest] },
    });
    expect(new Set(after.removedBlobs.map((b) => b.digest))).toEqual(
      new Set([leased.digest, extra.digest, hooked.digest]),
    );
    expect(await images.content.has(container.configDescriptor.digest)).toBe(true);
  });

  it('ignores and removes leases of dead processes (untouched past their age)', async () => {
    const blob = await images.content.ingest('orphan');
    const lease = await createLease(root);
    await lease.add(blob.digest);
    const old = new Date(Date.now() - 7 * 3600_000);
    await utimes(join(root, 'leases', `${lease.id}.json`), old, old);
    const result = await gc(images);
    expect(result.expiredLeases).toEqual([lease.id]);
    expect(result.removedBlobs.map((b) => b.digest)).toEqual([blob.digest]);
  });

  it('removes ingest leftovers older than the limit and keeps fresh ones', async () => {
    const stale = await images.content.writer({ ref: 'crashed' });
    await stale.write(Buffer.from('partial'));
    const fresh = await images.content.writer({ ref: 'running' });
    const old = new Date(Date.now() - 3600_000);
    await utimes(join(root, 'ingest', stale.ref), old, old);
    const result = await gc(images, { ingestMaxAgeMs: 60_000 });
    expect(result.removedIngests).toEqual([stale.ref]);
    expect((await images.content.ingests()).map((i) => i.ref)).toEqual([fresh.ref]);
    await fresh.abort();
    await stale.abort();
  });

  it('hands the snapshot sweep the ChainIDs still referenced', async () => {
    const l1 = await makeLayer(images.content, { a: 'a' });
    const l2 = await makeLayer(images.content, { b: 'b' });
    await makeImage(images, [l1, l2], 'two');
    const gone = await makeImage(images, [l2], 'gone');
    await removeImage(images, 'gone', { prune: false });
    const expected = new Set([...chainIDs([l1.diffID, l2.diffID]), 'container-snapshot']);
    expect(await referencedChainIDs(images)).toEqual(new Set(chainIDs([l1.diffID, l2.diffID])));
    let seen: ReadonlySet<string> | undefined;
    const result = await gc(images, {
      extraRoots: { snapshots: ['container-snapshot'] },
      sweepSnapshots: (keep) => {
        seen = keep;
        return Promise.resolve([gone.chainIDs[0]!]);
      },
    });
    expect(seen).toEqual(expected);
    expect(result.keptSnapshots).toEqual(expected);
    expect(result.removedSnapshots).toEqual([gone.chainIDs[0]]);
  });

  it('refuses to sweep when a referenced manifest cannot be read', async () => {
    const image = await makeImage(images, [await makeLayer(images.content, { a: 'a' })], 'x');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(images.content.path(image.manifestDescriptor.digest), '{"broken":');
    await images.content.ingest('stray');
    // The corrupt blob no longer hashes to its name: readBlob refuses it, gc stops.
    const err: unknown = await gc(images).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/corrupt|cannot be read/);
    expect(await images.content.has(image.configDescriptor.digest)).toBe(true);
    expect(await images.content.has(sha256('stray'))).toBe(true);
  });

  it('reports without removing on a dry run', async () => {
    const stray = await images.content.ingest('stray');
    expect((await gc(images, { dryRun: true })).removedBlobs.map((b) => b.digest)).toEqual([
      stray.digest,
    ]);
    expect(await images.content.has(stray.digest)).toBe(true);
  });
});

describe('removeImage and prune', () => {
  it('untags only while other names remain; by ID with several names it must be forced', async () => {
    const image = await makeImage(images, [await makeLayer(images.content, { a: 'a' })], 'one');
    await images.tag('one', 'two');
    expect(await removeImage(images, 'one')).toEqual({
      untagged: ['docker.io/library/one:latest'],
      deleted: [],
    });
    await images.tag('two', 'three');
    const err: unknown = await removeImage(images, image.id).catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
    expect((err as Error).message).toContain('referenced in multiple repositories');
    const forced = await removeImage(images, image.id.slice(7, 19), { force: true });
    expect(forced.deleted).toEqual([image.id]);
    expect(await images.list()).toEqual([]);
    expect(await blobs()).toEqual(new Set());
  });

  it('refuses to delete an image in use, and only untags it when forced', async () => {
    const image = await makeImage(images, [await makeLayer(images.content, { a: 'a' })], 'used');
    const isInUse = (i: { id: Digest }) => i.id === image.id;
    expect(
      isConflict(await removeImage(images, 'used', { isInUse }).catch((e: unknown) => e)),
    ).toBe(true);
    const forced = await removeImage(images, 'used', { isInUse, force: true });
    expect(forced).toEqual({ untagged: ['docker.io/library/used:latest'], deleted: [] });
    expect(await images.list()).toMatchObject([{ id: image.id, names: [] }]);
    await images.content.readBlob(image.configDescriptor.digest);
  });

  it('prunes dangling images by default and every unused image with dangling: false', async () => {
    const layer = await makeLayer(images.content, { a: 'a' });
    const dangling = await makeImage(images, [layer]);
    const named = await makeImage(images, [layer], 'named', '2023-01-01T00:00:00Z');
    const used = await makeImage(images, [layer], 'used', '2022-01-01T00:00:00Z');
    const isInUse = (i: { id: Digest }) => i.id === used.id;
    const first = await prune(images, { isInUse });
    expect(first.removedImages.map((i) => i.id)).toEqual([dangling.id]);
    expect(first.gc.removedBlobs.map((b) => b.digest).sort()).toEqual(
      [dangling.manifestDescriptor.digest, dangling.configDescriptor.digest].sort(),
    );
    const all = await prune(images, { dangling: false, isInUse });
    expect(all.removedImages.map((i) => i.id)).toEqual([named.id]);
    expect((await images.list()).map((i) => i.id)).toEqual([used.id]);
    await expectAllImagesIntact();
  });
});

describe('gc and failed preconditions', () => {
  it('stops with failed-precondition when a reachable config is not a config', async () => {
    const image = await makeImage(images, [await makeLayer(images.content, { a: 'a' })], 'x');
    // Point a manifest at a layer blob as if it were the config.
    const { encodeDocument, OCI_MEDIA_TYPES } = await import('@lab/oci');
    const r = await images.resolve('x');
    const bad = encodeDocument(OCI_MEDIA_TYPES.manifest, {
      schemaVersion: 2,
      mediaType: OCI_MEDIA_TYPES.manifest,
      config: { ...r.layers[0]!, mediaType: OCI_MEDIA_TYPES.config },
      layers: r.layers,
    });
    await images.content.ingest(bad.bytes);
    await images.putUnnamed(bad.descriptor);
    const err: unknown = await gc(images).catch((e: unknown) => e);
    expect(isFailedPrecondition(err)).toBe(true);
    expect(await images.content.has(image.configDescriptor.digest)).toBe(true);
    expect((await readdir(join(root, 'blobs', 'sha256'))).length).toBeGreaterThan(0);
  });
});

describe('gc racing image writers in another process', () => {
  it('never takes a blob of an image being written under a lease', async () => {
    const { spawn } = await import('node:child_process');
    const { writeFile } = await import('node:fs/promises');
    const { withLease } = await import('./lease.js');
    const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
    const stop = join(root, 'stop-gc');
    const child = spawn(
      tsx,
      ['--conditions=@lab/source', join(here, 'gc-loop.fixture.ts'), root, stop],
      {
        cwd: packageRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((ok) => child.on('close', ok));
    try {
      // start writing only once the other process is collecting (its start-up is slow under load)
      const { existsSync } = await import('node:fs');
      for (let i = 0; i < 600 && !existsSync(`${stop}.started`) && child.exitCode === null; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(existsSync(`${stop}.started`), `the gc loop did not start: ${err}`).toBe(true);
      for (let round = 0; round < 8; round++) {
        await withLease(root, async (lease) => {
          const base = await makeLayer(images.content, { [`base${round}`]: String(round) }, lease);
          const top = await makeLayer(images.content, { [`top${round}`]: String(round) }, lease);
          await makeImage(images, [base, top], `race${round}`, undefined, lease);
        });
        // Leave garbage behind for the other process to collect meanwhile.
        if (round > 0) await removeImage(images, `race${round - 1}`, { prune: false });
        await expectAllImagesIntact();
      }
    } finally {
      await writeFile(stop, '');
    }
    expect(await exited, err).toBe(0);
    expect(Number(out.trim())).toBeGreaterThan(0);
    expect((await images.list()).map((i) => i.names)).toEqual([['docker.io/library/race7:latest']]);
    await expectAllImagesIntact();
  });
});

describe('gc and unknown media types', () => {
  it('follows an index.json entry of an unknown media type when it is a manifest', async () => {
    const image = await makeImage(images, [await makeLayer(images.content, { a: 'a' })], 'x');
    const { readIndex, updateIndex } = await import('../images/index-file.js');
    // Re-label the entry with a media type lab does not know (as some tools write).
    await updateIndex(root, (entries) => ({
      entries: entries.map((e) => ({
        ...e,
        mediaType: 'application/vnd.example.manifest.v9+json',
      })),
      result: undefined,
    }));
    expect((await readIndex(root)).manifests).toHaveLength(1);
    const result = await gc(images);
    expect(result.removedBlobs).toEqual([]);
    expect(await images.content.has(image.configDescriptor.digest)).toBe(true);
  });
});
