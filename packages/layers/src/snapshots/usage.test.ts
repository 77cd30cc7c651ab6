import { link, lstat, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { diskUsage } from './usage.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'lab-usage-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

it('diskUsage counts allocated blocks and inodes, each hard-linked inode once', async () => {
  const root = path.join(tmp, 'tree');
  await mkdir(path.join(root, 'sub'), { recursive: true });
  await writeFile(path.join(root, 'sub', 'big'), Buffer.alloc(100_000, 1));
  await link(path.join(root, 'sub', 'big'), path.join(root, 'again'));
  await symlink('sub/big', path.join(root, 'link'));
  const paths = ['', 'sub', 'sub/big', 'link'].map((p) => path.join(root, p));
  let blocks = 0;
  for (const p of paths) blocks += (await lstat(p)).blocks * 512;
  expect(await diskUsage(root)).toEqual({ size: blocks, inodes: 4 });
  expect(blocks).toBeGreaterThanOrEqual(100_000);
});
