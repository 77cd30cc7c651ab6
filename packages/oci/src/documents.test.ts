import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonBytes, encodeDocument } from './canonical-json.js';
import { parseDescriptor } from './descriptor.js';
import { sha256 } from './digest.js';
import { isInvalidArgument, type LabError } from './errors.js';
import { parseImageConfig } from './image-config.js';
import { parseImageIndex } from './image-index.js';
import { parseIndexJson } from './layout.js';
import { parseManifestDocument } from './manifest-document.js';
import { parseImageManifest } from './manifest.js';
import { DOCKER_MEDIA_TYPES, OCI_MEDIA_TYPES } from './media-types.js';
import { parseRuntimeSpec } from './runtime-spec.js';
import { parseRuntimeState } from './runtime-state.js';
import { formatFieldPath } from './validate.js';

function refusal(fn: () => unknown): LabError {
  try {
    fn();
  } catch (err) {
    expect(isInvalidArgument(err)).toBe(true);
    return err as LabError;
  }
  throw new Error('expected a refusal');
}

const layer = (digest: string) => ({ mediaType: OCI_MEDIA_TYPES.layerGzip, digest, size: 1 });
const CONFIG = { mediaType: OCI_MEDIA_TYPES.config, digest: sha256('c'), size: 1 };

describe('parse errors name the field path', () => {
  it('a bad layer digest', () => {
    const manifest = {
      schemaVersion: 2,
      config: CONFIG,
      layers: [layer(sha256('a')), layer(sha256('b')), layer('sha256:abc')],
    };
    const err = refusal(() => parseImageManifest(manifest));
    expect(err.message).toBe(
      'manifest.layers[2].digest: invalid sha256 digest "sha256:abc": the encoded part must be 64 lower-case hex digits',
    );
    expect(err.details.issues).toEqual([
      { path: 'manifest.layers[2].digest', message: expect.any(String) as string },
    ]);
  });
  it('prefixes the source and counts further problems', () => {
    const err = refusal(() =>
      parseImageManifest({ schemaVersion: 1, layers: 'x' }, 'blobs/sha256/abc'),
    );
    expect(err.message).toMatch(
      /^blobs\/sha256\/abc: manifest\.schemaVersion: unsupported schemaVersion 1: expected 2 .* \(and 2 more problems\)$/,
    );
  });
  it('quotes keys that are not identifiers', () => {
    const err = refusal(() =>
      parseImageConfig({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [] },
        config: { ExposedPorts: { '80/tcp': 'yes' } },
      }),
    );
    expect(err.message).toMatch(/^config\.config\.ExposedPorts\["80\/tcp"\]: /);
    expect(formatFieldPath('x', ['a', 0, 'os.version', 'b_c'])).toBe('x.a[0]["os.version"].b_c');
  });
  it('reports JSON syntax errors with line and column', () => {
    const err = refusal(() =>
      parseImageIndex('{\n  "schemaVersion": 2,\n  "manifests": [}\n', 'index.json'),
    );
    expect(err.message).toMatch(/^index\.json:3:\d+: not valid JSON/);
  });
  it('names bad env entries, media types, rootfs types, env', () => {
    const base = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } };
    expect(
      refusal(() => parseImageConfig({ ...base, config: { Env: ['PATH=/bin', 'NOEQUALS'] } }))
        .message,
    ).toBe('config.config.Env[1]: invalid environment entry "NOEQUALS": expected NAME=value');
    expect(
      refusal(() => parseImageConfig({ ...base, rootfs: { type: 'tar', diff_ids: [] } })).message,
    ).toBe('config.rootfs.type: unsupported rootfs type "tar": expected "layers"');
    expect(refusal(() => parseImageConfig({ ...base, created: 'yesterday' })).message).toMatch(
      /^config\.created: invalid time "yesterday": expected RFC 3339/,
    );
    expect(refusal(() => parseDescriptor({ ...CONFIG, mediaType: 'not a type' })).message).toMatch(
      /^descriptor\.mediaType: invalid media type "not a type"/,
    );
    expect(refusal(() => parseDescriptor({ ...CONFIG, size: -1 })).message).toMatch(
      /^descriptor\.size: /,
    );
    expect(refusal(() => parseDescriptor({ ...CONFIG, urls: ['not a url'] })).message).toMatch(
      /^descriptor\.urls\[0\]: invalid URL/,
    );
    expect(
      refusal(() =>
        parseRuntimeState({ ociVersion: '1.0.2', id: 'x', status: 'exploded', bundle: '/b' }),
      ).message,
    ).toMatch(/^state\.status: unknown status "exploded"/);
    expect(
      refusal(() =>
        parseRuntimeSpec({ ociVersion: '1', linux: { namespaces: [{ type: 'pidx' }] } }),
      ).message,
    ).toMatch(/^config\.linux\.namespaces\[0\]\.type: /);
  });
});

