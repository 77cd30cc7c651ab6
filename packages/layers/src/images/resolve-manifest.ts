/**
 * From an `index.json` entry (a manifest or an index, OCI or Docker) to the manifest and
 * config of one platform, with every blob read verified by digest and size.
 */
import {
  failedPrecondition,
  internal,
  invalidArgument,
  isConfigMediaType,
  isIndexMediaType,
  isManifestMediaType,
  isNotFound,
  notFound,
  compatiblePlatforms,
  formatPlatform,
  hostPlatform,
  parseImageConfig,
  parseManifestDocument,
  platformEquals,
  platformMatches,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  type Platform,
} from '@lab/oci';
import type { ContentStore } from '../content/content-store.js';

/** One platform's manifest and config. */
export interface ResolvedManifest {
  /** The manifest's descriptor (the entry itself, or the index entry that was picked). */
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
  configDescriptor: Descriptor;
  config: ImageConfig;
  /** The exact config bytes (their digest is the image ID). */
  configBytes: Buffer;
}

const MAX_DEPTH = 4;

/** Reads a blob and checks it against the descriptor's size (the digest is checked by readBlob). */
export async function readDescribed(
  content: ContentStore,
  descriptor: Descriptor,
): Promise<Buffer> {
  const bytes = await content.readBlob(descriptor.digest);
  if (bytes.byteLength !== descriptor.size) {
    throw internal(
      `blob ${descriptor.digest} has ${bytes.byteLength} bytes but its descriptor says ${descriptor.size}; the referring manifest or index is wrong`,
      {
        details: {
          digest: descriptor.digest,
          size: bytes.byteLength,
          expectedSize: descriptor.size,
        },
      },
    );
  }
  return bytes;
}

function describePlatform(entry: Descriptor): string {
  return entry.platform === undefined ? '(no platform)' : formatPlatform(entry.platform);
}

/** The platform an image config declares. */
export function configPlatform(config: ImageConfig): Platform {
  return {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant === undefined || config.variant === null ? {} : { variant: config.variant }),
  };
}

/**
 * Index entries in the order to try them for `platform`: entries of the exact platform, then
 * of each compatible one (containerd's order), then entries without a platform.
 */
function candidates(entries: readonly Descriptor[], platform: Platform): Descriptor[] {
  const usable = entries.filter(
    (e) => isManifestMediaType(e.mediaType) || isIndexMediaType(e.mediaType),
  );
  const out: Descriptor[] = [];
  for (const p of compatiblePlatforms(platform)) {
    for (const e of usable)
      if (e.platform !== undefined && platformEquals(e.platform, p) && !out.includes(e))
        out.push(e);
  }
  for (const e of usable) if (e.platform === undefined) out.push(e);
  return out;
}

/** Resolves `target` to the manifest for `platform` (default: the host's). */
export async function resolveManifest(
  content: ContentStore,
  target: Descriptor,
  platform: Platform = hostPlatform(),
  depth = 0,
): Promise<ResolvedManifest> {
  if (depth > MAX_DEPTH) {
    throw invalidArgument(
      `index ${target.digest} nests indexes more than ${MAX_DEPTH} deep; refusing to follow`,
    );
  }
  const bytes = await readDescribed(content, target);
  const document = parseManifestDocument(bytes, target.mediaType, `blob ${target.digest}`);
  if (document.kind === 'index') {
    const tried: string[] = [];
    const ordered = candidates(document.index.manifests, platform);
    for (const entry of document.index.manifests) {
      if (!ordered.includes(entry)) tried.push(describePlatform(entry));
    }
    for (const entry of ordered) {
      try {
        const resolved = await resolveManifest(content, entry, platform, depth + 1);
        if (
          entry.platform === undefined &&
          !platformMatches(platform, configPlatform(resolved.config))
        ) {
          tried.push(`${resolved.config.os}/${resolved.config.architecture}`);
          continue;
        }
        return resolved;
      } catch (err) {
        // Only one platform of an index is usually copied: skip entries whose blobs are absent.
        if (isNotFound(err)) {
          tried.push(`${describePlatform(entry)} (not in the store)`);
          continue;
        }
        throw err;
      }
    }
    throw notFound(
      `index ${target.digest} has no manifest for ${formatPlatform(platform)} in the store (entries: ${tried.join(', ') || 'none'}); pull or copy the image for this platform`,
      { details: { digest: target.digest, platform } },
    );
  }
  const manifest = document.manifest;
  if (!isConfigMediaType(manifest.config.mediaType)) {
    throw failedPrecondition(
      `manifest ${target.digest} is not a container image (config media type ${manifest.config.mediaType}${manifest.artifactType === undefined ? '' : `, artifact type ${manifest.artifactType}`}); it can be stored and copied but not run`,
      { details: { digest: target.digest, configMediaType: manifest.config.mediaType } },
    );
  }
  const configBytes = await readDescribed(content, manifest.config);
  const config = parseImageConfig(configBytes, `config ${manifest.config.digest}`);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw invalidArgument(
      `image ${target.digest}: the manifest has ${manifest.layers.length} layers but the config lists ${config.rootfs.diff_ids.length} diff_ids; the image is malformed, rebuild or re-pull it`,
      { details: { digest: target.digest } },
    );
  }
  return {
    manifestDescriptor: { ...target },
    manifest,
    configDescriptor: manifest.config,
    config,
    configBytes,
  };
}
