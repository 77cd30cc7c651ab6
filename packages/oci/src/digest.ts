import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { invalidArgument } from './errors.js';

/** A content digest, `algorithm:encoded`, e.g. `sha256:e3b0…`. */
export type Digest = `${string}:${string}`;

const ENCODED: Record<string, RegExp> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
  blake3: /^[a-f0-9]{64}$/,
};

/** Grammar of the OCI image spec: algorithm-component ([+._-] algorithm-component)* ":" encoded. */
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** The two parts of a digest string. */
export interface ParsedDigest {
  algorithm: string;
  encoded: string;
}

/** Options of {@link parseDigest}. */
export interface ParseDigestOptions {
  /**
   * Accept a well-formed digest whose algorithm lab does not know (the image spec says such
   * documents must not be rejected, only left unverified). Default false: only sha256,
   * sha512 and blake3 are accepted, with their exact lower-case hex lengths.
   */
  allowUnknownAlgorithm?: boolean;
}

/** Parses and validates a digest string; throws invalid-argument naming the problem. */
export function parseDigest(value: string, options: ParseDigestOptions = {}): ParsedDigest {
  if (!DIGEST_GRAMMAR.test(value)) {
    throw invalidArgument(
      `invalid digest "${value}": expected algorithm:hex, for example sha256:<64 hex digits>`,
      { details: { digest: value } },
    );
  }
  const colon = value.indexOf(':');
  const algorithm = value.slice(0, colon);
  const encoded = value.slice(colon + 1);
  const rule = ENCODED[algorithm];
  if (rule === undefined) {
    if (options.allowUnknownAlgorithm === true) return { algorithm, encoded };
    throw invalidArgument(
      `unsupported digest algorithm "${algorithm}" in "${value}": use sha256 or sha512`,
      { details: { digest: value } },
    );
  }
  if (!rule.test(encoded)) {
    throw invalidArgument(
      `invalid ${algorithm} digest "${value}": the encoded part must be ${algorithm === 'sha512' ? 128 : 64} lower-case hex digits`,
      { details: { digest: value } },
    );
  }
  return { algorithm, encoded };
}

/** True when `value` is a valid digest of a known algorithm (see {@link parseDigest}). */
export function isDigest(value: string, options: ParseDigestOptions = {}): value is Digest {
  try {
    parseDigest(value, options);
    return true;
  } catch {
    return false;
  }
}

/** Validates and narrows a string to Digest. */
export function asDigest(value: string): Digest {
  parseDigest(value);
  return value as Digest;
}

/** The sha256 digest of a buffer or string. */
export function sha256(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** An incremental sha256 digester. */
export class Digester {
  readonly #hash: Hash = createHash('sha256');
  #size = 0;

  /** Feeds bytes in. */
  update(chunk: Uint8Array): this {
    this.#hash.update(chunk);
    this.#size += chunk.byteLength;
    return this;
  }

  /** Bytes fed so far. */
  get size(): number {
    return this.#size;
  }

  /** The digest so far; the digester stays usable. */
  digest(): Digest {
    return `sha256:${this.#hash.copy().digest('hex')}`;
  }
}

/**
 * A pass-through stream that hashes what flows through it.
 * Read `digest()` and `size` after the stream has ended.
 */
export class DigestStream extends Transform {
  readonly #digester = new Digester();

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#digester.update(chunk);
    done(null, chunk);
  }

  /** Bytes that passed through. */
  get size(): number {
    return this.#digester.size;
  }

  /** The sha256 digest of what passed through. */
  digest(): Digest {
    return this.#digester.digest();
  }
}

/** The file name of a blob in an OCI layout: `blobs/<alg>/<encoded>`. */
export function blobPath(digest: Digest): string {
  const { algorithm, encoded } = parseDigest(digest);
  return `blobs/${algorithm}/${encoded}`;
}
