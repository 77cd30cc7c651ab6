/**
 * Telling a manifest from an index: registries and layouts hand out documents by digest or
 * tag, and only the media type (or the shape) says which one arrived.
 */
import { invalidArgument } from './errors.js';
import { parseImageIndex, type ImageIndex } from './image-index.js';
import { parseImageManifest, type ImageManifest } from './manifest.js';
import { isIndexMediaType, isManifestMediaType, isSchema1MediaType } from './media-types.js';
import { decodeJson, type JsonInput } from './validate.js';

/** A manifest or an index, told apart by media type (or, when absent, by shape). */
export type ManifestDocument =
  { kind: 'manifest'; manifest: ImageManifest } | { kind: 'index'; index: ImageIndex };

/**
 * Parses a document fetched by reference (a registry answer, a layout entry) that may be
 * either a manifest or an index. `mediaType` is the type the transport announced
 * (Content-Type or the descriptor); the document's own `mediaType` field wins when present.
 */
export function parseManifestDocument(
  json: JsonInput,
  mediaType?: string,
  source?: string,
): ManifestDocument {
  const value = decodeJson(json, source ?? 'manifest');
  const declared =
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { mediaType?: unknown }).mediaType === 'string'
      ? (value as { mediaType: string }).mediaType
      : mediaType;
  const where = source === undefined ? '' : `${source}: `;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidArgument(`${where}not an image manifest or index: expected a JSON object`, {
      details: { source, mediaType: declared },
    });
  }
  const schemaVersion = (value as { schemaVersion?: unknown }).schemaVersion;
  if ((declared !== undefined && isSchema1MediaType(declared)) || schemaVersion === 1) {
    throw invalidArgument(
      `${where}Docker schema 1 manifests (${declared ?? 'schemaVersion 1'}) are not supported; re-push the image with a current docker, podman or skopeo`,
      { details: { source, mediaType: declared } },
    );
  }
  if (declared !== undefined && isIndexMediaType(declared)) {
    return { kind: 'index', index: parseImageIndex(value, source) };
  }
  if (declared !== undefined && isManifestMediaType(declared)) {
    return { kind: 'manifest', manifest: parseImageManifest(value, source) };
  }
  if ('manifests' in value) {
    return { kind: 'index', index: parseImageIndex(value, source) };
  }
  if ('config' in value) {
    return { kind: 'manifest', manifest: parseImageManifest(value, source) };
  }
  throw invalidArgument(
    `${where}not an image manifest or index${declared === undefined ? '' : ` (media type ${declared})`}: expected a JSON object with "manifests" or "config" and "layers"`,
    { details: { source, mediaType: declared } },
  );
}
