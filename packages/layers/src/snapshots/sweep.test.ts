import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openSnapshotter } from './open.js';
import { sweepSnapshots } from './sweep.js';
import type { Snapshotter } from './types.js';

let tmp: string;
let sn: Snapshotter;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'lab-sweep-'));
  sn = await openSnapshotter('native', tmp);
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function commitChain(names: string[], parent?: string): Promise<void> {
  for (const name of names) {
    await sn.prepare(`p-${name}`, parent);
    await sn.commit(name, `p-${name}`);
    parent = name;
  }
}

it('removes unreferenced committed snapshots, children first, keeping ancestors, actives and views', async () => {
  await commitChain(['a', 'b', 'c', 'd', 'e']);
  await commitChain(['x', 'y'], 'b');
  await commitChain(['lonely']);
  await sn.prepare('container', 'd');
  await sn.view('inspect', 'y');
  await commitChain(['z'], 'y');

  expect(await sweepSnapshots(sn, new Set(['c']), { dryRun: true })).toEqual(['e', 'z', 'lonely']);
  expect(await readdir(path.join(sn.root, 'snapshots'))).toHaveLength(11);

  expect(await sweepSnapshots(sn, new Set(['c', 'not-there']))).toEqual(['e', 'z', 'lonely']);
  const left: string[] = [];
  await sn.walk((info) => {
    left.push(info.name);
  });
  expect(left).toEqual(['a', 'b', 'c', 'container', 'd', 'inspect', 'x', 'y']);
  expect(await readdir(path.join(sn.root, 'snapshots'))).toHaveLength(8);

  await sn.remove('container');
  await sn.remove('inspect');
  expect(await sweepSnapshots(sn, new Set(['b']))).toEqual(['d', 'y', 'c', 'x']);
});
