import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asDigest, type Digest, isInvalidArgument } from '@lab/oci';
import { chainID } from '../diff/index.js';
import { listTree, listUnionView, type TreeEntry } from '../testsuite/tree-listing.js';
import { openUnionView } from '../union/union-view.js';
import { buildLayerStack, toTarStyle, withMount } from './layer-stack.fixture.js';
import { listMountPoints } from './mount.js';
import { openSnapshotter } from './open.js';
import type { Snapshotter, SnapshotterKind } from './types.js';
import { type UnpackLayer, unpackImageLayers } from './unpack.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('skipping unpack tests: mounting and mknod need root');

const repoRoot = path.resolve(import.meta.dirname, '../../../..');

interface LayerTar {
  file: string;
  diffID: Digest;
}

describe.skipIf(!isRoot)('unpackImageLayers', () => {
  let tmp: string;
  let counter = 0;
  /** Layer tars made by GNU tar from the kernel-built overlay layers, bottom first. */
  const tars: LayerTar[] = [];
  /** The tree after each layer, as the kernel overlay shows it. */
  const expected: TreeEntry[][] = [];

  const scratch = (): string => path.join(tmp, `s-${counter++}`);

  function image(layers: readonly LayerTar[]): UnpackLayer[] {
    return layers.map((layer, i) => ({
      chainID: chainID(layers.slice(0, i + 1).map((l) => l.diffID)),
      diffID: layer.diffID,
      open: () => createReadStream(layer.file),
    }));
  }

  async function views(sn: Snapshotter, layers: UnpackLayer[]): Promise<TreeEntry[][]> {
    const out: TreeEntry[][] = [];
    for (const layer of layers) {
      const key = `check-${counter}`;
      out.push(await withMount(await sn.view(key, layer.chainID), scratch(), listTree));
      await sn.remove(key);
    }
    return out;
  }

  async function snapshotNames(sn: Snapshotter): Promise<string[]> {
    const names: string[] = [];
    await sn.walk((info) => {
      names.push(`${info.kind} ${info.name}`);
    });
    return names;
  }

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lab-unpack-'));
    const kernel = await openSnapshotter('overlay', path.join(tmp, 'kernel'));
    const names = await buildLayerStack(kernel, tmp);
    for (const [i, name] of names.entries()) {
      const tarStyle = path.join(tmp, `tar-style-${i}`);
      await mkdir(tarStyle);
      await toTarStyle(await kernel.layerDir(name), tarStyle);
      const file = path.join(tmp, `layer-${i}.tar`);
      execFileSync('tar', ['--numeric-owner', '-C', tarStyle, '-cf', file, '.']);
      const diffID = asDigest(
        `sha256:${createHash('sha256')
          .update(await readFile(file))
          .digest('hex')}`,
      );
      if (i % 2 === 1) execFileSync('gzip', ['-n', file]);
      tars.push({ file: i % 2 === 1 ? `${file}.gz` : file, diffID });
      expected.push(await withMount(await kernel.view(`v-${i}`, name), scratch(), listTree));
    }
  });

  afterAll(async () => {
    const left = (await listMountPoints()).filter((m) => m.startsWith(`${tmp}/`));
    expect(left, 'mounts left behind').toEqual([]);
    await rm(tmp, { recursive: true, force: true });
  });

  it.each(['overlay', 'native'] as const)(
    'GNU tar layers unpacked into %s give, at every ChainID, the tree the kernel built',
    async (kind: SnapshotterKind) => {
      const sn = await openSnapshotter(kind, path.join(tmp, `unpack-${kind}`));
      const layers = image(tars);
      const result = await unpackImageLayers(sn, layers);
      expect(result).toEqual(layers.map((l) => ({ chainID: l.chainID, status: 'unpacked' })));
      expect(await views(sn, layers)).toEqual(expected);
      expect(await snapshotNames(sn)).toEqual(layers.map((l) => `committed ${l.chainID}`).sort());
    },
  );

  it('a union view of the raw GNU tar extractions (.wh. files kept) shows the kernel-built tree', async () => {
    const dirs: string[] = [];
    for (const [i, tar] of tars.entries()) {
      const dir = path.join(tmp, `raw-${i}`);
      await mkdir(dir);
      execFileSync('tar', ['--numeric-owner', '-C', dir, '-xf', tar.file]);
      dirs.push(dir);
      const view = await openUnionView(dirs, { format: 'merged' });
      expect(await listUnionView(view)).toEqual(expected[i]);
    }
  });

  it('images sharing their bottom layers share those snapshots', async () => {
    const sn = await openSnapshotter('overlay', path.join(tmp, 'shared'));
    const first = image(tars.slice(0, 4));
    await unpackImageLayers(sn, first);
    const otherTop = path.join(tmp, 'other-top.tar');
    const content = path.join(tmp, 'other-top');
    await mkdir(content);
    await writeFile(path.join(content, 'other'), 'other image');
    execFileSync('tar', ['--numeric-owner', '-C', content, '-cf', otherTop, '.']);
    const diffID = asDigest(
      `sha256:${createHash('sha256')
        .update(await readFile(otherTop))
        .digest('hex')}`,
    );
    const second = image([...tars.slice(0, 3), { file: otherTop, diffID }]);
    const result = await unpackImageLayers(sn, second);
    expect(result.map((r) => r.status)).toEqual(['shared', 'shared', 'shared', 'unpacked']);
    expect((await snapshotNames(sn)).length).toBe(5);
    expect((await sn.stat(second[3]!.chainID)).parent).toBe(first[2]!.chainID);
    expect(await readdir(path.join(sn.root, 'snapshots'))).toHaveLength(5);
  });

  it('two snapshotters unpacking one image at once store each layer once', async () => {
    const root = path.join(tmp, 'race');
    const a = await openSnapshotter('overlay', root);
    const b = await openSnapshotter('overlay', root);
    const layers = image(tars);
    const [ra, rb] = await Promise.all([
      unpackImageLayers(a, layers),
      unpackImageLayers(b, layers),
    ]);
    for (const [i, layer] of layers.entries()) {
      expect([ra[i]!.status, rb[i]!.status]).toContain('unpacked');
      expect(ra[i]!.chainID).toBe(layer.chainID);
    }
    expect(await snapshotNames(a)).toEqual(layers.map((l) => `committed ${l.chainID}`).sort());
    expect(await readdir(path.join(a.root, 'snapshots'))).toHaveLength(layers.length);
    expect(await views(b, layers)).toEqual(expected);
  });

  it('two processes unpacking one image at once store each layer once', async () => {
    const root = path.join(tmp, 'processes');
    const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
    const child = path.join(import.meta.dirname, 'unpack-child.fixture.ts');
    const args = [root, 'native', ...tars.map((t) => `${t.diffID}=${t.file}`)];
    const procs = [0, 1].map(() =>
      spawn(tsx, ['--conditions=@lab/source', child, ...args], {
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    const outputs = procs.map(
      (proc) =>
        new Promise<string[]>((resolve, reject) => {
          const lines: string[] = [];
          createInterface({ input: proc.stdout }).on('line', (line) => {
            lines.push(line);
            if (line === 'ready' && lines.length === 1) ready();
          });
          proc.on('error', reject);
          proc.on('close', (code) => {
            if (code === 0) resolve(lines);
            else reject(new Error(`unpack child exited with ${String(code)}`));
          });
        }),
    );
    let readyCount = 0;
    function ready(): void {
      readyCount += 1;
      if (readyCount === procs.length) for (const proc of procs) proc.stdin.end('go\n');
    }
    const results = (await Promise.all(outputs)).map(
      (lines) => JSON.parse(lines[1]!) as { chainID: string; status: string }[],
    );
    const layers = image(tars);
    for (const [i, layer] of layers.entries()) {
      expect(results.map((r) => r[i]!.chainID)).toEqual([layer.chainID, layer.chainID]);
      expect(results.map((r) => r[i]!.status)).toContain('unpacked');
    }
    const sn = await openSnapshotter('native', root);
    expect(await snapshotNames(sn)).toEqual(layers.map((l) => `committed ${l.chainID}`).sort());
    expect(await views(sn, layers)).toEqual(expected);
  });

  it('a layer whose DiffID does not match fails and leaves no snapshot behind', async () => {
    const sn = await openSnapshotter('native', path.join(tmp, 'bad'));
    const layers = image(tars.slice(0, 2));
    // What a crashed unpack leaves: an active extraction named after a dead process.
    const dead = spawnSync('true').pid;
    await sn.prepare(`extract-${dead}-0a0b0c ${layers[0]!.chainID}`);
    const wrong: UnpackLayer[] = [layers[0]!, { ...layers[1]!, diffID: tars[0]!.diffID }];
    await expect(unpackImageLayers(sn, wrong)).rejects.toSatisfy(isInvalidArgument);
    expect(await snapshotNames(sn)).toEqual([`committed ${layers[0]!.chainID}`]);
    expect(await readdir(path.join(sn.root, 'snapshots'))).toHaveLength(1);
  });
});
