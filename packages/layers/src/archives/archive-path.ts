/**
 * Entry names inside an image archive (docker-archive, oci-archive). They are paths relative
 * to the archive root: `./` prefixes are dropped, `.` components cleaned, and a name that is
 * absolute or climbs out with `..` is refused (an archive is not allowed to name anything
 * outside itself; docker refuses such names too).
 */
import { invalidArgument } from '@lab/oci';

/**
 * The clean form of an entry name (`./blobs//sha256/x` → `blobs/sha256/x`), or `''` for the
 * archive root itself. Throws invalid-argument for an absolute name or one that escapes.
 */
export function cleanArchivePath(name: string): string {
  if (name.startsWith('/')) {
    throw invalidArgument(
      `archive entry "${name}" has an absolute path; image archives hold relative names only — the archive is corrupt or hostile`,
      { details: { entry: name } },
    );
  }
  if (name.includes('\0')) {
    throw invalidArgument(`archive entry "${name}" contains a NUL byte; the archive is corrupt`, {
      details: { entry: name },
    });
  }
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      throw invalidArgument(
        `archive entry "${name}" climbs out of the archive with ".."; the archive is corrupt or hostile`,
        { details: { entry: name } },
      );
    }
    out.push(part);
  }
  return out.join('/');
}

/**
 * Resolves a path named inside the archive (by `manifest.json`, or a symlink target) against the
 * directory of the file that names it. `base` is the directory (`''` for the root). Returns the
 * clean path, or throws when it escapes the archive.
 */
export function resolveArchivePath(base: string, target: string, referrer: string): string {
  const parts = target.startsWith('/') ? [] : base.split('/').filter((p) => p !== '');
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) {
        throw invalidArgument(
          `"${referrer}" points at "${target}", outside the archive; the archive is corrupt or hostile`,
          { details: { entry: referrer, target } },
        );
      }
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  return parts.join('/');
}

/** The directory part of a clean archive path (`''` at the root). */
export function archiveDirname(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}
