import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, encodeDocument } from './canonical-json.js';
import { blobPath } from './digest.js';
import { createImageConfig } from './image-config.js';
import { ANNOTATION_REF_NAME, createImageLayout, createIndexJson } from './layout.js';
import { createImageManifest } from './manifest.js';
import { OCI_MEDIA_TYPES } from './media-types.js';
import type { Digest } from './digest.js';
import { isInvalidArgument, type LabError } from './errors.js';
import {
  familiarName,
  familiarString,
  isImageIdentifier,
  isValidDomain,
  isValidTag,
  registryHost,
  normalizedName,
  parseAnyReference,
  parseDockerRef,
  parseNormalizedNamed,
  parseRawReference,
  parseReference,
  referenceString,
  repositoryName,
  trimNamed,
  withDefaultTag,
  withDigest,
  withTag,
  type ImageReference,
} from './reference.js';

const HEX = 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff';
const D = `sha256:${HEX}`;
const ID = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';

function refusal(fn: () => unknown): LabError {
  try {
    fn();
  } catch (err) {
    expect(isInvalidArgument(err)).toBe(true);
    return err as LabError;
  }
  throw new Error('expected the reference to be refused');
}

/** Normalised parse (no default tag): input → [domain, path, tag?, digest?, familiar string]. */
const VALID: [string, string, string, string | undefined, string | undefined, string][] = [
  // oci.md §10 table
  ['ubuntu', 'docker.io', 'library/ubuntu', undefined, undefined, 'ubuntu'],
  ['ubuntu:22.04', 'docker.io', 'library/ubuntu', '22.04', undefined, 'ubuntu:22.04'],
  ['library/ubuntu', 'docker.io', 'library/ubuntu', undefined, undefined, 'ubuntu'],
  ['docker.io/ubuntu', 'docker.io', 'library/ubuntu', undefined, undefined, 'ubuntu'],
  ['index.docker.io/ubuntu', 'docker.io', 'library/ubuntu', undefined, undefined, 'ubuntu'],
  [
    'docker.io/library/foo/bar',
    'docker.io',
    'library/foo/bar',
    undefined,
    undefined,
    'library/foo/bar',
  ],
  ['foo/bar', 'docker.io', 'foo/bar', undefined, undefined, 'foo/bar'],
  ['localhost/foo', 'localhost', 'foo', undefined, undefined, 'localhost/foo'],
  ['localhost:5000/foo', 'localhost:5000', 'foo', undefined, undefined, 'localhost:5000/foo'],
  ['foo:5000/bar', 'foo:5000', 'bar', undefined, undefined, 'foo:5000/bar'],
  ['test-com:8080/foo', 'test-com:8080', 'foo', undefined, undefined, 'test-com:8080/foo'],
  ['localhost', 'docker.io', 'library/localhost', undefined, undefined, 'localhost'],
  ['example.com', 'docker.io', 'library/example.com', undefined, undefined, 'example.com'],
  ['192.168.0.1:80', 'docker.io', 'library/192.168.0.1', '80', undefined, '192.168.0.1:80'],
  [
    '127.0.0.1:5000/debian',
    '127.0.0.1:5000',
    'debian',
    undefined,
    undefined,
    '127.0.0.1:5000/debian',
  ],
  [
    'xn--n3h.com:18080/foo',
    'xn--n3h.com:18080',
    'foo',
    undefined,
    undefined,
    'xn--n3h.com:18080/foo',
  ],
  [
    '[fc00::1]:5000/docker',
    '[fc00::1]:5000',
    'docker',
    undefined,
    undefined,
    '[fc00::1]:5000/docker',
  ],
  ['Foo/bar', 'Foo', 'bar', undefined, undefined, 'Foo/bar'],
  ['FOO/bar', 'FOO', 'bar', undefined, undefined, 'FOO/bar'],
  ['LOCALDOMAIN/fooo', 'LOCALDOMAIN', 'fooo', undefined, undefined, 'LOCALDOMAIN/fooo'],
  ['test_com/foo', 'docker.io', 'test_com/foo', undefined, undefined, 'test_com/foo'],
  ['dock__er/docker', 'docker.io', 'dock__er/docker', undefined, undefined, 'dock__er/docker'],
  [
    'docker---rules/docker',
    'docker.io',
    'docker---rules/docker',
    undefined,
    undefined,
    'docker---rules/docker',
  ],
  ['d/docker', 'docker.io', 'd/docker', undefined, undefined, 'd/docker'],
  [`docker.io/${ID}`, 'docker.io', `library/${ID}`, undefined, undefined, ID],
  [`busybox:latest@${D}`, 'docker.io', 'library/busybox', 'latest', D, `busybox:latest@${D}`],
  [`localhost:5000/a/b@${D}`, 'localhost:5000', 'a/b', undefined, D, `localhost:5000/a/b@${D}`],
  // distribution/reference normalize_test.go
  ['docker/docker', 'docker.io', 'docker/docker', undefined, undefined, 'docker/docker'],
  [
    'index.docker.io/docker/docker',
    'docker.io',
    'docker/docker',
    undefined,
    undefined,
    'docker/docker',
  ],
  ['index.docker.io/library/debian', 'docker.io', 'library/debian', undefined, undefined, 'debian'],
  [
    '127.0.0.1:5000/library/debian',
    '127.0.0.1:5000',
    'library/debian',
    undefined,
    undefined,
    '127.0.0.1:5000/library/debian',
  ],
  ['192.168.0.1', 'docker.io', 'library/192.168.0.1', undefined, undefined, '192.168.0.1'],
  ['192.168.0.1:8/debian', '192.168.0.1:8', 'debian', undefined, undefined, '192.168.0.1:8/debian'],
  [
    '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    '[fc00:1:2:3:4:5:6:7]:5000',
    'library/debian',
    undefined,
    undefined,
    '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
  ],
  [
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    'docker.io',
    'library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    undefined,
    undefined,
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
  ],
  ['jess/t', 'docker.io', 'jess/t', undefined, undefined, 'jess/t'],
  ['other/library', 'docker.io', 'other/library', undefined, undefined, 'other/library'],
  ['store/foo/bar', 'docker.io', 'store/foo/bar', undefined, undefined, 'store/foo/bar'],
  [
    'library/ubuntu-12.04-base',
    'docker.io',
    'library/ubuntu-12.04-base',
    undefined,
    undefined,
    'ubuntu-12.04-base',
  ],
  [
    'example.com:8000/private/moonbase',
    'example.com:8000',
    'private/moonbase',
    undefined,
    undefined,
    'example.com:8000/private/moonbase',
  ],
  ['test.com/foo', 'test.com', 'foo', undefined, undefined, 'test.com/foo'],
  [
    'lowercase:Uppercase',
    'docker.io',
    'library/lowercase',
    'Uppercase',
    undefined,
    'lowercase:Uppercase',
  ],
  [
    'b.gcr.io/test.example.com/my-app:test.example.com',
    'b.gcr.io',
    'test.example.com/my-app',
    'test.example.com',
    undefined,
    'b.gcr.io/test.example.com/my-app:test.example.com',
  ],
  [
    '[2001:db8::1]:5000/repo:tag',
    '[2001:db8::1]:5000',
    'repo',
    'tag',
    undefined,
    '[2001:db8::1]:5000/repo:tag',
  ],
  ['[::1]:5000/repo', '[::1]:5000', 'repo', undefined, undefined, '[::1]:5000/repo'],
  ['foo_bar.com:8080', 'docker.io', 'library/foo_bar.com', '8080', undefined, 'foo_bar.com:8080'],
  ['ubuntu:_tag', 'docker.io', 'library/ubuntu', '_tag', undefined, 'ubuntu:_tag'],
  [
    `a:${'t'.repeat(128)}`,
    'docker.io',
    'library/a',
    't'.repeat(128),
    undefined,
    `a:${'t'.repeat(128)}`,
  ],
  [
    `sub-dom1.foo.com/bar/baz/quux:some-long-tag@sha512:${'f'.repeat(128)}`,
    'sub-dom1.foo.com',
    'bar/baz/quux',
    'some-long-tag',
    `sha512:${'f'.repeat(128)}`,
    `sub-dom1.foo.com/bar/baz/quux:some-long-tag@sha512:${'f'.repeat(128)}`,
  ],
];

