/**
 * Where things live under a lab root. The root IS an OCI image layout, so that
 * `skopeo inspect oci:<root>:busybox`, `skopeo copy oci:<root>:name …` and
 * `umoci ls --layout <root>` work on it as it is:
 *
 * ```
 * <root>/oci-layout              {"imageLayoutVersion":"1.0.0"}
 * <root>/index.json              the image index: one entry per image name (see images/names.ts)
 * <root>/blobs/sha256/<hex>      content, named by the digest of its bytes; only complete,
 *                                verified blobs ever appear here (temp file + fsync + rename)
 * <root>/ingest/<random>         in-flight writes of the content store; leftovers of crashed
 *                                writers are removed by gc once older than its ingest age
 * <root>/locks/index.json.lock   proper-lockfile's lock around read-modify-write of index.json
 *                                (and around gc's mark + sweep)
 * <root>/leases/<id>.json        blobs a running pull/load/build holds before index.json names
 *                                them (gc roots; expired after 6 h untouched)
 * <root>/snapshots/, <root>/containers/   owned by the snapshotter and the container store
 * ```
 *
 * Image names are kept in `index.json` only (no side database), so what lab shows and what
 * skopeo/umoci see can never disagree: see `images/names.ts` for the annotation scheme.
 */
import { join } from 'node:path';
import { blobPath, type Digest } from '@lab/oci';

/** The directory of in-flight content writes. */
export function ingestDir(root: string): string {
  return join(root, 'ingest');
}

/** The blobs directory of the layout. */
export function blobsDir(root: string): string {
  return join(root, 'blobs');
}

/** The file of a blob: `<root>/blobs/<alg>/<encoded>`. */
export function blobFile(root: string, digest: Digest): string {
  return join(root, blobPath(digest));
}

/** The layout's image index. */
export function indexFile(root: string): string {
  return join(root, 'index.json');
}

/** The layout's version marker. */
export function layoutFile(root: string): string {
  return join(root, 'oci-layout');
}

/** The lock held while index.json is read, modified and written. */
export function indexLockPath(root: string): string {
  return join(root, 'locks', 'index.json.lock');
}
