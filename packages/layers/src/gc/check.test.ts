import { mkdtemp, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openImageStore, type ImageStore } from '../images/image-store.js';
import { makeImage, makeLayer } from '../images/test-image.fixture.js';
import { checkStore } from './check.js';

let root: string;
let images: ImageStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lab-check-'));
  images = await openImageStore(root);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('checkStore', () => {
  it('finds nothing wrong in a healthy store', async () => {
    await makeImage(images, [await makeLayer(images.content, { a: 'a' })], 'ok');
    expect(await checkStore(images)).toEqual({
      corrupt: [],
      missing: [],
      unresolvable: [],
      unreferenced: [],
      staleIngests: [],
    });
  });

  it('reports corrupt, missing and unreferenced blobs and stale ingests', async () => {
    const l1 = await makeLayer(images.content, { a: 'a' });
    const l2 = await makeLayer(images.content, { b: 'b' });
    await makeImage(images, [l1, l2], 'damaged');
    await writeFile(images.content.path(l1.descriptor.digest), 'bit rot');
    await unlink(images.content.path(l2.descriptor.digest));
    const stray = await images.content.ingest('stray');
    const w = await images.content.writer();
    await w.write(Buffer.from('half'));
    const old = new Date(Date.now() - 3600_000);
    await utimes(join(root, 'ingest', w.ref), old, old);
    const check = await checkStore(images);
    expect(check.corrupt).toEqual([l1.descriptor.digest]);
    expect(check.missing).toEqual([
      { image: 'docker.io/library/damaged:latest', digest: l2.descriptor.digest },
    ]);
    expect(check.unreferenced).toEqual([stray.digest]);
    expect(check.staleIngests).toEqual([w.ref]);
    await w.abort();
  });

  it('reports an image whose manifest is unreadable as unresolvable', async () => {
    const image = await makeImage(images, [await makeLayer(images.content, { a: 'a' })], 'broken');
    await unlink(images.content.path(image.configDescriptor.digest));
    const check = await checkStore(images);
    expect(check.unresolvable).toHaveLength(1);
    expect(check.unresolvable[0]?.image).toBe('docker.io/library/broken:latest');
    expect(check.unresolvable[0]?.problem).toContain(image.configDescriptor.digest);
  });
});