/** Refused inputs and docker's exact message. */
const INVALID: [string, string][] = [
  ['ubuntu:', 'invalid reference format'],
  ['ubuntu@', 'invalid reference format'],
  ['ubuntu:tag@', 'invalid reference format'],
  ['ubuntu tag', 'invalid reference format'],
  ['UPPER', 'invalid reference format: repository name (library/UPPER) must be lowercase'],
  ['', 'invalid reference format'],
  ['[fc00::1]', 'invalid reference format'],
  ['[fc00::1]:5000', 'invalid reference format'],
  ['fc00::1:5000/debian', 'invalid reference format'],
  ['[fe80::1%eth0]:5000/x', 'invalid reference format'],
  ['[2001:db8:3:4::192.0.2.33]:5000/debian', 'invalid reference format'],
  ['foo/Bar', 'invalid reference format: repository name (foo/Bar) must be lowercase'],
  ['docker/Docker', 'invalid reference format: repository name (docker/Docker) must be lowercase'],
  [
    'docker.io/docker/Docker',
    'invalid reference format: repository name (docker/Docker) must be lowercase',
  ],
  ['Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase'],
  [
    'Uppercase:tag',
    'invalid reference format: repository name (library/Uppercase) must be lowercase',
  ],
  [
    'test:5000/Uppercase/lowercase:tag',
    'invalid reference format: repository name (Uppercase/lowercase) must be lowercase',
  ],
  ['-docker', 'invalid reference format'],
  ['-docker/docker', 'invalid reference format'],
  ['-docker.io/docker/docker', 'invalid reference format'],
  ['docker-/x', 'invalid reference format'],
  ['-docker-/docker', 'invalid reference format'],
  ['dock..er/x', 'invalid reference format'],
  ['dock_.er/x', 'invalid reference format'],
  ['dock-.er/docker', 'invalid reference format'],
  ['docker///docker', 'invalid reference format'],
  ['docker.io/docker///docker', 'invalid reference format'],
  ['docker/', 'invalid reference format'],
  ['____/____', 'invalid reference format'],
  ['_docker/_docker', 'invalid reference format'],
  ['https://github.com/docker/docker', 'invalid reference format'],
  ['aa/asdf$$^/aa', 'invalid reference format'],
  [':justtag', 'invalid reference format'],
  [`@${D}`, 'invalid reference format'],
  [ID, `invalid repository name (${ID}), cannot specify 64-byte hexadecimal strings`],
  [`${'a/'.repeat(128)}a:tag`, 'repository name must not be more than 255 characters'],
  ['x'.repeat(256), 'repository name must not be more than 255 characters'],
  [`a:${'t'.repeat(129)}`, 'invalid reference format'],
  ['a:.tag', 'invalid reference format'],
  ['a:-tag', 'invalid reference format'],
  ['repo@sha256:ffffffffffffffffffffffffffffffffff', 'invalid checksum digest length'],
  [`validname@invaliddigest:${HEX}`, 'unsupported digest algorithm'],
  [`repo@sha256:${HEX.toUpperCase()}`, 'invalid checksum digest format'],
  // docker checks lower case on everything before the first ':', digest algorithm included
  [
    `repo@Sha256:${HEX}`,
    'invalid reference format: repository name (library/repo@Sha256) must be lowercase',
  ],
  [`repo@sha256:${'g'.repeat(64)}`, 'invalid reference format'],
];

