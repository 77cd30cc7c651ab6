/**
 * Crash-safe file replacement: write a temp file in the same directory, fsync it, rename it
 * over the target, fsync the directory. A reader sees either the old file or the new one,
 * never a partial write; a crash leaves at most a `.<name>.<random>.tmp` file behind.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The prefix and suffix of the temp files `writeFileAtomic` leaves behind after a crash. */
export const ATOMIC_TEMP_PATTERN = /^\..+\.[0-9a-f]{16}\.tmp$/;

/** fsyncs a directory so that a rename or unlink inside it is durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface WriteFileAtomicOptions {
  /** File mode of the new file (default 0o644). */
  mode?: number;
}

/** Replaces `path` with `data` atomically and durably (temp + fsync + rename + fsync dir). */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', options.mode ?? 0o644);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await fsyncDirectory(dir);
}
