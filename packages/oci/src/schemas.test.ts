import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeDocument } from './canonical-json.js';
import { createDescriptor, EMPTY_DESCRIPTOR, parseDescriptor } from './descriptor.js';
import { sha256 } from './digest.js';
import { isFailedPrecondition, isInvalidArgument } from './errors.js';
import { createImageConfig, parseImageConfig } from './image-config.js';
import { createImageIndex, parseImageIndex } from './image-index.js';
import {
  createImageLayout,
  createIndexJson,
  parseImageLayout,
  ANNOTATION_REF_NAME,
} from './layout.js';
import { createImageManifest, parseImageManifest } from './manifest.js';
import { OCI_MEDIA_TYPES } from './media-types.js';
import { createRuntimeSpec, parseRuntimeSpec } from './runtime-spec.js';
import { parseRuntimeFeatures } from './runtime-features.js';
import { parseRuntimeState } from './runtime-state.js';
import {
  assertValidAgainstSchema,
  createSchemaValidator,
  schemasDir,
  validateAgainstSchema,
  type SchemaKind,
} from './testing.js';

const dir = schemasDir();
const examplesDir = join(dir, 'image-spec', 'examples');

interface Example {
  file: string;
  mediaType: string;
  expectValid: boolean;
}

const examples = JSON.parse(readFileSync(join(examplesDir, 'examples.json'), 'utf8')) as Example[];

const BY_MEDIA_TYPE: Record<
  string,
  { kind: SchemaKind; parse: (json: string, source: string) => unknown }
> = {
  [OCI_MEDIA_TYPES.descriptor]: { kind: 'descriptor', parse: parseDescriptor },
  [OCI_MEDIA_TYPES.manifest]: { kind: 'manifest', parse: parseImageManifest },
  [OCI_MEDIA_TYPES.index]: { kind: 'index', parse: parseImageIndex },
  [OCI_MEDIA_TYPES.config]: { kind: 'config', parse: parseImageConfig },
  [OCI_MEDIA_TYPES.layoutHeader]: { kind: 'layout', parse: parseImageLayout },
};

describe('image-spec examples', () => {
  it('lists all 13 upstream examples', () => {
    expect(examples).toHaveLength(13);
  });
  it.each(examples.map((e) => [e.file, e] as const))(
    '%s is valid for Ajv and for our parser',
    (_file, example) => {
      const text = readFileSync(join(examplesDir, example.file), 'utf8');
      const entry = BY_MEDIA_TYPE[example.mediaType];
      expect(entry, `no parser for ${example.mediaType}`).toBeDefined();
      expect(example.expectValid).toBe(true);
      expect(validateAgainstSchema(entry!.kind, JSON.parse(text))).toEqual([]);
      const parsed = entry!.parse(text, example.file);
      // Loose objects keep every field: the parsed value equals the document.
      expect(parsed).toEqual(JSON.parse(text));
    },
  );
});

function fixtures(kind: string, verdict: 'good' | 'bad'): string[] {
  const d = join(dir, 'runtime-spec', 'test', kind, verdict);
  return readdirSync(d)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(d, f));
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

describe('runtime-spec fixtures', () => {
  it.each(fixtures('config', 'good'))('config good: %s', (file) => {
    const text = readFileSync(file, 'utf8');
    expect(validateAgainstSchema('runtime-config', JSON.parse(text))).toEqual([]);
    expect(parseRuntimeSpec(text, file)).toEqual(JSON.parse(text));
  });

  // The fields each bad fixture breaks: our schema covers linux.resources and linux.netDevices;
  // the FreeBSD section is kept as-is, so only Ajv rejects that one.
  const COVERED = new Set([
    'invalid-json.json',
    'linux-hugepage.json',
    'linux-netdevice.json',
    'linux-rdma.json',
  ]);
  it.each(fixtures('config', 'bad'))('config bad: %s', (file) => {
    const text = readFileSync(file, 'utf8');
    const value = parseJsonOrUndefined(text);
    if (value !== undefined) expect(validateAgainstSchema('runtime-config', value)).not.toEqual([]);
    const name = file.slice(file.lastIndexOf('/') + 1);
    if (COVERED.has(name)) {
      expect(() => parseRuntimeSpec(text, file)).toThrow(/config|JSON/);
    } else {
      expect(() => parseRuntimeSpec(text, file)).not.toThrow();
    }
  });

  it.each(fixtures('state', 'good'))('state good: %s', (file) => {
    const text = readFileSync(file, 'utf8');
    expect(validateAgainstSchema('runtime-state', JSON.parse(text))).toEqual([]);
    expect(parseRuntimeState(text, file)).toEqual(JSON.parse(text));
  });

  it.each(fixtures('state', 'bad'))('state bad: %s', (file) => {
    const text = readFileSync(file, 'utf8');
    const value = parseJsonOrUndefined(text);
    if (value !== undefined) expect(validateAgainstSchema('runtime-state', value)).not.toEqual([]);
    expect(() => parseRuntimeState(text, file)).toThrow();
  });

  it.each(fixtures('features', 'good'))('features good: %s', (file) => {
    const text = readFileSync(file, 'utf8');
    expect(validateAgainstSchema('runtime-features', JSON.parse(text))).toEqual([]);
    expect(parseRuntimeFeatures(text, file)).toEqual(JSON.parse(text));
  });

  it.each(fixtures('features', 'bad'))('features bad: %s', (file) => {
    const value = parseJsonOrUndefined(readFileSync(file, 'utf8'));
    if (value !== undefined)
      expect(validateAgainstSchema('runtime-features', value)).not.toEqual([]);
    expect(() => parseRuntimeFeatures(readFileSync(file, 'utf8'), file)).toThrow(/features|JSON/);
  });

  it('runc spec output and state as seen here parse', () => {
    const state = {
      ociVersion: '1.0.2-dev',
      id: 't2',
      pid: 25983,
      status: 'created',
      bundle: '/tmp/b',
      rootfs: '/tmp/b/rootfs',
      created: '2026-11-30T10:40:55.942858432Z',
      owner: '',
    };
    expect(parseRuntimeState(state)).toEqual(state);
  });
});

