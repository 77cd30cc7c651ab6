import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInvalidArgument, sha256 } from '@lab/oci';
import { busyboxRootfsTar, missingTool, rewriteArchive } from '../../test/interop/fixtures.js';
import { applyLayer } from '../diff/index.js';
import { gc } from '../gc/index.js';
import { openImageStore, type ImageStore } from '../images/image-store.js';
import { listTree } from '../testsuite/tree-listing.js';
import { importRootfs } from './import-rootfs.js';

const missing = missingTool('tar', 'gzip');
if (missing !== undefined) console.warn(`importRootfs tests skipped: ${missing}`);

describe.skipIf(missing !== undefined)('importRootfs', () => {
  let tmp: string;
  let rootfsTar: string;
  let expected: string;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'lab-import-'));
    rootfsTar = await busyboxRootfsTar();
    expected = join(tmp, 'expected');
    await mkdir(expected);
    execFileSync('tar', ['-xpf', rootfsTar, '-C', expected]);
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const fresh = async (): Promise<ImageStore> => openImageStore(await mkdtemp(join(tmp, 'root-')));

  it('stores the tar byte for byte as the one layer, with the config given', async () => {
    const images = await fresh();
    const result = await importRootfs(images, createReadStream(rootfsTar), 'busybox', {
      config: { Cmd: ['sh'] },
      created: '2000-01-01T00:00:00Z',
    });
    expect(result.diffID).toBe(sha256(readFileSync(rootfsTar)));
    const image = await images.resolve('busybox');
    expect(image.id).toBe(result.id);
    expect(image.layers).toEqual([
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: result.diffID,
        size: readFileSync(rootfsTar).length,
      },
    ]);
    expect(image.config).toMatchObject({
      created: '2000-01-01T00:00:00Z',
      os: 'linux',
      config: { Cmd: ['sh'] },
      history: [{ created: '2000-01-01T00:00:00Z', comment: 'Imported from -' }],
    });
  });

  it('takes a gzip-compressed tar and stores the same uncompressed layer', async () => {
    const images = await fresh();
    const gz = execFileSync('gzip', ['-c', rootfsTar], { maxBuffer: 1 << 26 });
    const result = await importRootfs(images, Readable.from([gz]), undefined, {
      created: '2000-01-01T00:00:00Z',
    });
    expect(result.diffID).toBe(sha256(readFileSync(rootfsTar)));
    expect((await images.list())[0]?.names).toEqual([]);
  });

  it('archives a directory deterministically, and the layer applies back to the same tree', async () => {
    const images = await fresh();
    const first = await importRootfs(images, { directory: expected }, 'fromdir', {
      created: '2000-01-01T00:00:00Z',
    });
    const again = await importRootfs(images, { directory: expected }, 'fromdir2', {
      created: '2000-01-01T00:00:00Z',
    });
    expect(again.id).toBe(first.id);
    const target = await mkdtemp(join(tmp, 'unpack-'));
    await chmod(target, 0o755);
    await applyLayer(await images.content.reader(first.diffID), target);
    expect(await listTree(target)).toEqual(await listTree(expected));
  });

  it('a gc running during the import never takes the new layer', async () => {
    const images = await fresh();
    for (let i = 0; i < 3; i++) {
      const [result] = await Promise.all([
        importRootfs(images, createReadStream(rootfsTar), `race:${String(i)}`),
        gc(images),
        gc(images),
      ]);
      await gc(images);
      expect(await images.content.has(result.diffID)).toBe(true);
      await images.removeEntries((await images.get(`race:${String(i)}`)).digest);
      await gc(images);
    }
  });

  it('refuses a truncated tar or a tar with names that climb out, naming nothing', async () => {
    const images = await fresh();
    const before = await readFile(join(images.root, 'index.json'), 'utf8');
    const bytes = readFileSync(rootfsTar);
    await expect(
      importRootfs(images, Readable.from([bytes.subarray(0, 1_000_000)]), 'cut'),
    ).rejects.toSatisfy(isInvalidArgument);
    const hostile = join(tmp, 'hostile.tar');
    await rewriteArchive(rootfsTar, hostile, (e) =>
      e.name === 'etc/passwd' ? { name: '../../etc/passwd', body: e.body } : e,
    );
    await expect(importRootfs(images, createReadStream(hostile), 'hostile')).rejects.toSatisfy(
      (err: Error) => isInvalidArgument(err) && err.message.includes('../../etc/passwd'),
    );
    expect(await readFile(join(images.root, 'index.json'), 'utf8')).toBe(before);
  });
});
