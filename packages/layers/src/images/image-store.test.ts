import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DOCKER_MEDIA_TYPES,
  encodeDocument,
  hostPlatform,
  isInvalidArgument,
  isNotFound,
  OCI_MEDIA_TYPES,
  type Descriptor,
} from '@lab/oci';
import { validateAgainstSchema } from '@lab/oci/testing';
import { removeImage } from '../gc/remove-image.js';
import { chainIDs } from './chain-id.js';
import { commitImage } from './commit-image.js';
import { openImageStore, type ImageStore } from './image-store.js';
import { makeImage, makeLayer } from './test-image.fixture.js';

function hasTool(tool: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
  if (!found) console.warn(`skipping: ${tool} is not installed (apt-get install ${tool})`);
  return found;
}
const haveSkopeo = hasTool('skopeo');
const haveUmoci = hasTool('umoci');

let root: string;
let scratch: string;
let images: ImageStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lab-images-'));
  scratch = await mkdtemp(join(tmpdir(), 'lab-images-scratch-'));
  images = await openImageStore(root);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

describe('image store', () => {
  it('makes the root an OCI image layout', async () => {
    expect(JSON.parse(await readFile(join(root, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    const index: unknown = JSON.parse(await readFile(join(root, 'index.json'), 'utf8'));
    expect(index).toMatchObject({ schemaVersion: 2, manifests: [] });
    expect(validateAgainstSchema('index', index)).toEqual([]);
    expect(
      validateAgainstSchema('layout', JSON.parse(await readFile(join(root, 'oci-layout'), 'utf8'))),
    ).toEqual([]);
  });

  it('commits an image and resolves it by every form of name and ID', async () => {
    const l1 = await makeLayer(images.content, { 'etc/hello': 'hello\n' });
    const l2 = await makeLayer(images.content, { 'bin/tool': '#!/bin/sh\n' });
    const committed = await makeImage(images, [l1, l2], 'busybox:latest');
    const hex = committed.id.slice(7);
    const forms = [
      'busybox',
      'busybox:latest',
      'docker.io/library/busybox:latest',
      'library/busybox',
      committed.id,
      hex,
      hex.slice(0, 12),
      `sha256:${hex.slice(0, 8)}`,
      committed.manifestDescriptor.digest,
      `busybox@${committed.manifestDescriptor.digest}`,
    ];
    for (const form of forms) {
      const image = await images.get(form);
      expect(image.id, form).toBe(committed.id);
      expect(image.names).toEqual(['docker.io/library/busybox:latest']);
    }
    const resolved = await images.resolve('busybox');
    expect(resolved.configDigest).toBe(committed.id);
    expect(resolved.digest).toBe(committed.manifestDescriptor.digest);
    expect(resolved.diffIDs).toEqual([l1.diffID, l2.diffID]);
    expect(resolved.chainIDs).toEqual(chainIDs([l1.diffID, l2.diffID]));
    expect(resolved.chainIDs[0]).toBe(l1.diffID);
    expect(resolved.layers).toEqual([l1.descriptor, l2.descriptor]);
    expect(resolved.history).toHaveLength(2);
    expect(resolved.created).toBe('2024-01-02T03:04:05Z');
    expect(resolved.platform).toEqual({
      os: hostPlatform().os,
      architecture: hostPlatform().architecture,
    });
    expect(resolved.size).toBe(
      committed.manifestDescriptor.size +
        committed.configDescriptor.size +
        l1.descriptor.size +
        l2.descriptor.size,
    );
    expect(await images.list()).toMatchObject([
      {
        id: committed.id,
        size: resolved.size,
        created: '2024-01-02T03:04:05Z',
        names: ['docker.io/library/busybox:latest'],
      },
    ]);
    for (const missing of ['busybox:1.36', 'alpine', 'ffffffff', `sha256:${'0'.repeat(64)}`]) {
      expect(isNotFound(await images.get(missing).catch((e: unknown) => e)), missing).toBe(true);
    }
  });

  it('writes manifests, configs and index.json that validate against the OCI schemas, deterministically', async () => {
    const layer = await makeLayer(images.content, { a: 'a' });
    const first = await makeImage(images, [layer], 'app:v1');
    const again = await makeImage(images, [layer], 'app:v2');
    expect(again.manifestDescriptor.digest).toBe(first.manifestDescriptor.digest);
    const manifest: unknown = JSON.parse(
      (await images.content.readBlob(first.manifestDescriptor.digest)).toString(),
    );
    const config: unknown = JSON.parse(
      (await images.content.readBlob(first.configDescriptor.digest)).toString(),
    );
    const index: unknown = JSON.parse(await readFile(join(root, 'index.json'), 'utf8'));
    expect(validateAgainstSchema('manifest', manifest)).toEqual([]);
    expect(validateAgainstSchema('config', config)).toEqual([]);
    expect(validateAgainstSchema('index', index)).toEqual([]);
    expect(index).toMatchObject({
      manifests: [
        {
          digest: first.manifestDescriptor.digest,
          annotations: {
            'io.containerd.image.name': 'docker.io/library/app:v1',
            'org.opencontainers.image.ref.name': 'app:v1',
          },
        },
        { annotations: { 'org.opencontainers.image.ref.name': 'app:v2' } },
      ],
    });
  });

  it('tags and untags; an image whose last name goes stays as a dangling image', async () => {
    const layer = await makeLayer(images.content, { a: 'a' });
    const committed = await makeImage(images, [layer], 'busybox');
    await images.tag('busybox', 'localhost:5000/team/app:1.0');
    expect((await images.get('localhost:5000/team/app:1.0')).names).toEqual([
      'docker.io/library/busybox:latest',
      'localhost:5000/team/app:1.0',
    ]);
    const index = JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as {
      manifests: Descriptor[];
    };
    expect(
      index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']),
    ).toEqual(['busybox', 'localhost:5000/team/app:1.0']);
    expect(await images.untag('busybox:latest')).toMatchObject({ dangling: false });
    expect(isNotFound(await images.get('busybox').catch((e: unknown) => e))).toBe(true);
    const last = await images.untag('localhost:5000/team/app:1.0');
    expect(last.dangling).toBe(true);
    const list = await images.list();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: committed.id, names: [] });
    expect((await images.get(committed.id)).names).toEqual([]);
    expect(isNotFound(await images.untag('busybox').catch((e: unknown) => e))).toBe(true);
  });

  it('moves a name to a new image and keeps the old one as dangling', async () => {
    const old = await makeImage(images, [await makeLayer(images.content, { v: '1' })], 'app');
    const next = await makeImage(images, [await makeLayer(images.content, { v: '2' })], 'app');
    expect((await images.get('app')).id).toBe(next.id);
    const list = await images.list();
    expect(list.map((i) => [i.id, i.names])).toEqual([
      [old.id, []],
      [next.id, ['docker.io/library/app:latest']],
    ]);
  });

  it('says which images a short ID prefix matches when it is ambiguous', async () => {
    const layer = await makeLayer(images.content, { a: 'a' });
    const host = hostPlatform();
    const seen = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; pair === undefined; i++) {
      const created = new Date(Date.UTC(2020, 0, 1) + i * 1000).toISOString().replace('.000', '');
      const config = {
        architecture: host.architecture,
        os: host.os,
        created,
        rootfs: { type: 'layers', diff_ids: [layer.diffID] },
      };
      const prefix = encodeDocument(OCI_MEDIA_TYPES.config, config).descriptor.digest.slice(7, 11);
      const other = seen.get(prefix);
      if (other !== undefined) pair = [other, created];
      else seen.set(prefix, created);
    }
    const commit = (name: string, created: string) =>
      commitImage(images, {
        config: { architecture: host.architecture, os: host.os, created },
        layers: [layer],
        name,
      });
    const a = await commit('a', pair[0]);
    const b = await commit('b', pair[1]);
    expect(a.id.slice(0, 11)).toBe(b.id.slice(0, 11));
    const err: unknown = await images.get(a.id.slice(7, 11)).catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
    expect((err as Error).message).toContain('ambiguous');
    expect((await images.get(a.id.slice(7, 30))).id).toBe(a.id);
  });

  it('refuses to name something that is not a manifest or index in the store', async () => {
    const layer = await makeLayer(images.content, { a: 'a' });
    expect(
      isInvalidArgument(await images.put('x', layer.descriptor).catch((e: unknown) => e)),
    ).toBe(true);
    const absent = {
      ...layer.descriptor,
      mediaType: OCI_MEDIA_TYPES.manifest,
      digest: `sha256:${'1'.repeat(64)}`,
    } as const;
    expect(isNotFound(await images.put('x', absent).catch((e: unknown) => e))).toBe(true);
    expect(
      isInvalidArgument(
        await images.put('x@sha256:' + '1'.repeat(64), absent).catch((e: unknown) => e),
      ),
    ).toBe(true);
  });

  it('resolves Docker schema 2 manifests and configs, and picks the host platform from an index', async () => {
    const host = hostPlatform();
    const layer = await makeLayer(images.content, { d: 'docker' });
    const dockerLayer = { ...layer.descriptor, mediaType: DOCKER_MEDIA_TYPES.layerGzip };
    const config = encodeDocument(DOCKER_MEDIA_TYPES.config, {
      architecture: host.architecture,
      os: 'linux',
      config: { Cmd: ['sh'], Hostname: '', OnBuild: null },
      container_config: { Cmd: ['sh'] },
      docker_version: '24.0.0',
      rootfs: { type: 'layers', diff_ids: [layer.diffID] },
    });
    await images.content.ingest(config.bytes);
    const manifest = encodeDocument(DOCKER_MEDIA_TYPES.manifest, {
      schemaVersion: 2,
      mediaType: DOCKER_MEDIA_TYPES.manifest,
      config: config.descriptor,
      layers: [dockerLayer],
    });
    await images.content.ingest(manifest.bytes);
    const otherArch = host.architecture === 'arm64' ? 'amd64' : 'arm64';
    const list = encodeDocument(DOCKER_MEDIA_TYPES.manifestList, {
      schemaVersion: 2,
      mediaType: DOCKER_MEDIA_TYPES.manifestList,
      manifests: [
        // Listed first, but for another platform and not in the store (skopeo copies one platform).
        {
          mediaType: DOCKER_MEDIA_TYPES.manifest,
          digest: `sha256:${'2'.repeat(64)}`,
          size: 500,
          platform: { os: 'linux', architecture: otherArch },
        },
        { ...manifest.descriptor, platform: { os: 'linux', architecture: host.architecture } },
      ],
    });
    await images.content.ingest(list.bytes);
    await images.put('multi:1', list.descriptor);
    const resolved = await images.resolve('multi:1');
    expect(resolved.digest).toBe(list.descriptor.digest);
    expect(resolved.manifestDescriptor.digest).toBe(manifest.descriptor.digest);
    expect(resolved.id).toBe(config.descriptor.digest);
    expect(resolved.diffIDs).toEqual([layer.diffID]);
    expect((await images.get(config.descriptor.digest)).digest).toBe(list.descriptor.digest);
    const err: unknown = await images
      .resolve('multi:1', { platform: { os: 'linux', architecture: otherArch } })
      .catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
    expect((err as Error).message).toContain('not in the store');
  });
});

describe('image store with skopeo and umoci as oracles', () => {
  it.skipIf(!haveSkopeo || !haveUmoci)(
    'skopeo and umoci read an image lab wrote, by the name lab gave it',
    async () => {
      const layer = await makeLayer(images.content, { 'etc/motd': 'from lab\n' });
      const committed = await makeImage(images, [layer], 'busybox:latest');
      await images.tag('busybox', 'busybox:1.36');
      const inspect = JSON.parse(
        execFileSync('skopeo', ['inspect', `oci:${root}:busybox`], { encoding: 'utf8' }),
      ) as {
        Digest: string;
        Layers: string[];
        Architecture: string;
      };
      expect(inspect.Digest).toBe(committed.manifestDescriptor.digest);
      expect(inspect.Layers).toEqual([layer.descriptor.digest]);
      expect(inspect.Architecture).toBe(hostPlatform().architecture);
      const config = JSON.parse(
        execFileSync('skopeo', ['inspect', '--config', `oci:${root}:busybox:1.36`], {
          encoding: 'utf8',
        }),
      ) as { rootfs: { diff_ids: string[] } };
      expect(config.rootfs.diff_ids).toEqual([layer.diffID]);
      const dir = join(scratch, 'dir');
      execFileSync('skopeo', ['copy', '-q', `oci:${root}:busybox`, `dir:${dir}`]);
      expect((await readdir(dir)).sort()).toEqual(
        [
          committed.configDescriptor.digest.slice(7),
          layer.descriptor.digest.slice(7),
          'manifest.json',
          'version',
        ].sort(),
      );
      const tags = execFileSync('umoci', ['ls', '--layout', root], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .sort();
      expect(tags).toEqual(['busybox', 'busybox:1.36']);
    },
  );

  it.skipIf(!haveSkopeo)(
    'resolves images skopeo copied into the store from an OCI layout and a docker-archive',
    async () => {
      // A source image made outside lab: GNU tar layer, hand-written config, written by skopeo.
      const src = await openImageStore(join(scratch, 'src'));
      const layer = await makeLayer(src.content, { 'hello.txt': 'hi\n' });
      const made = await makeImage(src, [layer], 'source');
      execFileSync('skopeo', ['copy', '-q', `oci:${src.root}:source`, `oci:${root}:alpine:3.19`]);
      const resolved = await images.resolve('alpine:3.19');
      expect(resolved.names).toEqual(['docker.io/library/alpine:3.19']);
      expect(resolved.id).toBe(made.id);
      expect(resolved.diffIDs).toEqual([layer.diffID]);

      const archive = join(scratch, 'image.tar');
      execFileSync('skopeo', [
        'copy',
        '-q',
        `oci:${src.root}:source`,
        `docker-archive:${archive}:example.com/team/tool:v2`,
      ]);
      execFileSync('skopeo', [
        'copy',
        '-q',
        `docker-archive:${archive}`,
        `oci:${root}:example.com/team/tool:v2`,
      ]);
      const fromArchive = await images.resolve('example.com/team/tool:v2');
      // (skopeo re-encodes the config on the way through docker-archive, so the ID differs.)
      expect(fromArchive.diffIDs).toEqual([layer.diffID]);
      // skopeo writing a name lab already has: the newer entry wins, the old image is dangling.
      const older = await makeImage(
        images,
        [await makeLayer(images.content, { old: 'old' })],
        'busybox',
      );
      execFileSync('skopeo', ['copy', '-q', `oci:${src.root}:source`, `oci:${root}:busybox`]);
      expect((await images.get('busybox')).id).toBe(made.id);
      expect((await images.get(older.id)).names).toEqual([]);
      await removeImage(images, older.id);
      // lab's own write keeps skopeo's entries and adds its name scheme on top.
      await images.tag('alpine:3.19', 'alpine:edge');
      const names = (await images.list()).flatMap((i) => i.names).sort();
      expect(names).toEqual([
        'docker.io/library/alpine:3.19',
        'docker.io/library/alpine:edge',
        'docker.io/library/busybox:latest',
        'example.com/team/tool:v2',
      ]);
    },
  );
});

describe('commitImage', () => {
  it('refuses a config whose diff_ids disagree with the layers, and a layer of the wrong size', async () => {
    const layer = await makeLayer(images.content, { a: 'a' });
    const host = hostPlatform();
    const err: unknown = await commitImage(images, {
      config: {
        architecture: host.architecture,
        os: host.os,
        rootfs: { type: 'layers', diff_ids: [] },
      },
      layers: [layer],
    }).catch((e: unknown) => e);
    expect(isInvalidArgument(err)).toBe(true);
    const wrongSize = await commitImage(images, {
      config: { architecture: host.architecture, os: host.os },
      layers: [{ ...layer, descriptor: { ...layer.descriptor, size: layer.descriptor.size + 1 } }],
    }).catch((e: unknown) => e);
    expect(isInvalidArgument(wrongSize)).toBe(true);
  });

  it('keeps an unnamed image as a dangling entry', async () => {
    const committed = await makeImage(images, [await makeLayer(images.content, { a: 'a' })]);
    expect(await images.list()).toMatchObject([{ id: committed.id, names: [] }]);
  });
});

describe('image store across processes', () => {
  it('loses no name when two processes tag at the same time (index.json lock)', async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const packageRoot = resolve(here, '../..');
    const tsx = join(packageRoot, '../../node_modules/.bin/tsx');
    await makeImage(images, [await makeLayer(images.content, { a: 'a' })], 'base');
    const run = (prefix: string) =>
      new Promise<void>((ok, fail) => {
        const child = spawn(
          tsx,
          [
            '--conditions=@lab/source',
            join(here, 'tag-child.fixture.ts'),
            root,
            'base',
            prefix,
            '15',
          ],
          {
            cwd: packageRoot,
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        let err = '';
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('close', (code) => {
          if (code === 0) ok();
          else fail(new Error(`child ${prefix} exited ${code}: ${err}`));
        });
      });
    await Promise.all([run('left'), run('right')]);
    const names = (await images.get('base')).names;
    expect(names).toHaveLength(31);
    for (let i = 0; i < 15; i++) {
      expect(names).toContain(`docker.io/library/left-${i}:latest`);
      expect(names).toContain(`docker.io/library/right-${i}:latest`);
    }
  });
});
