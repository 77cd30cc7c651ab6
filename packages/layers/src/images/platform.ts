/**
 * Platform helpers now live in `@lab/oci` (normalisation, host platform, matching); this
 * module only keeps the old names for code in this package that still imports them here.
 * Import from `@lab/oci` in new code.
 */
import type { Platform } from '@lab/oci';

export {
  formatPlatform,
  hostPlatform,
  platformMatches,
  parsePlatform,
  normalizePlatform,
} from '@lab/oci';

/** @deprecated use `Platform` from `@lab/oci`. */
export type PlatformSpec = Platform;
