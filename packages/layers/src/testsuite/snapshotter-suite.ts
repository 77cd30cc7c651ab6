import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  writeFile,
  unlink,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFailedPrecondition, isNotFound, isAlreadyExists } from '@lab/oci';
import { listMountPoints, mountAll, unmount } from '../snapshots/mount.js';
import type { Mount, Snapshotter } from '../snapshots/types.js';
import { listTree, type TreeEntry } from './tree-listing.js';

/** Makes a snapshotter rooted at `root` (a fresh temp dir per test). */
export type SnapshotterFactory = (root: string) => Promise<Snapshotter>;

export interface SnapshotterSuiteOptions {
  /** Skip the whole suite, printing this reason (no root, no overlayfs…). */
  skip?: string;
  /**
   * The snapshotter keeps lab's on-disk layout (`<snapshotter.root>/snapshots/<id>`, `new-*`,
   * `rm-*`): run the crash-leftover test against it.
   */
  directoryLayout?: boolean;
}

interface Context {
  tmp: string;
  snapshotter: Snapshotter;
  /** Mounts `mounts` on a fresh dir under the temp root; unmounted after the test. */
  mount: (mounts: Mount[]) => Promise<string>;
  unmountAll: () => Promise<void>;
}

async function expectCode(
  promise: Promise<unknown>,
  check: (err: unknown) => boolean,
): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    expect(check(err), `unexpected error: ${String(err)}`).toBe(true);
    return err;
  }
  throw new Error('expected the operation to fail, it succeeded');
}

/** Paths and types of a tree, the root left out: the shape most checks need. */
function shape(tree: TreeEntry[]): string[] {
  return tree.filter((e) => e.path !== '/').map((e) => `${e.type} ${e.path}`);
}

/**
 * containerd's snapshotter conformance checks, for any {@link Snapshotter}: call inside a
 * vitest file with a factory. Every test gets its own temp root and leaves no mount behind.
 */
