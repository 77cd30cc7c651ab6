/**
 * Image references, parsed and normalised exactly as docker's `distribution/reference`
 * does it (oci.md §10): `busybox` → `docker.io/library/busybox:latest`.
 *
 * The regular expressions are the grammar of distribution/reference, rebuilt piece by
 * piece. Go's RE2 and JavaScript's backtracking engine both pick the leftmost-first match,
 * so the captured domain/path/tag/digest are the same. Error messages are docker's,
 * word for word (`invalid reference format`, `invalid reference format: repository name
 * (library/Busybox) must be lowercase`, go-digest's `invalid checksum digest format`…), so
 * the CLI can print what docker prints; the input and a machine-readable `reason` are in
 * the error's `details`, with a `hint` saying what to do.
 */
import type { Digest } from './digest.js';
import { invalidArgument, type LabError } from './errors.js';

/** Docker Hub's canonical domain. */
export const DEFAULT_DOMAIN = 'docker.io';
/** Docker Hub's legacy domain, normalised to {@link DEFAULT_DOMAIN}. */
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
/** The namespace of official images on Docker Hub. */
export const OFFICIAL_REPO_PREFIX = 'library/';
/** The tag used when a reference has neither tag nor digest. */
export const DEFAULT_TAG = 'latest';
/** The longest repository path (without domain) a reference may have. */
export const REPOSITORY_NAME_MAX_LENGTH = 255;

// --- grammar (distribution/reference regexp.go, restated) ---------------------------------
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';

const REFERENCE = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const ANCHORED_NAME = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const ANCHORED_TAG = new RegExp(`^${tagPat}$`);
const ANCHORED_DIGEST = new RegExp(`^${digestPat}$`);
const ANCHORED_IDENTIFIER = /^[a-f0-9]{64}$/;
const ANCHORED_DOMAIN = new RegExp(`^${domainAndPort}$`);
/** go-digest's own grammar, used to tell "unsupported" from "malformed". */
const GO_DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** The algorithms docker registers (crypto/sha256 and crypto/sha512), with their hex length. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** An image reference: repository (domain + path) and an optional tag and/or digest. */
export interface ImageReference {
  /** Registry host[:port], e.g. `docker.io`, `localhost:5000`, `[::1]:5000`. */
  domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  path: string;
  /** Tag, e.g. `latest`. */
  tag?: string;
  /** Digest, e.g. `sha256:…`; pulls use it in preference to the tag. */
  digest?: Digest;
}

/** What {@link parseAnyReference} returns: an image ID / digest, or a named reference. */
export type AnyReference =
  { kind: 'digest'; digest: Digest } | { kind: 'named'; reference: ImageReference };

/** Machine-readable reasons a reference is refused (in `err.details.reason`). */
export type ReferenceErrorReason =
  | 'empty'
  | 'invalid-format'
  | 'uppercase'
  | 'name-too-long'
  | 'identifier'
  | 'tag-format'
  | 'digest-format'
  | 'digest-length'
  | 'digest-unsupported';

const HINTS: Record<ReferenceErrorReason, string> = {
  empty: 'give an image name such as busybox or registry.example.com/team/app:1.0',
  'invalid-format': 'use [registry[:port]/]name[:tag][@digest], e.g. localhost:5000/app:1.0',
  uppercase: 'repository names must be lower-case; write the name in lower case',
  'name-too-long': `shorten the repository path to at most ${REPOSITORY_NAME_MAX_LENGTH} characters`,
  identifier:
    'a 64-hex-digit string is an image ID, not a name; refer to the image by ID, or prefix a registry',
  'tag-format': 'a tag is 1-128 of [A-Za-z0-9_.-] and must not start with . or -',
  'digest-format': 'a digest is sha256: followed by 64 lower-case hex digits',
  'digest-length': 'a sha256 digest has exactly 64 hex digits',
  'digest-unsupported': 'use a sha256 (or sha384/sha512) digest',
};

function referenceError(message: string, reason: ReferenceErrorReason, input: string): LabError {
  return invalidArgument(message, { details: { reference: input, reason, hint: HINTS[reason] } });
}