describe('digests in documents', () => {
  it('accepts a well-formed digest of an unknown algorithm in descriptors, not in diff_ids', () => {
    expect(
      parseDescriptor({
        ...CONFIG,
        digest: 'sha3-256+b64:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564',
      }).digest,
    ).toBe('sha3-256+b64:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564');
    expect(
      refusal(() => parseDescriptor({ ...CONFIG, digest: 'sha256:' + 'A'.repeat(64) })).message,
    ).toMatch(/lower-case hex/);
    const err = refusal(() =>
      parseImageConfig({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: ['md5:' + 'a'.repeat(32)] },
      }),
    );
    expect(err.message).toMatch(
      /^config\.rootfs\.diff_ids\[0\]: unsupported digest algorithm "md5"/,
    );
  });
});

describe('Docker documents', () => {
  const dockerConfig = {
    architecture: 'amd64',
    config: {
      Hostname: '',
      User: '',
      AttachStdout: false,
      ExposedPorts: null,
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['sh'],
      Healthcheck: {
        Test: ['CMD-SHELL', 'wget -q -O- localhost || exit 1'],
        Interval: 30000000000,
        Retries: 3,
      },
      Image: 'sha256:' + 'a'.repeat(64),
      Volumes: null,
      WorkingDir: '',
      Entrypoint: null,
      OnBuild: ['RUN echo child'],
      Shell: ['/bin/ash', '-c'],
      Labels: null,
    },
    container: 'abc',
    container_config: { Cmd: ['/bin/sh', '-c', '#(nop) CMD ["sh"]'] },
    created: '2023-07-18T23:19:33.655005962Z',
    docker_version: '20.10.23',
    history: [
      {
        created: '2023-07-18T23:19:33.538571854Z',
        created_by: '/bin/sh -c #(nop) ADD file:… in / ',
      },
      {
        created: '2023-07-18T23:19:33.655005962Z',
        created_by: '/bin/sh -c #(nop)  CMD ["sh"]',
        empty_layer: true,
      },
    ],
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [sha256('layer')] },
  };

  it('a Docker config keeps every Docker-only field through parse and canonical serialisation', () => {
    const parsed = parseImageConfig(JSON.stringify(dockerConfig));
    expect(parsed).toEqual(dockerConfig);
    expect(parsed.config?.Healthcheck?.Test?.[0]).toBe('CMD-SHELL');
    expect(parsed.config?.OnBuild).toEqual(['RUN echo child']);
    expect(parsed.config?.Shell).toEqual(['/bin/ash', '-c']);
    expect(parseImageConfig(canonicalJsonBytes(parsed))).toEqual(dockerConfig);
  });

  it('a schema 2 manifest and a manifest list', () => {
    const manifest = {
      schemaVersion: 2,
      mediaType: DOCKER_MEDIA_TYPES.manifest,
      config: { mediaType: DOCKER_MEDIA_TYPES.config, size: 1, digest: sha256('c') },
      layers: [{ mediaType: DOCKER_MEDIA_TYPES.layerGzip, size: 2, digest: sha256('l') }],
    };
    expect(parseImageManifest(manifest)).toEqual(manifest);
    const list = {
      schemaVersion: 2,
      mediaType: DOCKER_MEDIA_TYPES.manifestList,
      manifests: [
        {
          mediaType: DOCKER_MEDIA_TYPES.manifest,
          size: 3,
          digest: sha256('m'),
          platform: { architecture: 'arm', os: 'linux', variant: 'v7', features: ['sse4'] },
        },
      ],
    };
    expect(parseImageIndex(list)).toEqual(list);
    expect(parseManifestDocument(JSON.stringify(list))).toEqual({ kind: 'index', index: list });
    expect(parseManifestDocument(JSON.stringify(manifest))).toEqual({ kind: 'manifest', manifest });
  });

  it('tells manifests from indexes by media type, then by shape, and refuses schema 1', () => {
    const index = { schemaVersion: 2, manifests: [] };
    expect(parseManifestDocument(index, OCI_MEDIA_TYPES.index).kind).toBe('index');
    expect(parseManifestDocument(index).kind).toBe('index');
    expect(parseManifestDocument({ schemaVersion: 2, config: CONFIG, layers: [] }).kind).toBe(
      'manifest',
    );
    expect(
      refusal(() =>
        parseManifestDocument(
          { schemaVersion: 1, name: 'x', fsLayers: [] },
          DOCKER_MEDIA_TYPES.manifestV1Signed,
          'registry',
        ),
      ).message,
    ).toMatch(/^registry: Docker schema 1 manifests .* are not supported; re-push/);
    expect(refusal(() => parseManifestDocument({ hello: 1 })).message).toMatch(
      /not an image manifest or index/,
    );
    expect(refusal(() => parseManifestDocument('"a string"')).message).toBe(
      'not an image manifest or index: expected a JSON object',
    );
    expect(
      refusal(() => parseManifestDocument({ schemaVersion: 1, fsLayers: [] })).message,
    ).toMatch(/^Docker schema 1 manifests \(schemaVersion 1\) are not supported/);
    expect(
      refusal(() =>
        parseImageManifest({
          schemaVersion: 2,
          mediaType: OCI_MEDIA_TYPES.index,
          config: CONFIG,
          layers: [],
        }),
      ).message,
    ).toMatch(
      /^manifest\.mediaType: media type "application\/vnd\.oci\.image\.index\.v1\+json" is not an image manifest/,
    );
  });

  it('index.json without mediaType, with unknown entry types kept', () => {
    const index = {
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.example.thing', digest: sha256('t'), size: 1 }],
    };
    expect(parseIndexJson(JSON.stringify(index))).toEqual(index);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson([undefined, null, true, 'é<&>'])).toBe('[null,null,true,"é<&>"]');
  });
  it('gives the same bytes whatever order the fields were set in', () => {
    const a = { schemaVersion: 2, mediaType: OCI_MEDIA_TYPES.manifest, config: CONFIG, layers: [] };
    const b = {
      layers: [],
      config: { size: 1, digest: CONFIG.digest, mediaType: CONFIG.mediaType },
      mediaType: OCI_MEDIA_TYPES.manifest,
      schemaVersion: 2,
    };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    const doc = encodeDocument(OCI_MEDIA_TYPES.manifest, a);
    expect(doc.descriptor).toEqual({
      mediaType: OCI_MEDIA_TYPES.manifest,
      digest: sha256(doc.bytes),
      size: doc.bytes.byteLength,
    });
    expect(JSON.parse(Buffer.from(doc.bytes).toString('utf8'))).toEqual(a);
  });
  it('refuses values JSON cannot carry, naming where', () => {
    expect(refusal(() => canonicalJson({ a: [1, Number.NaN] })).message).toMatch(
      /^\$\.a\[1\]: NaN cannot be written as JSON/,
    );
    expect(refusal(() => canonicalJson({ big: 1n })).message).toMatch(
      /^\$\.big: a bigint cannot be written as JSON/,
    );
  });
});

