/**
 * Deterministic JSON for documents lab writes (manifests, indexes, configs, `index.json`),
 * so that building the same image twice gives the same bytes and hence the same digests.
 *
 * The choice: object keys are SORTED by UTF-16 code unit order at every level, no white
 * space, strings escaped as `JSON.stringify` does. Docker and containerd marshal Go structs
 * in struct-field order (and maps sorted), which is deterministic for Go but depends on
 * how an object was built in JavaScript; sorting every object instead makes the bytes depend
 * only on the value, whatever order a caller spread fields in. Both are valid JSON with the
 * same meaning; byte-for-byte equality with Docker-built blobs is never expected (digests
 * of received documents are always taken over the bytes as received, never re-serialised).
 * Unlike Go, `<`, `>` and `&` are not escaped as `\u003c`….
 */
import type { Descriptor, DescriptorExtras } from './descriptor.js';
import { createDescriptor } from './descriptor.js';
import { invalidArgument } from './errors.js';

function write(value: unknown, path: string, out: string[]): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        throw invalidArgument(`${path}: ${value} cannot be written as JSON; use a finite number`);
      }
      out.push(JSON.stringify(value));
      return;
    case 'object':
      break;
    default:
      throw invalidArgument(`${path}: a ${typeof value} cannot be written as JSON`);
  }
  if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item: unknown, i) => {
      if (i > 0) out.push(',');
      write(item === undefined ? null : item, `${path}[${i}]`, out);
    });
    out.push(']');
    return;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  out.push('{');
  keys.forEach((key, i) => {
    if (i > 0) out.push(',');
    out.push(JSON.stringify(key), ':');
    write(record[key], `${path}.${key}`, out);
  });
  out.push('}');
}

/**
 * Serialises `value` deterministically: keys sorted at every level, no white space,
 * `undefined` object members dropped (and `undefined` array items written as `null`, like
 * `JSON.stringify`). Throws invalid-argument for non-finite numbers, bigints, functions.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, '$', out);
  return out.join('');
}

/** {@link canonicalJson} as UTF-8 bytes, ready to hash and store. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return Buffer.from(canonicalJson(value), 'utf8');
}

/** A document serialised for storage: its exact bytes and the descriptor that names them. */
export interface EncodedDocument {
  /** The canonical JSON bytes. */
  bytes: Uint8Array;
  /** mediaType, sha256 digest and size of `bytes`, plus the extras given. */
  descriptor: Descriptor;
}

/**
 * Serialises a manifest, index or config canonically and describes the result, e.g.
 * `encodeDocument(OCI_MEDIA_TYPES.manifest, manifest)`.
 */
export function encodeDocument(
  mediaType: string,
  value: unknown,
  extras: DescriptorExtras = {},
): EncodedDocument {
  const bytes = canonicalJsonBytes(value);
  return { bytes, descriptor: createDescriptor(mediaType, bytes, extras) };
}
