import type { VolumeStore } from '@lab/lifecycle';
import { containerVolumeUsage, openVolumeStore } from '@lab/lifecycle';
import type { GlobalOptions } from '../../context.js';

/** The volume store of the lab root, knowing which containers use which volume. */
export function openVolumes(globals: () => GlobalOptions): VolumeStore {
  const { root } = globals();
  return openVolumeStore({ root, usage: containerVolumeUsage(root) });
}

/** Collects a repeatable option. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `k=v` options (`--label`, `--opt`) into a record; a bare `k` is `k=""`, as docker reads it. */
export function keyValues(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq < 0) out[item] = '';
    else out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