describe('documents we build validate against the upstream schemas', () => {
  const layer = createDescriptor(OCI_MEDIA_TYPES.layerGzip, 'layer bytes');
  const diffId = sha256('uncompressed layer');
  const config = createImageConfig({
    architecture: 'amd64',
    os: 'linux',
    created: '2024-01-02T03:04:05Z',
    diffIds: [diffId],
    config: {
      Env: ['PATH=/usr/bin:/bin'],
      Cmd: ['sh'],
      ExposedPorts: { '80/tcp': {} },
      Labels: { a: 'b' },
      Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 30_000_000_000 },
    },
    history: [
      { created: '2024-01-02T03:04:05Z', created_by: 'ADD rootfs /' },
      { created_by: 'CMD ["sh"]', empty_layer: true },
    ],
  });
  const configDoc = encodeDocument(OCI_MEDIA_TYPES.config, config);
  const manifest = createImageManifest({
    config: configDoc.descriptor,
    layers: [layer],
    annotations: { 'org.opencontainers.image.title': 'x' },
  });
  const manifestDoc = encodeDocument(OCI_MEDIA_TYPES.manifest, manifest, {
    platform: { architecture: 'amd64', os: 'linux' },
  });

  it('config', () => {
    expect(validateAgainstSchema('config', config)).toEqual([]);
    expect(parseImageConfig(configDoc.bytes)).toEqual(config);
  });
  it('manifest', () => {
    expect(validateAgainstSchema('manifest', manifest)).toEqual([]);
    expect(parseImageManifest(manifestDoc.bytes)).toEqual(manifest);
  });
  it('artifact manifest with the empty descriptor', () => {
    const artifact = createImageManifest({
      artifactType: 'application/vnd.example+type',
      config: EMPTY_DESCRIPTOR,
      layers: [EMPTY_DESCRIPTOR],
    });
    expect(validateAgainstSchema('manifest', artifact)).toEqual([]);
    expect(EMPTY_DESCRIPTOR.digest).toBe(sha256('{}'));
  });
  it('index', () => {
    const index = createImageIndex([manifestDoc.descriptor]);
    expect(validateAgainstSchema('index', index)).toEqual([]);
  });
  it('layout files', () => {
    expect(validateAgainstSchema('layout', createImageLayout())).toEqual([]);
    const entry = { ...manifestDoc.descriptor, annotations: { [ANNOTATION_REF_NAME]: 'v1' } };
    expect(validateAgainstSchema('index', createIndexJson([entry]))).toEqual([]);
  });
  it('runtime config', () => {
    const spec = createRuntimeSpec({
      args: ['/bin/echo', 'hi'],
      hostname: 'box',
      annotations: { k: 'v' },
      hooks: { poststop: [{ path: '/bin/true' }] },
    });
    expect(validateAgainstSchema('runtime-config', spec)).toEqual([]);
    expect(parseRuntimeSpec(spec)).toEqual(spec);
  });
});

describe('the schema helper reports problems', () => {
  it('a manifest with a negative size fails both checks', () => {
    const bad = {
      schemaVersion: 2,
      config: { mediaType: OCI_MEDIA_TYPES.config, digest: sha256('x'), size: -1 },
      layers: [],
    };
    expect(validateAgainstSchema('manifest', bad).join('\n')).toMatch(/\/config\/size/);
    expect(() => parseImageManifest(bad)).toThrow(/manifest\.config\.size/);
  });
  it('throws invalid-argument, not a zod error', () => {
    try {
      parseImageManifest('{}', 'x.json');
      expect.unreachable();
    } catch (err) {
      expect(isInvalidArgument(err)).toBe(true);
    }
  });
});

describe('the schema location', () => {
  it('is failed-precondition with guidance when the schemas are missing', () => {
    try {
      createSchemaValidator('/nonexistent/lab-schemas').validate('manifest', {});
      expect.unreachable();
    } catch (err) {
      expect(isFailedPrecondition(err)).toBe(true);
      expect((err as Error).message).toMatch(/set LAB_OCI_SCHEMAS/);
    }
  });
  it('honours LAB_OCI_SCHEMAS', () => {
    const saved = process.env.LAB_OCI_SCHEMAS;
    process.env.LAB_OCI_SCHEMAS = '/somewhere/else';
    try {
      expect(schemasDir()).toBe('/somewhere/else');
    } finally {
      if (saved === undefined) delete process.env.LAB_OCI_SCHEMAS;
      else process.env.LAB_OCI_SCHEMAS = saved;
    }
  });
});

describe('assertValidAgainstSchema', () => {
  it('lists every problem', () => {
    expect(() => {
      assertValidAgainstSchema('layout', createImageLayout());
    }).not.toThrow();
    expect(() => {
      assertValidAgainstSchema('layout', { imageLayoutVersion: 1 });
    }).toThrow(/not a valid layout per the OCI schema:\n {2}\/imageLayoutVersion must be string/);
  });
});
