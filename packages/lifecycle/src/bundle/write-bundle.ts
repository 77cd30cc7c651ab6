/** Writes a bundle's `config.json` atomically. */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RuntimeSpec } from '@lab/oci';
import { BUNDLE_CONFIG_FILE, parseRuntimeSpec } from '@lab/oci';
import { writeFileAtomic } from './atomic-write.js';

/** Writes `spec` as `<dir>/config.json` (temp file + rename); creates `dir` when missing. */
export async function writeBundle(dir: string, spec: RuntimeSpec): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, BUNDLE_CONFIG_FILE);
  await writeFileAtomic(file, `${JSON.stringify(spec, null, 2)}\n`);
  return file;
}

/** Reads and validates `<dir>/config.json`. */
export async function readBundle(dir: string): Promise<RuntimeSpec> {
  const file = join(dir, BUNDLE_CONFIG_FILE);
  return parseRuntimeSpec(await readFile(file), file);
}
