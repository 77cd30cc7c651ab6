import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInvalidArgument, sha256 } from '@lab/oci';
import { openContentStore, type ContentStore } from '../content/index.js';
import {
  missingTool,
  rewriteArchive,
  toolArchives,
  type ToolArchives,
} from '../../test/interop/fixtures.js';
import { resolveDockerArchive } from './docker-archive.js';
import { resolveOciArchive } from './oci-archive.js';
import { readArchive } from './read-archive.js';

const missing = missingTool('umoci', 'skopeo');
if (missing !== undefined) console.warn(`archive resolver tests skipped: ${missing}`);

describe.skipIf(missing !== undefined)('reading archives made by skopeo', () => {
  let tmp: string;
  let store: ContentStore;
  let tools: ToolArchives;
  let layoutIndex: { manifests: { digest: string }[] };
  let rootfsDigest: string;

  beforeAll(async () => {
    tools = await toolArchives();
    tmp = await mkdtemp(join(tmpdir(), 'lab-archive-'));
    layoutIndex = JSON.parse(
      readFileSync(join(tools.layout, 'index.json'), 'utf8'),
    ) as typeof layoutIndex;
    const { busyboxRootfsTar } = await import('../../test/interop/fixtures.js');
    rootfsDigest = sha256(readFileSync(await busyboxRootfsTar()));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  async function freshStore(): Promise<ContentStore> {
    store = await openContentStore(await mkdtemp(join(tmp, 'root-')));
    return store;
  }

  it('resolves a podman/skopeo docker-archive (symlinked legacy layer.tar) to one image with its RepoTags', async () => {
    const s = await freshStore();
    const catalog = await readArchive(s, createReadStream(tools.dockerArchive), {
      smallFileLimit: 4096,
    });
    const [image, ...rest] = await resolveDockerArchive(s, catalog);
    expect(rest).toHaveLength(0);
    expect(image?.names).toEqual(['docker.io/library/busybox:latest']);
    const manifest = JSON.parse(Buffer.from(image?.manifest.bytes ?? []).toString()) as {
      layers: { digest: string; mediaType: string }[];
    };
    expect(manifest.layers.map((l) => l.digest)).toEqual([rootfsDigest]);
    expect(manifest.layers[0]?.mediaType).toBe('application/vnd.oci.image.layer.v1.tar');
    // the big layer was spooled into the store while streaming
    expect(await s.has(rootfsDigest as `sha256:${string}`)).toBe(true);
  });

  it('resolves a gzip-compressed docker-archive the same way', async () => {
    const s = await freshStore();
    const gz = join(tmp, 'docker.tar.gz');
    execFileSync('sh', ['-c', `gzip -c ${tools.dockerArchive} > ${gz}`]);
    const catalog = await readArchive(s, createReadStream(gz));
    expect(catalog.compression).toBe('gzip');
    const images = await resolveDockerArchive(s, catalog);
    expect(images[0]?.names).toEqual(['docker.io/library/busybox:latest']);
  });

  it('reads an archive where GNU tar stored a file twice (the second time as a hard link to itself)', async () => {
    const s = await freshStore();
    const dir = join(tmp, 'twice');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('tar', ['-xf', tools.dockerArchive, '-C', dir]);
    const twice = join(tmp, 'twice.tar');
    execFileSync('sh', ['-c', `cd ${dir} && tar -cf ${twice} manifest.json * manifest.json`]);
    expect(execFileSync('tar', ['-tvf', twice]).toString()).toMatch(
      /manifest\.json link to manifest\.json/,
    );
    const images = await resolveDockerArchive(s, await readArchive(s, createReadStream(twice)));
    expect(images[0]?.names).toEqual(['docker.io/library/busybox:latest']);
  });

  it('resolves a zstd-compressed archive', async () => {
    const s = await freshStore();
    const zst = join(tmp, 'oci.tar.zst');
    execFileSync('zstd', ['-q', '-f', tools.ociArchive, '-o', zst]);
    const catalog = await readArchive(s, createReadStream(zst));
    expect(catalog.compression).toBe('zstd');
    expect(await resolveOciArchive(s, catalog)).toHaveLength(1);
  });

  it('picks the host platform from a multi-platform index in index.json', async () => {
    const s = await freshStore();
    const index = JSON.parse(readFileSync(join(tools.layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string; size: number; mediaType: string }[];
    };
    const amd64 = index.manifests[0];
    const nested = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          // an arm64 entry whose blobs are not in the archive: must be skipped, not read
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: `sha256:${'a'.repeat(64)}`,
            size: 10,
            platform: { os: 'linux', architecture: 'arm64' },
          },
          {
            mediaType: amd64?.mediaType,
            digest: amd64?.digest,
            size: amd64?.size,
            platform: { os: 'linux', architecture: 'amd64' },
          },
        ],
      }),
    );
    const nestedDigest = sha256(nested);
    const multi = join(tmp, 'multi.tar');
    await rewriteArchive(
      tools.ociArchive,
      multi,
      (e) =>
        e.name === 'index.json'
          ? {
              name: e.name,
              body: Buffer.from(
                JSON.stringify({
                  schemaVersion: 2,
                  manifests: [
                    {
                      mediaType: 'application/vnd.oci.image.index.v1+json',
                      digest: nestedDigest,
                      size: nested.length,
                      annotations: { 'org.opencontainers.image.ref.name': 'multi:v1' },
                    },
                  ],
                }),
              ),
            }
          : e,
      [{ name: `blobs/sha256/${nestedDigest.slice(7)}`, body: nested }],
    );
    const [image] = await resolveOciArchive(s, await readArchive(s, createReadStream(multi)));
    expect(image?.manifest.descriptor.digest).toBe(amd64?.digest);
    expect(image?.names).toEqual(['multi:v1']);
    await expect(
      resolveOciArchive(s, await readArchive(s, createReadStream(multi)), {
        os: 'linux',
        architecture: 's390x',
      }),
    ).rejects.toSatisfy((err: Error) => isInvalidArgument(err) && /linux\/s390x/.test(err.message));
  });

  it('resolves an oci-archive keeping the manifest bytes (same digest as the layout)', async () => {
    const s = await freshStore();
    const catalog = await readArchive(s, createReadStream(tools.ociArchive));
    const [image] = await resolveOciArchive(s, catalog);
    expect(image?.manifest.descriptor.digest).toBe(layoutIndex.manifests[0]?.digest);
    expect(image?.names).toEqual(['busybox:latest']);
    expect(image?.blobs).toHaveLength(3);
  });

  it('refuses a blob whose content does not match its name, naming the entry', async () => {
    const s = await freshStore();
    const bad = join(tmp, 'tampered.tar');
    await rewriteArchive(tools.ociArchive, bad, (e) => {
      if (!e.name.startsWith('blobs/') || e.body.length < 1000) return e;
      const body = Buffer.from(e.body);
      body[body.length - 1] = (body.at(-1) ?? 0) ^ 0xff;
      return { name: e.name, body };
    });
    await expect(readArchive(s, createReadStream(bad))).rejects.toSatisfy(
      (err: Error) =>
        isInvalidArgument(err) &&
        /blobs\/sha256\/[0-9a-f]{64}/.test(err.message) &&
        /digest mismatch/.test(err.message),
    );
  });

  it('refuses entry names that climb out of the archive', async () => {
    const s = await freshStore();
    const bad = join(tmp, 'traversal.tar');
    await rewriteArchive(tools.dockerArchive, bad, (e) =>
      e.name === 'repositories' ? { name: '../../etc/evil', body: e.body } : e,
    );
    await expect(readArchive(s, createReadStream(bad))).rejects.toSatisfy(
      (err: Error) => isInvalidArgument(err) && err.message.includes('../../etc/evil'),
    );
  });

  it('refuses a truncated archive, naming the entry that ends early', async () => {
    const s = await freshStore();
    const bytes = await readFile(tools.dockerArchive);
    const cut = bytes.subarray(0, Math.floor(bytes.length / 2));
    await expect(readArchive(s, Readable.from([cut]))).rejects.toSatisfy(
      (err: Error) =>
        isInvalidArgument(err) && /truncated/.test(err.message) && /entry "/.test(err.message),
    );
  });

  it('refuses a corrupt gzip archive', async () => {
    const s = await freshStore();
    const gz = execFileSync('gzip', ['-c', tools.dockerArchive], { maxBuffer: 1 << 26 });
    const broken = Buffer.from(gz.subarray(0, gz.length - 100));
    await expect(readArchive(s, Readable.from([broken]))).rejects.toSatisfy(
      (err: Error) => isInvalidArgument(err) && /gzip/.test(err.message),
    );
  });

  it('refuses a docker-archive whose layer does not match the config DiffID', async () => {
    const s = await freshStore();
    const bad = join(tmp, 'wrong-layer.tar');
    await rewriteArchive(tools.dockerArchive, bad, (e) => {
      if (!e.name.endsWith('.tar')) return e;
      const body = Buffer.from(e.body);
      body[600] = (body[600] ?? 0) ^ 0x01;
      return { name: e.name, body };
    });
    const catalog = await readArchive(s, createReadStream(bad));
    await expect(resolveDockerArchive(s, catalog)).rejects.toSatisfy(
      (err: Error) =>
        isInvalidArgument(err) && /DiffID/.test(err.message) && /\.tar"/.test(err.message),
    );
  });
});
