/**
 * Pins a container's network namespace to a file (`mount --bind /proc/<pid>/ns/net FILE`, as
 * `ip netns add` does) so it can be configured with `ip -n`/`nsenter --net=FILE` and joined by
 * other containers, independently of the container's pid.
 */
import { rm, writeFile } from 'node:fs/promises';
import { internal } from '@lab/oci';
import { runCommand } from './command.js';

/** Bind-mounts the network namespace of `pid` onto `file`. */
export async function pinNetns(pid: number, file: string): Promise<void> {
  await writeFile(file, '', { mode: 0o600 });
  const result = await runCommand('mount', ['--bind', `/proc/${pid}/ns/net`, file]);
  if (result.code !== 0) {
    await rm(file, { force: true });
    throw internal(
      `cannot pin the network namespace of pid ${pid} at ${file}: ${result.stderr.trim()}`,
    );
  }
}

/** Unmounts and removes a pinned namespace file (idempotent). */
export async function unpinNetns(file: string): Promise<void> {
  await runCommand('umount', ['--lazy', file]);
  await rm(file, { force: true });
}
