import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { blobPath, isInvalidArgument, sha256 } from '@lab/oci';
import { gc } from '../gc/index.js';
import { openImageStore, type ImageStore } from '../images/image-store.js';
import {
  busyboxRootfsTar,
  missingTool,
  rewriteArchive,
  toolArchives,
  type ToolArchives,
} from '../../test/interop/fixtures.js';
import { importRootfs } from './import-rootfs.js';
import { loadArchive } from './load-archive.js';

const run = promisify(execFile);
const missing = missingTool('umoci', 'skopeo');
if (missing !== undefined) console.warn(`loadArchive tests skipped: ${missing}`);

/** index.json and the list of blobs: what must not change when a load fails. */
async function snapshot(root: string): Promise<{ index: string; blobs: string[] }> {
  return {
    index: await readFile(join(root, 'index.json'), 'utf8'),
    blobs: (await readdir(join(root, 'blobs/sha256'))).sort(),
  };
}

describe.skipIf(missing !== undefined)('loadArchive', () => {
  let tmp: string;
  let tools: ToolArchives;

  beforeAll(async () => {
    tools = await toolArchives();
    tmp = await mkdtemp(join(tmpdir(), 'lab-load-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  async function fresh(): Promise<ImageStore> {
    return openImageStore(await mkdtemp(join(tmp, 'root-')));
  }

  it('loads a docker-archive and names it so that skopeo finds it as oci:<root>:busybox', async () => {
    const content = await fresh();
    const result = await loadArchive(content, createReadStream(tools.dockerArchive));
    expect(result.format).toBe('docker-archive');
    expect(result.images).toHaveLength(1);
    expect(result.images[0]?.name).toBe('docker.io/library/busybox:latest');
    const { stdout } = await run('skopeo', ['inspect', '--raw', `oci:${content.root}:busybox`]);
    expect(JSON.parse(stdout)).toMatchObject({
      schemaVersion: 2,
      config: { digest: result.images[0]?.id },
    });
  });

  it('loads an oci-archive with the manifest digest unchanged', async () => {
    const content = await fresh();
    const result = await loadArchive(content, createReadStream(tools.ociArchive));
    const layout = JSON.parse(await readFile(join(tools.layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    expect(result.format).toBe('oci-archive');
    expect(result.images[0]).toMatchObject({
      name: 'docker.io/library/busybox:latest',
      manifestDigest: layout.manifests[0]?.digest,
    });
  });

  it('keeps index.json unchanged when an archive is bad', async () => {
    const content = await fresh();
    await importRootfs(content, createReadStream(await busyboxRootfsTar()), 'keep:me', {
      created: '2000-01-01T00:00:00Z',
    });
    const before = await snapshot(content.root);
    const bad = join(tmp, 'bad-media.tar');
    // a consistent archive (digests fixed up) whose manifest names an unknown layer media type
    const renamed = new Map<string, { digest: string; size: number }>();
    await rewriteArchive(tools.ociArchive, bad, (e) => {
      const text = e.body.toString();
      if (e.name.startsWith('blobs/') && text.includes('"layers"')) {
        const body = Buffer.from(
          text.replace('application/vnd.oci.image.layer.v1.tar+gzip', 'application/x-made-up'),
        );
        const digest = sha256(body);
        renamed.set(`sha256:${e.name.split('/').at(-1) ?? ''}`, { digest, size: body.length });
        return { name: blobPath(digest), body };
      }
      if (e.name === 'index.json') {
        let out = text;
        for (const [old, next] of renamed) {
          out = out.replace(old, next.digest).replace(/"size":\d+/, `"size":${next.size}`);
        }
        return { name: e.name, body: Buffer.from(out) };
      }
      return e;
    });
    await expect(loadArchive(content, createReadStream(bad))).rejects.toSatisfy(
      (err: Error) =>
        isInvalidArgument(err) &&
        err.message.includes('application/x-made-up') &&
        /blobs\/sha256\/[0-9a-f]{64} layers\[0\]/.test(err.message),
    );
    expect((await snapshot(content.root)).index).toBe(before.index);

    // and a blob that does not match its name is refused while streaming
    const tampered = join(tmp, 'tampered.tar');
    await rewriteArchive(tools.ociArchive, tampered, (e) =>
      e.name.startsWith('blobs/') && e.body.toString().includes('"layers"')
        ? { name: e.name, body: Buffer.from(e.body.toString().replace('"layers"', '"layers" ')) }
        : e,
    );
    await expect(loadArchive(content, createReadStream(tampered))).rejects.toSatisfy(
      isInvalidArgument,
    );
    // a truncated docker-archive
    const bytes = await readFile(tools.dockerArchive);
    await expect(
      loadArchive(content, Readable.from([bytes.subarray(0, 700_000)])),
    ).rejects.toSatisfy(isInvalidArgument);
    expect((await snapshot(content.root)).index).toBe(before.index);
    // what the failed loads spooled is unreferenced: gc takes the store back to where it was
    await gc(content);
    expect(await snapshot(content.root)).toEqual(before);
    expect(await readdir(join(content.root, 'ingest'))).toEqual([]);
  });

  it('two loads and a gc running at once leave both images complete', async () => {
    const content = await fresh();
    await Promise.all([
      loadArchive(content, createReadStream(tools.dockerArchive)),
      loadArchive(content, createReadStream(tools.ociArchive)),
      gc(content),
      gc(content),
    ]);
    await gc(content);
    const listed = await content.list();
    expect(listed).toHaveLength(2); // same config, two manifests (uncompressed vs gzip layer)
    for (const image of listed) {
      const resolved = await content.resolve(image.digest);
      for (const layer of resolved.layers)
        expect(await content.content.has(layer.digest)).toBe(true);
    }
  });

  it('loads an untagged image (RepoTags null) as a dangling image named by ID', async () => {
    const content = await fresh();
    const bad = join(tmp, 'untagged.tar');
    await rewriteArchive(tools.dockerArchive, bad, (e) =>
      e.name === 'manifest.json'
        ? {
            name: e.name,
            body: Buffer.from(
              e.body.toString().replace(/"RepoTags":\[[^\]]*\]/, '"RepoTags":null'),
            ),
          }
        : e,
    );
    const result = await loadArchive(content, createReadStream(bad));
    expect(result.images).toEqual([
      {
        id: expect.stringMatching(/^sha256:/) as unknown,
        manifestDigest: expect.any(String) as unknown,
      },
    ]);
    const [image] = await content.list();
    expect(image?.names).toEqual([]);
    expect(image?.id).toBe(result.images[0]?.id);
  });

  it('loading a name that exists moves the name and leaves the old image dangling', async () => {
    const content = await fresh();
    const old = await importRootfs(content, createReadStream(await busyboxRootfsTar()), 'busybox', {
      created: '2001-01-01T00:00:00Z',
    });
    const result = await loadArchive(content, createReadStream(tools.dockerArchive));
    const listed = await content.list();
    expect(listed.find((i) => i.id === old.id)?.names).toEqual([]);
    expect(listed.find((i) => i.id === result.images[0]?.id)?.names).toEqual([
      'docker.io/library/busybox:latest',
    ]);
  });
});