describe('parseNormalizedNamed', () => {
  it.each(VALID)('%s', (input, domain, path, tag, digest, familiar) => {
    const ref = parseNormalizedNamed(input);
    const expected: ImageReference = { domain, path };
    if (tag !== undefined) expected.tag = tag;
    if (digest !== undefined) expected.digest = digest as Digest;
    expect(ref).toEqual(expected);
    expect(familiarString(ref)).toBe(familiar);
    // the familiar form normalises back to the same reference (except a bare image ID,
    // which docker refuses as a name: `docker.io/<64 hex>` must keep its domain)
    if (!isImageIdentifier(familiar))
      expect(parseNormalizedNamed(familiarString(ref))).toEqual(ref);
    expect(parseNormalizedNamed(referenceString(ref))).toEqual(ref);
  });

  it.each(INVALID)('refuses %s', (input, message) => {
    const err = refusal(() => parseNormalizedNamed(input));
    expect(err.message).toBe(message);
    expect(err.details.reference).toBe(input);
    expect(typeof err.details.hint).toBe('string');
  });
});

describe('parseReference and the string forms', () => {
  it('adds latest to a bare name', () => {
    expect(parseReference('busybox')).toEqual({
      domain: 'docker.io',
      path: 'library/busybox',
      tag: 'latest',
    });
    expect(normalizedName('busybox')).toBe('docker.io/library/busybox:latest');
    expect(repositoryName(parseReference('busybox'))).toBe('docker.io/library/busybox');
    expect(familiarName(parseReference('busybox'))).toBe('busybox');
    expect(familiarString(parseReference('busybox'))).toBe('busybox:latest');
  });
  it('keeps a digest-only reference untagged', () => {
    const ref = parseReference(`localhost:5000/a/b@${D}`);
    expect(ref).toEqual({ domain: 'localhost:5000', path: 'a/b', digest: D });
    expect(normalizedName(ref)).toBe(`localhost:5000/a/b@${D}`);
  });
  it('keeps tag and digest together; the pull reference drops the tag', () => {
    expect(normalizedName(`busybox:latest@${D}`)).toBe(`docker.io/library/busybox:latest@${D}`);
    expect(parseDockerRef(`busybox:latest@${D}`)).toEqual({
      domain: 'docker.io',
      path: 'library/busybox',
      digest: D,
    });
    expect(parseDockerRef('busybox')).toEqual({
      domain: 'docker.io',
      path: 'library/busybox',
      tag: 'latest',
    });
  });
  it('familiar names keep library/ when more path follows, and other registries', () => {
    expect(familiarName(parseReference('docker.io/library/foo/bar'))).toBe('library/foo/bar');
    expect(familiarName(parseReference('docker.io/nonlibrary/ubuntu'))).toBe('nonlibrary/ubuntu');
    expect(familiarName(parseReference('127.0.0.1:8000/privatebase'))).toBe(
      '127.0.0.1:8000/privatebase',
    );
    expect(familiarString(parseReference('example.com/library/x'))).toBe(
      'example.com/library/x:latest',
    );
  });
  it('withTag / withDigest / withDefaultTag / trimNamed', () => {
    const ref = parseNormalizedNamed('test.com:8000/foo');
    expect(referenceString(withTag(ref, 'TAG5'))).toBe('test.com:8000/foo:TAG5');
    const digested = withDigest(ref, 'sha256:1234567890098765432112345667890098765');
    expect(referenceString(withTag(digested, 'TAG5'))).toBe(
      'test.com:8000/foo:TAG5@sha256:1234567890098765432112345667890098765',
    );
    expect(refusal(() => withTag(ref, '-foo')).message).toBe('invalid tag format');
    expect(refusal(() => withDigest(ref, 'foo')).message).toBe('invalid digest format');
    expect(withDefaultTag(ref)).toEqual({ ...ref, tag: 'latest' });
    expect(withDefaultTag(digested)).toEqual(digested);
    expect(trimNamed(withTag(digested, 'x'))).toEqual(ref);
  });
});