/** go-digest's `Parse`: validates a digest the way docker does for references. */
function validateGoDigest(value: string, input: string): Digest {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon + 1 === value.length) {
    throw referenceError('invalid checksum digest format', 'digest-format', input);
  }
  const algorithm = value.slice(0, colon);
  const encoded = value.slice(colon + 1);
  const size = DIGEST_HEX_LENGTH[algorithm];
  if (size === undefined) {
    if (!GO_DIGEST.test(value))
      throw referenceError('invalid checksum digest format', 'digest-format', input);
    throw referenceError('unsupported digest algorithm', 'digest-unsupported', input);
  }
  if (encoded.length !== size)
    throw referenceError('invalid checksum digest length', 'digest-length', input);
  if (!/^[a-f0-9]+$/.test(encoded))
    throw referenceError('invalid checksum digest format', 'digest-format', input);
  return value as Digest;
}

/**
 * Parses a reference WITHOUT normalisation (distribution's `Parse`): `foo/bar` has domain
 * `foo`, `busybox` has domain `''`. Registries and already-canonical strings use this; user
 * input goes through {@link parseNormalizedNamed} or {@link parseReference}.
 */
export function parseRawReference(input: string): ImageReference {
  return parseRaw(input, input);
}

/** `Parse` over `input`; errors name `original` (the user's text before normalisation). */
function parseRaw(input: string, original: string): ImageReference {
  if (input === '')
    throw referenceError('repository name must have at least one component', 'empty', original);
  const match = REFERENCE.exec(input);
  if (match === null) {
    const lower = input.toLowerCase();
    if (lower !== input && REFERENCE.test(lower)) {
      throw referenceError('repository name must be lowercase', 'uppercase', original);
    }
    throw referenceError('invalid reference format', 'invalid-format', original);
  }
  const name = match[1]!;
  const nameMatch = ANCHORED_NAME.exec(name);
  const domain = nameMatch?.[1] ?? '';
  const path = nameMatch?.[2] ?? name;
  if (path.length > REPOSITORY_NAME_MAX_LENGTH) {
    throw referenceError(
      `repository name must not be more than ${REPOSITORY_NAME_MAX_LENGTH} characters`,
      'name-too-long',
      original,
    );
  }
  const ref: ImageReference = { domain, path };
  if (match[2] !== undefined) ref.tag = match[2];
  if (match[3] !== undefined) ref.digest = validateGoDigest(match[3], original);
  return ref;
}

/** Splits user input into domain and remainder as docker does (`splitDockerDomain`). */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  if (slash === -1) return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL_REPO_PREFIX + name };
  const maybeDomain = name.slice(0, slash);
  const maybeRemainder = name.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (maybeDomain === 'localhost') {
    domain = maybeDomain;
    remainder = maybeRemainder;
  } else if (maybeDomain === LEGACY_DEFAULT_DOMAIN) {
    domain = DEFAULT_DOMAIN;
    remainder = maybeRemainder;
  } else if (
    maybeDomain.includes('.') ||
    maybeDomain.includes(':') ||
    maybeDomain.toLowerCase() !== maybeDomain
  ) {
    domain = maybeDomain;
    remainder = maybeRemainder;
  } else {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/'))
    remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/** True for a 64-lower-case-hex string: an image ID, never a name. */
export function isImageIdentifier(value: string): boolean {
  return ANCHORED_IDENTIFIER.test(value);
}

/**
 * Parses user input into a normalised reference (distribution's `ParseNormalizedNamed`):
 * domain defaults to `docker.io`, single names get `library/`, `index.docker.io` becomes
 * `docker.io`. No default tag is added; see {@link parseReference}.
 */
export function parseNormalizedNamed(input: string): ImageReference {
  if (isImageIdentifier(input)) {
    throw referenceError(
      `invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`,
      'identifier',
      input,
    );
  }
  const { domain, remainder } = splitDockerDomain(input);
  const colon = remainder.indexOf(':');
  const remote = colon === -1 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) {
    throw referenceError(
      `invalid reference format: repository name (${remote}) must be lowercase`,
      'uppercase',
      input,
    );
  }
  return parseRaw(`${domain}/${remainder}`, input);
}

/**
 * Parses user input the way `docker pull`/`docker run` do: normalised, and tagged `latest`
 * when it has neither tag nor digest. `busybox` → `{domain: 'docker.io', path:
 * 'library/busybox', tag: 'latest'}`. A reference with both tag and digest keeps both
 * (see {@link pullReference} for what to fetch).
 */
export function parseReference(input: string): ImageReference {
  return withDefaultTag(parseNormalizedNamed(input));
}

