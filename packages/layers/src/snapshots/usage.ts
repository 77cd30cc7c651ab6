import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { SnapshotUsage } from './types.js';

/**
 * Disk usage of a tree as du(1) counts it: blocks actually allocated (`st_blocks * 512`) and
 * inodes, each hard-linked inode once, the root directory included; symlinks are not followed.
 */
export async function diskUsage(root: string, signal?: AbortSignal): Promise<SnapshotUsage> {
  const seen = new Set<string>();
  let size = 0;
  let inodes = 0;
  const visit = async (file: string): Promise<void> => {
    signal?.throwIfAborted();
    const st = await lstat(file, { bigint: true });
    const id = `${st.dev}:${st.ino}`;
    if (!seen.has(id)) {
      seen.add(id);
      inodes += 1;
      size += Number(st.blocks) * 512;
    }
    if (st.isDirectory()) {
      for (const name of await readdir(file)) await visit(path.join(file, name));
    }
  };
  await visit(root);
  return { size, inodes };
}