describe('parseAnyReference', () => {
  it('treats 64 hex and digests as image IDs, anything else as a name', () => {
    expect(parseAnyReference(ID)).toEqual({ kind: 'digest', digest: `sha256:${ID}` });
    expect(parseAnyReference(`sha256:${ID}`)).toEqual({ kind: 'digest', digest: `sha256:${ID}` });
    expect(parseAnyReference(ID.slice(0, 63))).toEqual({
      kind: 'named',
      reference: { domain: 'docker.io', path: `library/${ID.slice(0, 63)}` },
    });
    expect(parseAnyReference('dbcc1')).toEqual({
      kind: 'named',
      reference: { domain: 'docker.io', path: 'library/dbcc1' },
    });
    expect(parseAnyReference('redis:latest')).toEqual({
      kind: 'named',
      reference: { domain: 'docker.io', path: 'library/redis', tag: 'latest' },
    });
  });
});

describe('parseRawReference (no normalisation)', () => {
  it.each([
    ['test_com', '', 'test_com', undefined],
    ['test.com:tag', '', 'test.com', 'tag'],
    ['test.com:5000', '', 'test.com', '5000'],
    ['test:5000/repo:tag', 'test:5000', 'repo', 'tag'],
    ['foo/foo_bar.com:8080', 'foo', 'foo_bar.com', '8080'],
    ['192.168.1.1:5000/repo:5050', '192.168.1.1:5000', 'repo', '5050'],
    [
      `${'a/'.repeat(127)}a:tag-puts-this-over-max`,
      'a',
      `${'a/'.repeat(126)}a`,
      'tag-puts-this-over-max',
    ],
  ])('%s', (input, domain, path, tag) => {
    const ref = parseRawReference(input);
    expect(ref.domain).toBe(domain);
    expect(ref.path).toBe(path);
    expect(ref.tag).toBe(tag);
    expect(referenceString(ref)).toBe(input);
  });
  it.each([
    ['', 'repository name must have at least one component'],
    ['Uppercase:tag', 'repository name must be lowercase'],
    ['[2001:db8::1]:tag', 'invalid reference format'],
    ['[fe80::1%@invalidzone]:5000/repo', 'invalid reference format'],
  ])('refuses %s', (input, message) => {
    expect(refusal(() => parseRawReference(input)).message).toBe(message);
  });
});

