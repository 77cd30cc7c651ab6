import { runTool } from './run-tool.js';
import type { SnapshotUsage } from './types.js';

async function du(args: string[], root: string, signal?: AbortSignal): Promise<number> {
  const { stdout } = await runTool(
    'du',
    ['-s', '-x', ...args, '--', root],
    signal === undefined ? {} : { signal },
  );
  return Number(stdout.toString('utf8').split('\t')[0]);
}

/**
 * Disk usage of a tree as du(1) counts it, by running it (a JavaScript walk is ~15 times
 * slower): blocks actually allocated (`st_blocks * 512`) and inodes, each hard-linked inode
 * once, the root directory included, symlinks not followed, other filesystems not entered.
 */
export async function diskUsage(root: string, signal?: AbortSignal): Promise<SnapshotUsage> {
  const [size, inodes] = await Promise.all([
    du(['-B1'], root, signal),
    du(['--inodes'], root, signal),
  ]);
  return { size, inodes };
}
