/**
 * `lab image import` (docker's `import`): makes a one-layer image from a root filesystem given
 * as a tar stream (plain, gzip or zstd) or a directory, with a config edited by `--change`
 * (the CLI parses the Dockerfile instructions; this takes the resulting config).
 *
 * The layer is stored as the uncompressed tar, byte for byte as given (so its digest is its
 * DiffID, as `docker import` keeps it); the tar is read through while it streams in, so a
 * truncated or corrupt tar is refused before anything is named. A directory is archived
 * deterministically (sorted, numeric owners, PAX) first.
 */
import type { Readable } from 'node:stream';
import {
  OCI_MEDIA_TYPES,
  hostPlatform,
  type ContainerConfig,
  type Digest,
  type Platform,
} from '@lab/oci';
import type { ContentStore } from '../content/index.js';
import { withLease, type Lease } from '../gc/lease.js';
import { commitImage } from '../images/commit-image.js';
import type { ImageStore } from '../images/image-store.js';
import { normalizeImageName } from '../images/names.js';
import { readTar } from '../tar/index.js';
import { cleanArchivePath } from './archive-path.js';
import { decompressArchive } from './decompress.js';
import { directoryLayer } from './directory-layer.js';

export interface ImportOptions {
  /** The image's container config (Cmd, Env, …), e.g. from `--change`. */
  config?: ContainerConfig;
  /** History comment; default `Imported from <source>` like docker. */
  message?: string;
  /** Where the rootfs came from, for the default message (`-` for stdin). */
  sourceName?: string;
  /** Creation time (RFC 3339); default now. Pass a fixed time for reproducible images. */
  created?: string;
  /** Architecture / OS / variant; default this machine's. */
  platform?: Platform;
  signal?: AbortSignal;
}

export interface ImportResult {
  /** Image ID (config digest). */
  id: Digest;
  manifestDigest: Digest;
  /** DiffID of the single layer. */
  diffID: Digest;
  /** Full normalised name, when one was given. */
  name?: string;
}

/** Streams a rootfs tar into the store as a layer; returns its DiffID and size. */
async function ingestLayer(
  content: ContentStore,
  source: Readable | AsyncIterable<Uint8Array>,
  lease: Lease,
  signal: AbortSignal | undefined,
): Promise<{ digest: Digest; size: number }> {
  const { stream } = decompressArchive(source);
  const writer = await content.writer({ ref: 'import' });
  try {
    async function* tap(): AsyncGenerator<Uint8Array> {
      for await (const chunk of stream) {
        await writer.write(chunk);
        yield chunk;
      }
    }
    for await (const entry of readTar(tap(), signal === undefined ? {} : { signal })) {
      // Names are checked now so that a hostile tar is refused at import, not at unpack.
      if (entry.header.name !== './' && entry.header.name !== '.')
        cleanArchivePath(entry.header.name.replace(/^\/+/, ''));
    }
    // leased before it appears under its name, so a concurrent gc never sees it unleased
    await lease.add(writer.digest());
    return await writer.commit();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/** Imports a rootfs (tar stream or directory path) as a new one-layer image. */
export async function importRootfs(
  images: ImageStore,
  source: Readable | AsyncIterable<Uint8Array> | { directory: string },
  name: string | undefined,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const fullName = name === undefined ? undefined : normalizeImageName(name);
  const tarSource = 'directory' in source ? directoryLayer(source.directory) : source;
  return withLease(images.root, async (lease) => {
    let layer: { digest: Digest; size: number };
    try {
      layer = await ingestLayer(images.content, tarSource, lease, options.signal);
    } catch (err) {
      // stop whoever produces the tar (the directory archiver, a file stream)
      if ('destroy' in tarSource && typeof tarSource.destroy === 'function') tarSource.destroy();
      throw err;
    }
    const created = options.created ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const platform = options.platform ?? hostPlatform();
    options.signal?.throwIfAborted();
    const committed = await commitImage(images, {
      config: {
        created,
        architecture: platform.architecture,
        ...(platform.variant === undefined || platform.variant === ''
          ? {}
          : { variant: platform.variant }),
        os: platform.os,
        config: options.config ?? {},
        history: [
          { created, comment: options.message ?? `Imported from ${options.sourceName ?? '-'}` },
        ],
      },
      layers: [
        {
          descriptor: { mediaType: OCI_MEDIA_TYPES.layer, digest: layer.digest, size: layer.size },
          diffID: layer.digest,
        },
      ],
      ...(fullName === undefined ? {} : { name: fullName }),
    });
    return {
      id: committed.id,
      manifestDigest: committed.manifestDescriptor.digest,
      diffID: layer.digest,
      ...(fullName === undefined ? {} : { name: fullName }),
    };
  });
}
