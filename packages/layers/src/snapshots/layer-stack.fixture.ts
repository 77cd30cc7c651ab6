/**
 * The layer stack the snapshot tests share: five layers of changes, each a function run
 * against a mounted active snapshot, and a converter from overlay-format layer dirs to the
 * tar-style format (`.wh.` files) that layer tars carry.
 */
import { execFileSync } from 'node:child_process';
import {
  chmod,
  chown,
  link,
  lstat,
  mkdir,
  readdir,
  rename,
  rmdir,
  rm,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { readOverlayMarks } from '../union/overlay-xattrs.js';
import { mountAll, unmount } from './mount.js';
import type { Mount, Snapshotter } from './types.js';

/**
 * Five layers of changes, each run against a mounted active snapshot: adds, modifies,
 * deletes, an opaque directory, symlinks, hard links, devices, a dir replaced by a file and
 * a file replaced by a dir, owner and mode changes, a rename.
 */
export const LAYERS: ((root: string) => Promise<void>)[] = [
  async (r) => {
    await mkdir(path.join(r, 'etc'), { mode: 0o755 });
    await writeFile(path.join(r, 'etc', 'conf'), 'v1\n');
    await symlink('conf', path.join(r, 'etc', 'link'));
    await symlink('/etc/conf', path.join(r, 'abs'));
    await mkdir(path.join(r, 'bin'));
    await writeFile(path.join(r, 'bin', 'tool'), '#!/bin/sh\necho tool\n', { mode: 0o755 });
    await chown(path.join(r, 'bin', 'tool'), 1000, 1000);
    await writeFile(path.join(r, 'bin', 'su'), 'su', { mode: 0o755 });
    await chmod(path.join(r, 'bin', 'su'), 0o4755);
    await mkdir(path.join(r, 'data', 'sub'), { recursive: true });
    await writeFile(path.join(r, 'data', 'a'), 'a');
    await writeFile(path.join(r, 'data', 'b'), 'b');
    await writeFile(path.join(r, 'data', 'sub', 'c'), 'c');
    await mkdir(path.join(r, 'usr', 'lib'), { recursive: true });
    await writeFile(path.join(r, 'usr', 'lib', 'x.so'), Buffer.alloc(70_000, 7));
    await mkdir(path.join(r, 'hl'));
    await writeFile(path.join(r, 'hl', 'one'), 'linked');
    await link(path.join(r, 'hl', 'one'), path.join(r, 'hl', 'two'));
    await mkdir(path.join(r, 'dirtofile'));
    await writeFile(path.join(r, 'dirtofile', 'inner'), 'inner');
    await writeFile(path.join(r, 'filetodir'), 'file');
    await mkdir(path.join(r, 'dev'));
    execFileSync('mknod', ['-m', '666', path.join(r, 'dev', 'null'), 'c', '1', '3']);
    execFileSync('mkfifo', [path.join(r, 'dev', 'fifo')]);
    await mkdir(path.join(r, 'tmp'), { mode: 0o777 });
    await chmod(path.join(r, 'tmp'), 0o1777);
  },
  async (r) => {
    await writeFile(path.join(r, 'etc', 'conf'), 'v2 longer\n');
    await unlink(path.join(r, 'data', 'b'));
    await rm(path.join(r, 'usr', 'lib'), { recursive: true });
    await rm(path.join(r, 'dirtofile'), { recursive: true });
    await writeFile(path.join(r, 'dirtofile'), 'now a file');
    await unlink(path.join(r, 'filetodir'));
    await mkdir(path.join(r, 'filetodir'));
    await writeFile(path.join(r, 'filetodir', 'new'), 'new');
    await chmod(path.join(r, 'bin', 'tool'), 0o700);
    await chown(path.join(r, 'data', 'a'), 5, 6);
  },
  async (r) => {
    await rm(path.join(r, 'data'), { recursive: true });
    await mkdir(path.join(r, 'data'), { mode: 0o750 });
    await writeFile(path.join(r, 'data', 'fresh'), 'fresh');
    await mkdir(path.join(r, 'usr', 'lib'));
    await writeFile(path.join(r, 'usr', 'lib', 'y.so'), 'y');
    await unlink(path.join(r, 'etc', 'link'));
    await symlink('../bin/su', path.join(r, 'etc', 'link'));
    await writeFile(path.join(r, 'pair-a'), 'pair');
    await link(path.join(r, 'pair-a'), path.join(r, 'pair-b'));
  },
  async (r) => {
    await unlink(path.join(r, 'etc', 'conf'));
    await rename(path.join(r, 'bin', 'tool'), path.join(r, 'bin', 'tool2'));
    await mkdir(path.join(r, 'deep', 'a', 'b', 'c'), { recursive: true });
    await writeFile(path.join(r, 'deep', 'a', 'b', 'c', 'file'), 'deep');
    await unlink(path.join(r, 'dev', 'fifo'));
  },
  async (r) => {
    await unlink(path.join(r, 'etc', 'link'));
    await unlink(path.join(r, 'hl', 'one'));
    await writeFile(path.join(r, 'hl', 'one'), 'replaced');
    await rm(path.join(r, 'deep', 'a', 'b'), { recursive: true });
    await writeFile(path.join(r, 'deep', 'a', 'b'), 'b is a file');
  },
];

/** Copies an overlay-format layer dir into the tar-style format: `.wh.` files for whiteouts. */
export async function toTarStyle(overlayLayer: string, out: string): Promise<void> {
  execFileSync('cp', ['-a', `${overlayLayer}/.`, out]);
  const marks = await readOverlayMarks(overlayLayer);
  const visit = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const file = path.join(dir, name);
      const st = await lstat(file);
      if (st.isCharacterDevice() && st.rdev === 0) {
        await unlink(file);
        await writeFile(path.join(dir, `.wh.${name}`), '');
      } else if (st.isDirectory()) {
        await visit(file);
      }
    }
  };
  await visit(out);
  for (const rel of marks.opaque) await writeFile(path.join(out, rel, '.wh..wh..opq'), '');
}

/** Mounts `mounts` on a new dir `target`, runs `fn` on it, unmounts. */
export async function withMount<T>(
  mounts: Mount[],
  target: string,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  await mkdir(target);
  await mountAll(mounts, target);
  try {
    return await fn(target);
  } finally {
    await unmount(target);
    await rmdir(target);
  }
}

/** Builds {@link LAYERS} in `sn` as committed snapshots `layer-0` … `layer-4`, mounting under `scratch`. */
export async function buildLayerStack(sn: Snapshotter, scratch: string): Promise<string[]> {
  const names: string[] = [];
  for (const [i, apply] of LAYERS.entries()) {
    const parent = names[names.length - 1];
    await withMount(
      await sn.prepare(`build-${i}`, parent),
      path.join(scratch, `build-${i}`),
      apply,
    );
    await sn.commit(`layer-${i}`, `build-${i}`);
    names.push(`layer-${i}`);
  }
  return names;
}