export function snapshotterSuite(
  name: string,
  factory: SnapshotterFactory,
  options: SnapshotterSuiteOptions = {},
): void {
  if (options.skip !== undefined)
    console.warn(`skipping snapshotter suite ${name}: ${options.skip}`);
  describe.skipIf(options.skip !== undefined)(`snapshotter conformance: ${name}`, () => {
    let ctx: Context;

    beforeEach(async () => {
      const tmp = await mkdtemp(path.join(os.tmpdir(), 'lab-snapshotter-'));
      const snapshotter = await factory(path.join(tmp, 'root'));
      const targets: string[] = [];
      let counter = 0;
      ctx = {
        tmp,
        snapshotter,
        async mount(mounts) {
          const target = path.join(tmp, `mnt-${counter++}`);
          await mkdir(target);
          targets.push(target);
          await mountAll(mounts, target);
          return target;
        },
        async unmountAll() {
          for (const target of targets.splice(0).reverse()) await unmount(target);
        },
      };
    });

    afterEach(async () => {
      await ctx.unmountAll();
      const left = (await listMountPoints()).filter((m) => m.startsWith(`${ctx.tmp}/`));
      expect(left, 'mounts left behind').toEqual([]);
      await rm(ctx.tmp, { recursive: true, force: true });
    });

    it('Basic: prepare, write, commit, then a view of a child shows both layers', async () => {
      const { snapshotter: sn } = ctx;
      const m1 = await ctx.mount(await sn.prepare('prepare-1'));
      await mkdir(path.join(m1, 'a'));
      await writeFile(path.join(m1, 'a', 'b'), 'content b');
      await writeFile(path.join(m1, 'foo'), 'foo');
      await ctx.unmountAll();
      await sn.commit('committed-1', 'prepare-1');

      const m2 = await ctx.mount(await sn.prepare('prepare-2', 'committed-1'));
      expect(await readFile(path.join(m2, 'a', 'b'), 'utf8')).toBe('content b');
      await writeFile(path.join(m2, 'bar'), 'bar');
      await writeFile(path.join(m2, 'foo'), 'foo changed');
      await ctx.unmountAll();
      await sn.commit('committed-2', 'prepare-2');

      const v = await ctx.mount(await sn.view('view-1', 'committed-2'));
      const tree = await listTree(v);
      expect(shape(tree)).toEqual(['dir /a', 'file /a/b', 'file /bar', 'file /foo']);
      expect(await readFile(path.join(v, 'foo'), 'utf8')).toBe('foo changed');
      expect(await readFile(path.join(v, 'bar'), 'utf8')).toBe('bar');
      expect((await sn.stat('committed-2')).parent).toBe('committed-1');
      await expectCode(sn.stat('prepare-2'), isNotFound);
    });

    it('StatActive: an active snapshot reports its kind, key, parent and labels', async () => {
      const { snapshotter: sn } = ctx;
      await sn.prepare('base-active');
      await sn.commit('base', 'base-active');
      await sn.prepare('active', 'base', { labels: { 'x.test/owner': 'suite' } });
      const info = await sn.stat('active');
      expect(info).toMatchObject({
        kind: 'active',
        name: 'active',
        parent: 'base',
        labels: { 'x.test/owner': 'suite' },
      });
      expect(info.created).toBeInstanceOf(Date);
      expect(await sn.mounts('active')).toEqual(await sn.mounts('active'));
    });

    it('StatCommitted: a committed snapshot reports kind committed under its new name', async () => {
      const { snapshotter: sn } = ctx;
      await sn.prepare('p');
      await sn.commit('c', 'p', { labels: { 'x.test/a': '1' } });
      const info = await sn.stat('c');
      expect(info).toMatchObject({ kind: 'committed', name: 'c', labels: { 'x.test/a': '1' } });
      expect(info.parent).toBeUndefined();
      await expectCode(sn.mounts('c'), isFailedPrecondition);
      await expectCode(sn.commit('c2', 'c'), isFailedPrecondition);
    });

    it('Transitivity: files from every ancestor are visible through a chain of commits', async () => {
      const { snapshotter: sn } = ctx;
      let parent: string | undefined;
      for (let i = 0; i < 5; i++) {
        const m = await ctx.mount(await sn.prepare(`active-${i}`, parent));
        await writeFile(path.join(m, `file-${i}`), `layer ${i}`);
        if (i === 2) await writeFile(path.join(m, 'file-0'), 'overwritten in 2');
        await ctx.unmountAll();
        await sn.commit(`layer-${i}`, `active-${i}`);
        parent = `layer-${i}`;
      }
      const v = await ctx.mount(await sn.view('v', parent));
      expect((await readdir(v)).sort()).toEqual(['file-0', 'file-1', 'file-2', 'file-3', 'file-4']);
      expect(await readFile(path.join(v, 'file-0'), 'utf8')).toBe('overwritten in 2');
      expect(await readFile(path.join(v, 'file-4'), 'utf8')).toBe('layer 4');
      const m = await ctx.mount(await sn.prepare('top', parent));
      expect(await readFile(path.join(m, 'file-3'), 'utf8')).toBe('layer 3');
    });

    it('Remove: refuses to remove a parent with children, then removes bottom-up', async () => {
      const { snapshotter: sn } = ctx;
      await sn.prepare('p');
      await sn.commit('base', 'p');
      await sn.prepare('child', 'base');
      await sn.view('view', 'base');
      const err = await expectCode(sn.remove('base'), isFailedPrecondition);
      expect(String(err)).toContain('child');
      await sn.remove('child');
      await expectCode(sn.remove('base'), isFailedPrecondition);
      await sn.remove('view');
      await sn.remove('base');
      await expectCode(sn.stat('base'), isNotFound);
      await expectCode(sn.remove('base'), isNotFound);
      const names: string[] = [];
      await sn.walk((info) => {
        names.push(info.name);
      });
      expect(names).toEqual([]);
    });

    it('Walk: visits every snapshot in name order, with a filter', async () => {
      const { snapshotter: sn } = ctx;
      await sn.prepare('a-active');
      await sn.commit('b-committed', 'a-active');
      await sn.prepare('c-active', 'b-committed');
      await sn.view('d-view', 'b-committed');
      const seen: string[] = [];
      await sn.walk((info) => {
        seen.push(`${info.kind} ${info.name} ${info.parent ?? '-'}`);
      });
      expect(seen).toEqual([
        'committed b-committed -',
        'active c-active b-committed',
        'view d-view b-committed',
      ]);
      const views: string[] = [];
      await sn.walk(
        (info) => {
          views.push(info.name);
        },
        (info) => info.kind === 'view',
      );
      expect(views).toEqual(['d-view']);
    });

    it('DeletedFilesInChildSnapshot: files and dirs deleted in a child are gone in its mount and views', async () => {
      const { snapshotter: sn } = ctx;
      const m1 = await ctx.mount(await sn.prepare('p1'));
      await mkdir(path.join(m1, 'dir', 'sub'), { recursive: true });
      await writeFile(path.join(m1, 'dir', 'sub', 'x'), 'x');
      await writeFile(path.join(m1, 'dir', 'keep'), 'keep');
      await writeFile(path.join(m1, 'gone'), 'gone');
      await ctx.unmountAll();
      await sn.commit('c1', 'p1');

      const m2 = await ctx.mount(await sn.prepare('p2', 'c1'));
      await unlink(path.join(m2, 'gone'));
      await rm(path.join(m2, 'dir', 'sub'), { recursive: true });
      await ctx.unmountAll();
      await sn.commit('c2', 'p2');

      const expected = ['dir /dir', 'file /dir/keep'];
      const v = await ctx.mount(await sn.view('v2', 'c2'));
      expect(shape(await listTree(v))).toEqual(expected);
      const m3 = await ctx.mount(await sn.prepare('p3', 'c2'));
      expect(shape(await listTree(m3))).toEqual(expected);
      const v1 = await ctx.mount(await sn.view('v1', 'c1'));
      expect(shape(await listTree(v1))).toEqual([
        'dir /dir',
        'file /dir/keep',
        'dir /dir/sub',
        'file /dir/sub/x',
        'file /gone',
      ]);
    });

    it('Rename: a file renamed in a child moves in the child only; update replaces labels', async () => {
      const { snapshotter: sn } = ctx;
      const m1 = await ctx.mount(await sn.prepare('p1'));
      await mkdir(path.join(m1, 'd'));
      await writeFile(path.join(m1, 'd', 'old'), 'payload');
      await ctx.unmountAll();
      await sn.commit('c1', 'p1');
      const m2 = await ctx.mount(await sn.prepare('p2', 'c1'));
      await rename(path.join(m2, 'd', 'old'), path.join(m2, 'd', 'new'));
      await ctx.unmountAll();
      await sn.commit('c2', 'p2');
      const v2 = await ctx.mount(await sn.view('v2', 'c2'));
      expect(await readdir(path.join(v2, 'd'))).toEqual(['new']);
      expect(await readFile(path.join(v2, 'd', 'new'), 'utf8')).toBe('payload');
      const v1 = await ctx.mount(await sn.view('v1', 'c1'));
      expect(await readdir(path.join(v1, 'd'))).toEqual(['old']);

      const before = await sn.stat('c2');
      const after = await sn.update('c2', { 'x.test/role': 'top' });
      expect(after.labels).toEqual({ 'x.test/role': 'top' });
      expect((await sn.stat('c2')).labels).toEqual({ 'x.test/role': 'top' });
      expect(after.updated.getTime()).toBeGreaterThanOrEqual(before.updated.getTime());
      expect(after.created.getTime()).toBe(before.created.getTime());
      await expectCode(sn.update('nope', {}), isNotFound);
    });

    it("Usage: counts the snapshot's own bytes and inodes, frozen at commit", async () => {
      const { snapshotter: sn } = ctx;
      await sn.prepare('p0');
      await sn.commit('c0', 'p0');
      const m = await ctx.mount(await sn.prepare('p1', 'c0'));
      const before = await sn.usage('p1');
      const size = 1 << 20;
      await writeFile(path.join(m, 'blob'), randomBytes(size));
      const after = await sn.usage('p1');
      expect(after.inodes).toBe(before.inodes + 1);
      expect(after.size - before.size).toBeGreaterThanOrEqual(size);
      await ctx.unmountAll();
      await sn.commit('c1', 'p1');
      expect(await sn.usage('c1')).toEqual(after);
    });

    it('ViewReadOnly: writing to a mounted view fails with EROFS', async () => {
      const { snapshotter: sn } = ctx;
      const m = await ctx.mount(await sn.prepare('p'));
      await writeFile(path.join(m, 'f'), 'f');
      await ctx.unmountAll();
      await sn.commit('c', 'p');
      for (const [key, parent] of [
        ['view-of-c', 'c'],
        ['empty-view', undefined],
      ] as const) {
        const v = await ctx.mount(await sn.view(key, parent));
        await expect(writeFile(path.join(v, 'new'), 'x')).rejects.toMatchObject({ code: 'EROFS' });
      }
      await sn.prepare('p2', 'c');
      await sn.commit('c2', 'p2');
      const v = await ctx.mount(await sn.view('view-of-c2', 'c2'));
      await expect(writeFile(path.join(v, 'f'), 'x')).rejects.toMatchObject({ code: 'EROFS' });
      await expect(sn.commit('x', 'view-of-c2')).rejects.toSatisfy(isFailedPrecondition);
    });

    it('Errors: duplicate keys, uncommitted or missing parents are refused', async () => {
      const { snapshotter: sn } = ctx;
      await sn.prepare('a');
      await expectCode(sn.prepare('a'), isAlreadyExists);
      await expectCode(sn.prepare('b', 'a'), isFailedPrecondition);
      await expectCode(sn.view('b', 'missing'), isNotFound);
      await sn.commit('c', 'a');
      await sn.prepare('d', 'c');
      await expectCode(sn.commit('c', 'd'), isAlreadyExists);
      expect((await sn.stat('d')).kind).toBe('active');
    });

    it.skipIf(!options.directoryLayout)(
      'CrashLeftovers: reopening cleans half-made and half-removed snapshots and rolls back an unrecorded removal',
      async () => {
        const { snapshotter: sn } = ctx;
        const m = await ctx.mount(await sn.prepare('p'));
        await writeFile(path.join(m, 'kept'), 'kept');
        await ctx.unmountAll();
        await sn.commit('c', 'p');
        await sn.prepare('other');
        const dir = path.join(sn.root, 'snapshots');
        const ids = await readdir(dir);
        const cDir = path.dirname(await sn.layerDir('c'));
        // A finished process that was in the middle of a prepare.
        const dead = spawnSync('true').pid;
        await mkdir(path.join(dir, `new-${dead}-0a0b0c`, 'fs'), { recursive: true });
        // Renamed into place but never recorded.
        await mkdir(path.join(dir, '9999', 'fs'), { recursive: true });
        // A removal whose metadata write completed before the crash.
        await mkdir(path.join(dir, 'rm-8888', 'fs'), { recursive: true });
        // A removal that crashed between the rename and the metadata write.
        await rename(cDir, path.join(dir, `rm-${path.basename(cDir)}`));

        const reopened = await factory(path.join(ctx.tmp, 'root'));
        expect((await readdir(dir)).sort()).toEqual([...ids].sort());
        expect((await reopened.stat('c')).kind).toBe('committed');
        const v = await ctx.mount(await reopened.view('v', 'c'));
        expect(await readFile(path.join(v, 'kept'), 'utf8')).toBe('kept');
        expect((await stat(path.join(dir, path.basename(cDir)))).isDirectory()).toBe(true);
      },
    );
  });
}
