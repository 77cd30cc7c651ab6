/**
 * Real tools as oracles: documents written by runc, umoci and skopeo parse with our schemas,
 * and an image layout built only with our constructors is read by skopeo and umoci.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDocument } from './canonical-json.js';
import { createDescriptor } from './descriptor.js';
import { blobPath, sha256, type Digest } from './digest.js';
import { createImageConfig, parseImageConfig } from './image-config.js';
import {
  ANNOTATION_REF_NAME,
  createImageLayout,
  createIndexJson,
  parseImageLayout,
  parseIndexJson,
  refName,
} from './layout.js';
import { parseManifestDocument } from './manifest-document.js';
import { parseImageManifest } from './manifest.js';
import { DOCKER_MEDIA_TYPES, OCI_MEDIA_TYPES } from './media-types.js';
import { canonicalJson } from './canonical-json.js';
import { createImageManifest } from './manifest.js';
import { parseRuntimeFeatures } from './runtime-features.js';
import { parseRuntimeSpec } from './runtime-spec.js';
import { validateAgainstSchema } from './testing.js';

function has(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn(
      `skipping ${tool} interop tests: ${tool} is not installed (scripts/setup.sh installs it)`,
    );
    return false;
  }
}

const run = (cmd: string, args: string[], cwd?: string): string =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lab-oci-interop-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const isRoot = process.getuid?.() === 0;
if (!isRoot)
  console.warn('skipping the umoci unpack test: it needs root (umoci unpack writes owners)');

describe('runc', () => {
  it.skipIf(!has('runc'))('`runc spec` and `runc spec --rootless` parse and validate', () => {
    for (const flags of [[], ['--rootless']]) {
      const bundle = mkdtempSync(join(dir, 'runc-'));
      run('runc', ['spec', ...flags], bundle);
      const text = readFileSync(join(bundle, 'config.json'), 'utf8');
      const spec = parseRuntimeSpec(text, 'config.json');
      expect(spec).toEqual(JSON.parse(text));
      expect(spec.linux?.namespaces?.map((n) => n.type)).toContain('mount');
      expect(validateAgainstSchema('runtime-config', spec)).toEqual([]);
    }
  });

  it.skipIf(!has('runc'))('`runc features` parses and validates', () => {
    const text = run('runc', ['features']);
    const features = parseRuntimeFeatures(text, 'runc features');
    expect(features.ociVersionMin).toMatch(/^1\./);
    expect(features.linux?.namespaces).toContain('pid');
    expect(validateAgainstSchema('runtime-features', JSON.parse(text))).toEqual([]);
  });
});

describe('umoci', () => {
  it.skipIf(!has('umoci'))(
    'a layout made by umoci parses, including its zero-layer manifest',
    () => {
      const layout = join(dir, 'umoci-layout');
      run('umoci', ['init', '--layout', layout]);
      run('umoci', ['new', '--image', `${layout}:v1`]);
      run('umoci', [
        'config',
        '--image',
        `${layout}:v1`,
        '--config.env',
        'FOO=bar',
        '--config.cmd',
        'sh',
        '--config.exposedports',
        '80/tcp',
        '--config.volume',
        '/data',
        '--config.label',
        'a=b',
      ]);
      expect(parseImageLayout(readFileSync(join(layout, 'oci-layout')))).toEqual({
        imageLayoutVersion: '1.0.0',
      });
      const index = parseIndexJson(readFileSync(join(layout, 'index.json')));
      expect(index.mediaType).toBeUndefined(); // umoci omits it
      const entry = index.manifests.find((m) => refName(m) === 'v1')!;
      const manifestBytes = readFileSync(join(layout, blobPath(entry.digest)));
      const doc = parseManifestDocument(manifestBytes, entry.mediaType, 'manifest');
      expect(doc.kind).toBe('manifest');
      const manifest = parseImageManifest(manifestBytes);
      expect(manifest.layers).toEqual([]);
      // The schema is stricter than the prose here (minItems: 1); we accept zero layers.
      expect(validateAgainstSchema('manifest', manifest).join()).toMatch(/layers/);
      const config = parseImageConfig(readFileSync(join(layout, blobPath(manifest.config.digest))));
      expect(config.config?.Env).toEqual(['FOO=bar']);
      expect(config.config?.ExposedPorts).toEqual({ '80/tcp': {} });
      expect(config.history?.[0]?.empty_layer).toBe(true);
      expect(validateAgainstSchema('config', config)).toEqual([]);
    },
  );
});

/** Writes a layout holding one image made only with our constructors; returns its path. */
function buildLayout(): { layout: string; manifestDigest: Digest; diffId: Digest } {
  const layout = join(dir, 'lab-layout');
  const content = join(dir, 'content');
  mkdirSync(join(content, 'etc'), { recursive: true });
  writeFileSync(join(content, 'etc', 'hello'), 'hello from lab\n');
  const tar = execFileSync('tar', [
    '--numeric-owner',
    '--owner=0',
    '--group=0',
    '--mtime=@0',
    '-C',
    content,
    '-cf',
    '-',
    'etc',
  ]);
  const gz = gzipSync(tar);
  const diffId = sha256(tar);
  const config = createImageConfig({
    architecture: 'amd64',
    os: 'linux',
    created: '2024-01-02T03:04:05Z',
    diffIds: [diffId],
    config: {
      Env: ['PATH=/bin', 'GREETING=hi'],
      Cmd: ['cat', '/etc/hello'],
      WorkingDir: '/etc',
      Labels: { 'org.example': 'yes' },
      ExposedPorts: { '8080/tcp': {} },
      StopSignal: 'SIGINT',
    },
    history: [{ created: '2024-01-02T03:04:05Z', created_by: 'COPY etc /etc' }],
  });
  const configDoc = encodeDocument(OCI_MEDIA_TYPES.config, config);
  const layer = createDescriptor(OCI_MEDIA_TYPES.layerGzip, gz);
  const manifest = createImageManifest({ config: configDoc.descriptor, layers: [layer] });
  const manifestDoc = encodeDocument(OCI_MEDIA_TYPES.manifest, manifest, {
    annotations: { [ANNOTATION_REF_NAME]: 'v1' },
  });
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(layout, 'oci-layout'), canonicalJson(createImageLayout()));
  writeFileSync(
    join(layout, 'index.json'),
    canonicalJson(createIndexJson([manifestDoc.descriptor])),
  );
  writeFileSync(join(layout, blobPath(configDoc.descriptor.digest)), configDoc.bytes);
  writeFileSync(join(layout, blobPath(layer.digest)), gz);
  writeFileSync(join(layout, blobPath(manifestDoc.descriptor.digest)), manifestDoc.bytes);
  return { layout, manifestDigest: manifestDoc.descriptor.digest, diffId };
}

