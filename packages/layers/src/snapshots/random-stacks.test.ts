import { chmod, link, lstat, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listTree, listUnionView } from '../testsuite/tree-listing.js';
import { openUnionView } from '../union/union-view.js';
import { toTarStyle, withMount } from './layer-stack.fixture.js';
import { listMountPoints } from './mount.js';
import { openSnapshotter } from './open.js';

/*
 * Random stacks of changes made through mounted active snapshots, checked four ways after each
 * layer. LAB_RANDOM_STACK_RUNS sets the number of stacks (default 12; 100 passed when written).
 */
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('skipping random layer stacks: mounting needs root');

/** One change to a tree; each is skipped when it does not apply to the current state. */
type Op =
  | { kind: 'write'; path: string; content: string }
  | { kind: 'mkdir'; path: string }
  | { kind: 'remove'; path: string }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'link'; path: string; from: string }
  | { kind: 'chmod-dir'; path: string; mode: number };

const component = fc.constantFrom('a', 'b', 'c');
const treePath = fc.array(component, { minLength: 1, maxLength: 3 }).map((c) => c.join('/'));
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), path: treePath, content: fc.string() }),
  fc.record({ kind: fc.constant('mkdir' as const), path: treePath }),
  fc.record({ kind: fc.constant('remove' as const), path: treePath }),
  fc.record({
    kind: fc.constant('symlink' as const),
    path: treePath,
    target: fc.oneof(
      treePath,
      treePath.map((p) => `/${p}`),
      fc.constant('../..'),
    ),
  }),
  fc.record({ kind: fc.constant('link' as const), path: treePath, from: treePath }),
  fc.record({
    kind: fc.constant('chmod-dir' as const),
    path: treePath,
    mode: fc.constantFrom(0o700, 0o755, 0o750, 0o1777),
  }),
);

async function kindOf(file: string): Promise<'dir' | 'file' | 'other' | undefined> {
  try {
    const st = await lstat(file);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch {
    return undefined;
  }
}

/**
 * The kind of `rel` under `root`, never following a symlink: `blocked` when a parent is not
 * a directory (a symlink there could point anywhere on the host).
 */
async function kindAt(
  root: string,
  rel: string,
): Promise<'dir' | 'file' | 'other' | 'blocked' | undefined> {
  const parts = rel.split('/');
  let current = root;
  for (const part of parts.slice(0, -1)) {
    current = path.join(current, part);
    if ((await kindOf(current)) !== 'dir') return 'blocked';
  }
  return kindOf(path.join(current, parts[parts.length - 1]!));
}

/** Makes `dirname(rel)` a directory chain, replacing non-directories on the way. */
async function parents(root: string, rel: string): Promise<void> {
  let current = root;
  for (const part of path
    .dirname(rel)
    .split('/')
    .filter((p) => p !== '.')) {
    current = path.join(current, part);
    const kind = await kindOf(current);
    if (kind === 'dir') continue;
    if (kind !== undefined) await rm(current);
    await mkdir(current);
  }
}

/**
 * Applies an op, never through a symlink. Files are never changed in place (always unlinked
 * and rewritten) and only directories are chmod-ed: overlayfs copies up one name of a
 * hard-linked file where a native copy changes every name, a difference of the two by design.
 */
async function apply(root: string, change: Op): Promise<void> {
  const file = path.join(root, change.path);
  switch (change.kind) {
    case 'write':
    case 'symlink':
    case 'mkdir': {
      await parents(root, change.path);
      const kind = await kindOf(file);
      if (change.kind === 'mkdir' && kind === 'dir') return;
      if (kind !== undefined) await rm(file, { recursive: true });
      if (change.kind === 'write') await writeFile(file, change.content);
      else if (change.kind === 'symlink') await symlink(change.target, file);
      else await mkdir(file);
      return;
    }
    case 'remove':
      if ((await kindAt(root, change.path)) !== 'blocked') {
        await rm(file, { recursive: true, force: true });
      }
      return;
    case 'link':
      if (change.from === change.path || (await kindAt(root, change.from)) !== 'file') return;
      if ((await kindAt(root, change.path)) !== undefined) return;
      if (
        path.dirname(change.path) !== '.' &&
        (await kindAt(root, path.dirname(change.path))) !== 'dir'
      )
        return;
      await link(path.join(root, change.from), file);
      return;
    case 'chmod-dir':
      if ((await kindAt(root, change.path)) === 'dir') await chmod(file, change.mode);
      return;
  }
}

describe.skipIf(!isRoot)('random layer stacks', () => {
  let tmp: string;
  let run = 0;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lab-random-stacks-'));
  });
  afterAll(async () => {
    const left = (await listMountPoints()).filter((m) => m.startsWith(`${tmp}/`));
    expect(left, 'mounts left behind').toEqual([]);
    await rm(tmp, { recursive: true, force: true });
  });

  it('kernel overlay, native copy and both union views agree on every layer', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(op, { maxLength: 12 }), { minLength: 1, maxLength: 3 }),
        async (layers) => {
          const dir = path.join(tmp, `run-${run++}`);
          const overlay = await openSnapshotter('overlay', path.join(dir, 'root'));
          const native = await openSnapshotter('native', path.join(dir, 'root'));
          let n = 0;
          const scratch = (): string => path.join(dir, `m-${n++}`);
          for (const sn of [overlay, native]) {
            let parent: string | undefined;
            for (const [i, changes] of layers.entries()) {
              await withMount(await sn.prepare(`p-${i}`, parent), scratch(), async (root) => {
                for (const change of changes) await apply(root, change);
              });
              await sn.commit(`l-${i}`, `p-${i}`);
              parent = `l-${i}`;
            }
          }
          for (const i of layers.keys()) {
            const name = `l-${i}`;
            const kernel = await withMount(await overlay.view(`k-${i}`, name), scratch(), listTree);
            const copied = await withMount(await native.view(`n-${i}`, name), scratch(), listTree);
            expect(copied).toEqual(kernel);
            const stack = await overlay.layerStack(name);
            const model = await listUnionView(await openUnionView(stack, { format: 'overlay' }));
            expect(model).toEqual(kernel);
            const tarStyle: string[] = [];
            for (const layer of stack) {
              const out = scratch();
              await mkdir(out);
              await toTarStyle(layer, out);
              tarStyle.push(out);
            }
            const tarModel = await listUnionView(
              await openUnionView(tarStyle, { format: 'merged' }),
            );
            expect(tarModel).toEqual(kernel);
          }
          await rm(dir, { recursive: true, force: true });
        },
      ),
      { numRuns: Number(process.env.LAB_RANDOM_STACK_RUNS ?? 12) },
    );
  });
});
