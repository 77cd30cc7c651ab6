/**
 * Test helper: real layers made with GNU tar (gzip), committed as images through
 * `commitImage`. Used by the image store and gc tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { hostPlatform, OCI_MEDIA_TYPES, sha256, type Descriptor, type Digest } from '@lab/oci';
import type { ContentLease, ContentStore } from '../content/content-store.js';
import { commitImage, type CommitLayer, type CommittedImage } from './commit-image.js';
import type { ImageStore } from './image-store.js';

/** A gzip layer holding `files` (path → content), made by GNU tar, ingested into `content`. */
export async function makeLayer(
  content: ContentStore,
  files: Record<string, string>,
  lease?: ContentLease,
): Promise<CommitLayer> {
  const dir = await mkdtemp(join(tmpdir(), 'lab-layer-'));
  try {
    const tree = join(dir, 'tree');
    execFileSync('mkdir', ['-p', tree]);
    for (const [path, text] of Object.entries(files)) {
      execFileSync('mkdir', ['-p', join(tree, path, '..')]);
      await writeFile(join(tree, path), text);
    }
    const tgz = execFileSync('tar', [
      '-C',
      tree,
      '--numeric-owner',
      '--owner=0',
      '--group=0',
      '--mtime=@0',
      '--sort=name',
      '-czf',
      '-',
      ...Object.keys(files).sort(),
    ]);
    const diffID: Digest = sha256(gunzipSync(tgz));
    const { digest, size } = await content.ingest(tgz, {}, lease === undefined ? {} : { lease });
    const descriptor: Descriptor = { mediaType: OCI_MEDIA_TYPES.layerGzip, digest, size };
    return { descriptor, diffID };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Commits an image for the host platform with the given layers. */
export async function makeImage(
  images: ImageStore,
  layers: CommitLayer[],
  name?: string,
  created = '2024-01-02T03:04:05Z',
  lease?: ContentLease,
): Promise<CommittedImage> {
  const host = hostPlatform();
  return commitImage(images, {
    config: {
      architecture: host.architecture,
      os: host.os,
      created,
      config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] },
      history: layers.map((_, i) => ({ created, created_by: `layer ${i}` })),
    },
    layers,
    ...(name === undefined ? {} : { name }),
    ...(lease === undefined ? {} : { lease }),
  });
}
