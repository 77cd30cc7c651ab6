import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNotFound, sha256 } from '@lab/oci';
import {
  busyboxRootfsTar,
  missingTool,
  toolArchives,
  type ToolArchives,
} from '../../test/interop/fixtures.js';
import { openImageStore, type ImageStore } from '../images/image-store.js';
import { readTar } from '../tar/index.js';
import { loadArchive } from './load-archive.js';
import { saveArchive } from './save-archive.js';

const missing = missingTool('umoci', 'skopeo');
if (missing !== undefined) console.warn(`saveArchive tests skipped: ${missing}`);

async function saveToBuffer(
  images: ImageStore,
  words: string[],
  format: 'docker-archive' | 'oci-archive',
): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await saveArchive(images, words, out, { format });
  return Buffer.concat(chunks);
}

async function entries(archive: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const e of readTar(Readable.from([archive]))) {
    if (e.header.type === 'file') out.set(e.header.name, await e.readBody());
  }
  return out;
}

describe.skipIf(missing !== undefined)('saveArchive', () => {
  let tmp: string;
  let tools: ToolArchives;
  let images: ImageStore;
  let id: string;

  beforeAll(async () => {
    tools = await toolArchives();
    tmp = await mkdtemp(join(tmpdir(), 'lab-save-'));
    images = await openImageStore(join(tmp, 'root'));
    // skopeo's oci-archive has a gzip layer: saving it as docker-archive must decompress it
    id = (await loadArchive(images, createReadStream(tools.ociArchive))).images[0]?.id ?? '';
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('writes docker-archive layers uncompressed and named by DiffID, in Docker 25 layout', async () => {
    const archive = await saveToBuffer(images, ['busybox'], 'docker-archive');
    const files = await entries(archive);
    const diffID = sha256(readFileSync(await busyboxRootfsTar()));
    const manifest = JSON.parse(files.get('manifest.json')?.toString() ?? '') as unknown;
    expect(manifest).toEqual([
      {
        Config: `blobs/sha256/${id.slice(7)}`,
        RepoTags: ['busybox:latest'],
        Layers: [`blobs/sha256/${diffID.slice(7)}`],
      },
    ]);
    expect(sha256(files.get(`blobs/sha256/${diffID.slice(7)}`) ?? Buffer.alloc(0))).toBe(diffID);
    expect(JSON.parse(files.get('repositories')?.toString() ?? '')).toEqual({
      busybox: { latest: diffID.slice(7) },
    });
    expect([...files.keys()]).toEqual(expect.arrayContaining(['index.json', 'oci-layout']));
    // the decompression went through ingest/ and left nothing there
    expect(await readdir(join(images.root, 'ingest'))).toEqual([]);
    // and skopeo reads it both as a docker-archive and as an OCI layout
    const file = join(tmp, 'saved.tar');
    execFileSync('sh', ['-c', `cat > ${file}`], { input: archive });
    execFileSync('skopeo', ['inspect', `docker-archive:${file}`]);
    execFileSync('skopeo', ['inspect', `oci-archive:${file}:busybox`]);
  });

  it('is deterministic, and a round trip keeps the image ID', async () => {
    for (const format of ['docker-archive', 'oci-archive'] as const) {
      const a = await saveToBuffer(images, ['busybox'], format);
      const b = await saveToBuffer(images, ['busybox'], format);
      expect(sha256(a)).toBe(sha256(b));
      const other = await openImageStore(await mkdtemp(join(tmp, 'other-')));
      const loaded = await loadArchive(other, Readable.from([a]));
      expect(loaded.images).toMatchObject([{ name: 'docker.io/library/busybox:latest', id }]);
    }
  });

  it('an image saved by ID carries no name', async () => {
    const files = await entries(await saveToBuffer(images, [id.slice(7, 19)], 'docker-archive'));
    expect(JSON.parse(files.get('manifest.json')?.toString() ?? '')).toMatchObject([
      { RepoTags: null },
    ]);
    expect(files.has('repositories')).toBe(false);
  });

  it('reports an output that fails midway (a closed pipe) as a rejection, not a crash', async () => {
    let calls = 0;
    const out = new Writable({
      highWaterMark: 1024,
      write(_chunk, _enc, done) {
        calls++;
        done(calls > 2 ? Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) : null);
      },
    });
    await expect(saveArchive(images, ['busybox'], out)).rejects.toMatchObject({ code: 'EPIPE' });
  });

  it('refuses an unknown image before writing anything', async () => {
    const out = new PassThrough();
    let written = 0;
    out.on('data', (c: Buffer) => (written += c.length));
    await expect(saveArchive(images, ['busybox', 'nope:1'], out)).rejects.toSatisfy(isNotFound);
    expect(written).toBe(0);
  });
});