describe('JSON syntax errors', () => {
  it.each([
    ['{\n  "a": [}\n', '2:9', "Unexpected token '}'"],
    ['{"a":1,}', '1:8', 'Expected double-quoted property name'],
    ['{"a":1', '1:7', "Expected ',' or '}' after property value"],
    ['{"a": tru }', '1:7', 'Unexpected token'],
    ['', '1:1', 'Unexpected end of JSON input'],
  ])('%j is located at %s', (text, where, reason) => {
    const err = refusal(() => parseImageManifest(text, 'm.json'));
    expect(err.message.startsWith(`m.json:${where}: not valid JSON (${reason}`)).toBe(true);
    expect(err.message).not.toContain('is not valid JSON');
  });
});

describe('wording of generic problems', () => {
  it('says a required field is missing, and what type was found', () => {
    expect(refusal(() => parseImageManifest({ schemaVersion: 2, layers: [] })).message).toBe(
      'manifest.config: required field is missing (expected object)',
    );
    expect(
      refusal(() => parseImageManifest({ schemaVersion: 2, config: CONFIG, layers: 'x' })).message,
    ).toBe('manifest.layers: expected array, got string');
    expect(
      refusal(() =>
        parseImageConfig({
          architecture: 'amd64',
          os: null,
          rootfs: { type: 'layers', diff_ids: [] },
        }),
      ).message,
    ).toBe('config.os: expected string, got null');
  });
});

describe('canonicalJson properties', () => {
  // JSON values without -0 (JSON has no negative zero; JSON.parse(-0) gives -0 but
  // JSON.stringify writes 0, as Go does).
  const json = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);
  const shuffleKeys = (v: unknown, seed: number): unknown => {
    if (Array.isArray(v)) return v.map((x) => shuffleKeys(x, seed));
    if (v === null || typeof v !== 'object') return v;
    const entries = Object.entries(v as Record<string, unknown>);
    entries.sort(
      (a, b) =>
        ((a[0].length * 31 + seed) % 7) - ((b[0].length * 31 + seed) % 7) ||
        (seed % 2 === 0 ? 1 : -1),
    );
    return Object.fromEntries(entries.map(([k, x]) => [k, shuffleKeys(x, seed + 1)]));
  };
  it('is valid JSON meaning the same value, whatever the key order', () => {
    fc.assert(
      fc.property(json, fc.nat(), (value, seed) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(value);
        expect(canonicalJson(shuffleKeys(value, seed))).toBe(text);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });
});