describe('a layout built with our constructors', () => {
  let built: ReturnType<typeof buildLayout>;
  beforeAll(() => {
    built = buildLayout();
  });

  it.skipIf(!has('skopeo'))(
    'skopeo inspects it and converts it to Docker schema 2, which we parse back',
    () => {
      const info = JSON.parse(run('skopeo', ['inspect', `oci:${built.layout}:v1`])) as {
        Digest: string;
        Env: string[];
        Architecture: string;
        Layers: string[];
      };
      expect(info.Digest).toBe(built.manifestDigest);
      expect(info.Env).toEqual(['PATH=/bin', 'GREETING=hi']);
      expect(info.Architecture).toBe('amd64');
      const out = join(dir, 'skopeo-dir');
      run('skopeo', ['copy', '--format', 'v2s2', `oci:${built.layout}:v1`, `dir:${out}`]);
      const manifest = parseImageManifest(
        readFileSync(join(out, 'manifest.json')),
        'manifest.json',
      );
      expect(manifest.mediaType).toBe(DOCKER_MEDIA_TYPES.manifest);
      expect(manifest.config.mediaType).toBe(DOCKER_MEDIA_TYPES.config);
      expect(manifest.layers[0]?.mediaType).toBe(DOCKER_MEDIA_TYPES.layerGzip);
      const config = parseImageConfig(
        readFileSync(join(out, manifest.config.digest.slice('sha256:'.length))),
      );
      expect(config.rootfs.diff_ids).toEqual([built.diffId]);
    },
  );

  it.skipIf(!has('umoci') || !isRoot)(
    'umoci unpacks it into a bundle whose config.json we parse and Ajv accepts',
    () => {
      const bundle = join(dir, 'bundle');
      run('umoci', ['unpack', '--image', `${built.layout}:v1`, bundle]);
      expect(readFileSync(join(bundle, 'rootfs', 'etc', 'hello'), 'utf8')).toBe('hello from lab\n');
      const spec = parseRuntimeSpec(readFileSync(join(bundle, 'config.json')), 'config.json');
      expect(spec.process?.args).toEqual(['cat', '/etc/hello']);
      expect(spec.process?.cwd).toBe('/etc');
      expect(spec.annotations?.['org.example']).toBe('yes');
      expect(spec.annotations?.['org.opencontainers.image.stopSignal']).toBe('SIGINT');
      expect(validateAgainstSchema('runtime-config', spec)).toEqual([]);
    },
  );
});
