/**
 * Crash-safe file writes: the content goes to a temp file in the same directory, is
 * fsynced, and is renamed over the target, so a reader sees the old file or the new one,
 * never a torn write (crun's `status.tmp` → `status` discipline).
 */
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/** Writes `data` to `file` atomically (temp file + fsync + rename). */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  mode = 0o644,
): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${counter++}.tmp`);
  const handle = await open(tmp, 'w', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
