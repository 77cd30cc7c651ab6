import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument } from '@lab/oci';
import { runTool } from './run-tool.js';
import type { Mount } from './types.js';

/** The kernel copies mount data into one page; stay below it (with room for the NUL). */
const MOUNT_DATA_LIMIT = 4000;

const PATH_OPTIONS = ['lowerdir=', 'upperdir=', 'workdir='] as const;

function commonParent(dirs: readonly string[]): string {
  let common = path.dirname(dirs[0]!);
  for (const dir of dirs) {
    while (common !== '/' && !`${dir}/`.startsWith(`${common}/`)) common = path.dirname(common);
  }
  return common;
}

/**
 * The options of an overlay mount, made short enough for the kernel: when the absolute paths
 * exceed one page (dozens of layers under a long root), they are rewritten relative to their
 * common parent and mount(8) runs with that directory as its working directory, as containerd
 * does with a chdir.
 */
export function compactOverlayOptions(options: readonly string[]): {
  options: string[];
  cwd?: string;
} {
  if (options.join(',').length < MOUNT_DATA_LIMIT) return { options: [...options] };
  const dirs: string[] = [];
  for (const option of options) {
    const prefix = PATH_OPTIONS.find((p) => option.startsWith(p));
    if (prefix) dirs.push(...option.slice(prefix.length).split(':'));
  }
  if (dirs.length === 0 || dirs.some((d) => !path.isAbsolute(d))) return { options: [...options] };
  const cwd = commonParent(dirs);
  const relative = (dir: string): string => path.relative(cwd, dir) || '.';
  const compact = options.map((option) => {
    const prefix = PATH_OPTIONS.find((p) => option.startsWith(p));
    if (!prefix) return option;
    return prefix + option.slice(prefix.length).split(':').map(relative).join(':');
  });
  const length = compact.join(',').length;
  if (length >= MOUNT_DATA_LIMIT) {
    throw invalidArgument(
      `overlay mount options are ${length} bytes even with paths relative to ${cwd}, more than the kernel's one-page limit; flatten the image (fewer layers) or use a shorter snapshot root`,
      { details: { length, cwd } },
    );
  }
  return { options: compact, cwd };
}

/**
 * Mounts `mounts` on `target` in order with mount(8) (the caller creates `target`). When one
 * fails, the ones already mounted on `target` are unmounted before the error is thrown.
 */
export async function mountAll(mounts: readonly Mount[], target: string): Promise<void> {
  let mounted = 0;
  try {
    for (const mount of mounts) {
      await mountOne(mount, target);
      mounted += 1;
    }
  } catch (err) {
    for (; mounted > 0; mounted--) await runTool('umount', [path.resolve(target)]);
    throw err;
  }
}

async function mountOne(mount: Mount, target: string): Promise<void> {
  if (mount.type === 'bind') {
    const recursive = mount.options.includes('rbind');
    const rest = mount.options.filter((o) => o !== 'bind' && o !== 'rbind');
    await runTool('mount', [
      recursive ? '--rbind' : '--bind',
      ...(rest.length > 0 ? ['-o', rest.join(',')] : []),
      mount.source,
      target,
    ]);
    return;
  }
  const { options, cwd } = compactOverlayOptions(mount.options);
  await runTool(
    'mount',
    ['-t', 'overlay', '-o', options.join(','), mount.source, target],
    cwd === undefined ? {} : { cwd },
  );
}

/** Options of {@link unmount}. */
export interface UnmountOptions {
  /** Detach now, clean up when no longer busy (`umount -l`). */
  lazy?: boolean;
}

/** Unmounts everything mounted on `target` (stacked mounts included) with umount(8). */
export async function unmount(target: string, options: UnmountOptions = {}): Promise<void> {
  const resolved = path.resolve(target);
  while (await isMountPoint(resolved)) {
    await runTool('umount', [...(options.lazy ? ['-l'] : []), resolved]);
  }
}

/** Mount points of this process (field 5 of /proc/self/mountinfo, octal escapes decoded). */
export async function listMountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) =>
      (line.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, oct: string) =>
        String.fromCharCode(parseInt(oct, 8)),
      ),
    );
}

export async function isMountPoint(target: string): Promise<boolean> {
  const resolved = path.resolve(target);
  return (await listMountPoints()).includes(resolved);
}
