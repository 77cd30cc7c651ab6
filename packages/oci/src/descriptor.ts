/**
 * Content descriptors and platforms (image-spec descriptor.md, image-index.md), as zod
 * schemas validated at the boundary and the types inferred from them. Objects are "loose":
 * unknown fields are kept, so a parsed document re-serialises without losing anything.
 */
import { z } from 'zod';
import { parseDigest, sha256, type Digest } from './digest.js';
import type { JsonInput } from './validate.js';
import { parseWithSchema } from './validate.js';

const MEDIA_TYPE =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** The common case, checked first without building an error. */
const SHA256 = /^sha256:[a-f0-9]{64}$/;

/**
 * A digest string. Known algorithms (sha256, sha512, blake3) must have their exact hex form;
 * a well-formed digest of an unknown algorithm is accepted, as the image spec requires.
 */
export const DigestSchema = z.string().transform((value, ctx): Digest => {
  if (SHA256.test(value)) return value as Digest;
  try {
    parseDigest(value, { allowUnknownAlgorithm: true });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message, input: value });
    return z.NEVER;
  }
  return value as Digest;
});

/** A digest string of a known algorithm only (e.g. DiffIDs, which lab must be able to verify). */
export const StrictDigestSchema = z.string().transform((value, ctx): Digest => {
  if (SHA256.test(value)) return value as Digest;
  try {
    parseDigest(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message, input: value });
    return z.NEVER;
  }
  return value as Digest;
});

/** An RFC 6838 media type, `type/subtype` (the image spec's pattern). */
export const MediaTypeSchema = z.string().regex(MEDIA_TYPE, {
  error: (issue) =>
    `invalid media type ${JSON.stringify(issue.input)}: expected type/subtype, e.g. application/vnd.oci.image.manifest.v1+json`,
});

/** Annotations: string keys to string values. */
export const AnnotationsSchema = z.record(z.string(), z.string());

/** Annotations map. */
export type Annotations = z.infer<typeof AnnotationsSchema>;

/** An RFC 3339 date-time (`2015-10-31T22:22:56.015925234Z`). */
export const Rfc3339Schema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/, {
    error: (issue) =>
      `invalid time ${JSON.stringify(issue.input)}: expected RFC 3339, e.g. 2024-01-02T03:04:05Z`,
  });

const UriSchema = z.string().refine((value) => URL.canParse(value), {
  error: (issue) => `invalid URL ${JSON.stringify(issue.input)}: expected an absolute http(s) URL`,
});

/** The platform of an index entry: `architecture` and `os` are required (GOARCH/GOOS values). */
export const PlatformSchema = z.looseObject({
  architecture: z.string(),
  os: z.string(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  variant: z.string().optional(),
  features: z.array(z.string()).optional(),
});

/** The platform an image runs on. */
export type Platform = z.infer<typeof PlatformSchema>;

/** A content descriptor: what a blob is, its digest and size, and optional extras. */
export const DescriptorSchema = z.looseObject({
  mediaType: MediaTypeSchema,
  digest: DigestSchema,
  size: z.number().int().nonnegative(),
  urls: z.array(UriSchema).optional(),
  annotations: AnnotationsSchema.optional(),
  data: z.base64().optional(),
  artifactType: MediaTypeSchema.optional(),
  platform: PlatformSchema.optional(),
});

/** A content descriptor (`application/vnd.oci.descriptor.v1+json`). */
export type Descriptor = z.infer<typeof DescriptorSchema>;

/** Parses and validates a descriptor; throws invalid-argument naming the field path. */
export function parseDescriptor(json: JsonInput, source?: string): Descriptor {
  return parseWithSchema(DescriptorSchema, json, 'descriptor', source);
}

/** Parses and validates a platform object; throws invalid-argument naming the field path. */
export function parsePlatformObject(json: JsonInput, source?: string): Platform {
  return parseWithSchema(PlatformSchema, json, 'platform', source);
}

/** Extra fields of a descriptor made by {@link createDescriptor}. */
export type DescriptorExtras = Omit<Descriptor, 'mediaType' | 'digest' | 'size'>;

/** The descriptor of some content: its sha256 digest and byte size, plus any extras. */
export function createDescriptor(
  mediaType: string,
  content: Uint8Array | string,
  extras: DescriptorExtras = {},
): Descriptor {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return { mediaType, digest: sha256(bytes), size: bytes.byteLength, ...extras };
}

/**
 * The empty descriptor: the two bytes `{}`, embedded as `data`
 * (config of artifacts without config, and the single layer of a payload-less artifact).
 */
export const EMPTY_DESCRIPTOR: Readonly<Descriptor> = Object.freeze({
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
});