describe('properties', () => {
  const component = fc
    .stringMatching(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/)
    .filter((s) => s.length <= 30);
  const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
  const domain = fc.constantFrom(
    'docker.io',
    'localhost',
    'localhost:5000',
    'example.com',
    '127.0.0.1:5000',
    '[::1]:5000',
    'Registry.Example.COM',
  );
  it('normalised references round-trip through their familiar and canonical strings', () => {
    fc.assert(
      fc.property(
        domain,
        fc.array(component, { minLength: 1, maxLength: 3 }),
        fc.option(tag, { nil: undefined }),
        (d, parts, t) => {
          const input = `${d}/${parts.join('/')}${t === undefined ? '' : `:${t}`}`;
          const ref = parseNormalizedNamed(input);
          // A familiar string whose first component looks like a host (`0.a/a`) is
          // ambiguous in docker too: it re-parses with that component as the domain.
          const familiar = familiarName(ref);
          const first = familiar.split('/')[0]!;
          const ambiguous = familiar.includes('/') && (/[.:]/.test(first) || first === 'localhost');
          if (!ambiguous) expect(parseNormalizedNamed(familiarString(ref))).toEqual(ref);
          expect(parseNormalizedNamed(referenceString(ref))).toEqual(ref);
          expect(referenceString(ref)).toBe(
            d === 'docker.io' && parts.length === 1
              ? `docker.io/library/${input.slice('docker.io/'.length)}`
              : input,
          );
        },
      ),
    );
  });
});

/**
 * skopeo as an oracle: `skopeo copy … docker-archive:FILE:NAME` parses NAME with
 * containers/image's fork of distribution/reference and writes the normalised name into
 * the archive's RepoTags. That fork (skopeo 1.9.3) predates two upstream changes, so those
 * inputs are left out: an upper-case first component taken as a domain (`Foo/bar`), and
 * bracketed IPv6 domains. Its messages also predate the "(name)" in the upper-case error.
 * docker-archive names cannot carry digests, so digest cases are left out too.
 */