/**
 * Like {@link parseNormalizedNamed}, but a 64-hex string or a digest string is an image
 * ID reference (distribution's `ParseAnyReference`): `docker inspect <id>` and friends.
 */
export function parseAnyReference(input: string): AnyReference {
  if (isImageIdentifier(input)) return { kind: 'digest', digest: `sha256:${input}` };
  const colon = input.indexOf(':');
  if (colon > 0) {
    try {
      return { kind: 'digest', digest: validateGoDigest(input, input) };
    } catch {
      // not a digest: fall through to a name
    }
  }
  return { kind: 'named', reference: parseNormalizedNamed(input) };
}

/**
 * The reference docker pulls (distribution's `ParseDockerRef`): with both a tag and a digest,
 * the tag is dropped; with neither, `latest` is added.
 */
export function parseDockerRef(input: string): ImageReference {
  return pullReference(parseNormalizedNamed(input));
}

/** The reference to fetch: digest wins over tag; a bare name gets `latest`. */
export function pullReference(ref: ImageReference): ImageReference {
  if (ref.digest !== undefined) return { domain: ref.domain, path: ref.path, digest: ref.digest };
  return withDefaultTag(ref);
}

/** Adds tag `latest` when the reference has neither tag nor digest (`TagNameOnly`). */
export function withDefaultTag(ref: ImageReference): ImageReference {
  if (ref.tag !== undefined || ref.digest !== undefined) return ref;
  return { ...ref, tag: DEFAULT_TAG };
}

/** True when `tag` is a valid tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`. */
export function isValidTag(tag: string): boolean {
  return ANCHORED_TAG.test(tag);
}

/** The reference with its tag replaced (digest kept); throws `invalid tag format`. */
export function withTag(ref: ImageReference, tag: string): ImageReference {
  if (!isValidTag(tag)) throw referenceError('invalid tag format', 'tag-format', tag);
  return { ...ref, tag };
}

/** The reference with its digest replaced (tag kept); throws `invalid digest format`. */
export function withDigest(ref: ImageReference, digest: string): ImageReference {
  if (!ANCHORED_DIGEST.test(digest))
    throw referenceError('invalid digest format', 'digest-format', digest);
  return { ...ref, digest: digest as Digest };
}

/** The repository only: tag and digest removed (`TrimNamed`). */
export function trimNamed(ref: ImageReference): ImageReference {
  return { domain: ref.domain, path: ref.path };
}

/** True when `domain` is a valid registry host[:port] (DNS name, IPv4, or [IPv6]). */
export function isValidDomain(domain: string): boolean {
  return ANCHORED_DOMAIN.test(domain);
}

/** The repository name, `domain/path` (Go's `Name()`), e.g. `docker.io/library/busybox`. */
export function repositoryName(ref: ImageReference): string {
  return ref.domain === '' ? ref.path : `${ref.domain}/${ref.path}`;
}

/** The full reference string (Go's `String()`): `name[:tag][@digest]`. */
export function referenceString(ref: ImageReference): string {
  let out = repositoryName(ref);
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/**
 * The fully normalised string of user input, default tag included:
 * `normalizedName('busybox')` → `docker.io/library/busybox:latest`.
 */
export function normalizedName(input: string | ImageReference): string {
  return referenceString(typeof input === 'string' ? parseReference(input) : withDefaultTag(input));
}

function familiarRepository(ref: ImageReference): { domain: string; path: string } {
  if (ref.domain !== DEFAULT_DOMAIN) return { domain: ref.domain, path: ref.path };
  let path = ref.path;
  if (path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) path = rest;
  }
  return { domain: '', path };
}

/**
 * The short repository name docker shows (`FamiliarName`): `docker.io/` and a lone
 * `library/` dropped. `docker.io/library/busybox` → `busybox`,
 * `docker.io/library/foo/bar` → `library/foo/bar`, `localhost:5000/a` unchanged.
 */
export function familiarName(ref: ImageReference): string {
  return repositoryName(familiarRepository(ref));
}

/** The short reference string docker shows (`FamiliarString`), tag and digest included. */
export function familiarString(ref: ImageReference): string {
  return referenceString({ ...ref, ...familiarRepository(ref) });
}

/** The registry's API host for a domain: Docker Hub's `docker.io` is served by `registry-1.docker.io`. */
export function registryHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? 'registry-1.docker.io' : domain;
}
