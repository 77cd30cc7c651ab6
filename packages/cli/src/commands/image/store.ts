/**
 * Shared by the `lab image …` commands: opening the image store of the global root, and how
 * images are shown (short IDs, familiar names) the way docker shows them.
 */
import { openImageStore, type ImageStore } from '@lab/layers';
import { familiarString, parseReference } from '@lab/oci';
import type { GlobalOptions } from '../../context.js';

/** Opens the image store under `--root` / `LAB_ROOT`. */
export function openStore(globals: () => GlobalOptions): Promise<ImageStore> {
  return openImageStore(globals().root);
}

/** docker's short ID: 12 hex digits without `sha256:`. */
export function shortId(id: string): string {
  const hex = id.includes(':') ? id.slice(id.indexOf(':') + 1) : id;
  return hex.slice(0, 12);
}

/** `docker.io/library/busybox:latest` → `busybox:latest`. */
export function familiar(fullName: string): string {
  return familiarString(parseReference(fullName));
}

/** Repository and tag of a full name, familiar (`busybox`, `latest`). */
export function repoAndTag(fullName: string): { repository: string; tag: string } {
  const ref = parseReference(fullName);
  return {
    repository: familiarString({ domain: ref.domain, path: ref.path }),
    tag: ref.tag ?? '<none>',
  };
}