describe('skopeo agrees on normalisation', () => {
  let skopeo = true;
  try {
    execFileSync('sh', ['-c', 'command -v skopeo'], { stdio: 'ignore' });
  } catch {
    skopeo = false;
    console.warn('skipping the skopeo reference oracle: skopeo is not installed');
  }
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lab-oci-ref-'));
    const config = encodeDocument(
      OCI_MEDIA_TYPES.config,
      createImageConfig({ architecture: 'amd64', os: 'linux', diffIds: [] }),
    );
    const manifest = encodeDocument(
      OCI_MEDIA_TYPES.manifest,
      createImageManifest({ config: config.descriptor, layers: [] }),
      {
        annotations: { [ANNOTATION_REF_NAME]: 'v1' },
      },
    );
    mkdirSync(join(dir, 'layout', 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(dir, 'layout', 'oci-layout'), canonicalJson(createImageLayout()));
    writeFileSync(
      join(dir, 'layout', 'index.json'),
      canonicalJson(createIndexJson([manifest.descriptor])),
    );
    writeFileSync(join(dir, 'layout', blobPath(config.descriptor.digest)), config.bytes);
    writeFileSync(join(dir, 'layout', blobPath(manifest.descriptor.digest)), manifest.bytes);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** RepoTags skopeo writes for `name`, or the error it prints. */
  function skopeoName(name: string): { tags: string[] } | { error: string } {
    const archive = join(dir, 'x.tar');
    rmSync(archive, { force: true });
    try {
      execFileSync(
        'skopeo',
        ['copy', '-q', `oci:${join(dir, 'layout')}:v1`, `docker-archive:${archive}:${name}`],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (err) {
      return { error: String((err as { stderr?: Buffer }).stderr ?? err) };
    }
    const manifest = JSON.parse(
      execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' }),
    ) as { RepoTags: string[] }[];
    return { tags: manifest[0]!.RepoTags };
  }

  const fork = (input: string): boolean => /^[^/]*[A-Z][^/]*\//.test(input) || input.includes('[');
  const validCases = VALID.filter(
    ([input, , , , digest]) => digest === undefined && !fork(input),
  ).map(([input]) => input);
  const invalidCases = INVALID.filter(
    ([input]) => input !== '' && !fork(input) && !input.includes('@'),
  ).map(([input]) => input);

  it.skipIf(!skopeo)('valid names normalise to the same RepoTags', () => {
    expect(validCases.length).toBeGreaterThan(30);
    for (const input of validCases) {
      expect(skopeoName(input), input).toEqual({ tags: [normalizedName(input)] });
    }
  });
  it.skipIf(!skopeo)('invalid names are refused by skopeo too', () => {
    expect(invalidCases.length).toBeGreaterThan(20);
    for (const input of invalidCases) {
      const result = skopeoName(input);
      expect('error' in result ? result.error : 'accepted', input).toMatch(
        /invalid reference format|repository name must|cannot specify 64-byte hexadecimal/,
      );
    }
  });
});

describe('small helpers', () => {
  it('registry hosts and domains', () => {
    expect(registryHost('docker.io')).toBe('registry-1.docker.io');
    expect(registryHost('localhost:5000')).toBe('localhost:5000');
    expect(isValidDomain('[::1]:5000')).toBe(true);
    expect(isValidDomain('example.com:80')).toBe(true);
    expect(isValidDomain('-bad.com')).toBe(false);
    expect(isValidDomain('[fe80::1%eth0]')).toBe(false);
  });
  it('tags', () => {
    expect(isValidTag('v1.0_rc-1')).toBe(true);
    expect(isValidTag('t'.repeat(128))).toBe(true);
    expect(isValidTag('t'.repeat(129))).toBe(false);
    expect(isValidTag('.hidden')).toBe(false);
    expect(isValidTag('')).toBe(false);
  });
  it('a short digest-looking string is a name with a tag', () => {
    expect(parseAnyReference('sha256:abc')).toEqual({
      kind: 'named',
      reference: { domain: 'docker.io', path: 'library/sha256', tag: 'abc' },
    });
  });
});
