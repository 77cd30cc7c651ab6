/**
 * Archives against the real tools, both ways: what lab writes is read by skopeo, umoci and
 * podman (and run by podman), and what podman, skopeo and buildah write is loaded by lab and
 * unpacks to the original rootfs. Every tool works in a private temp store.
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateAgainstSchema } from '@lab/oci/testing';
import { applyLayer } from '../../src/diff/index.js';
import { openImageStore, type ImageStore } from '../../src/images/index.js';
import { listTree } from '../../src/testsuite/tree-listing.js';
import { loadArchive, saveArchive } from '../../src/archives/index.js';
import { busyboxRootfsTar, labBusyboxRoot, missingTool, toolArchives } from './fixtures.js';

const exec = promisify(execFile);
const run = async (cmd: string, args: string[]): Promise<string> =>
  (await exec(cmd, args, { maxBuffer: 1 << 26 })).stdout;

const ULIMITS = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768'];
const missing = missingTool('skopeo', 'umoci', 'podman', 'buildah', 'runc');
if (missing !== undefined) console.warn(`archive interop tests skipped: ${missing}`);

describe.skipIf(missing !== undefined)(
  'archives interop with skopeo, umoci, podman and buildah',
  () => {
    let tmp: string;
    let images: ImageStore;
    let podman: string[];
    let buildah: string[];
    let rootfsTree: Awaited<ReturnType<typeof listTree>>;

    beforeAll(async () => {
      tmp = await mkdtemp(join(tmpdir(), 'lab-interop-'));
      images = await openImageStore(await labBusyboxRoot(join(tmp, 'root')));
      const store = ['--root', join(tmp, 'podman-root'), '--runroot', join(tmp, 'podman-runroot')];
      podman = [...store, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
      buildah = store;
      const expected = join(tmp, 'expected');
      await mkdir(expected);
      await run('tar', ['-xpf', await busyboxRootfsTar(), '-C', expected]);
      rootfsTree = await listTree(expected);
    });
    afterAll(async () => {
      await exec('podman', [...podman, 'rm', '-af']).catch(() => undefined);
      await exec('podman', [...podman, 'rmi', '-af']).catch(() => undefined);
      await exec('umount', ['-R', join(tmp, 'podman-root', 'overlay')]).catch(() => undefined);
      await rm(tmp, { recursive: true, force: true });
    });

    async function save(name: string, format: 'docker-archive' | 'oci-archive'): Promise<string> {
      const file = join(tmp, `${name}.tar`);
      await saveArchive(images, ['busybox'], createWriteStream(file), { format });
      return file;
    }

    /** Loads `file` into a fresh lab root and checks its layers unpack to the original rootfs. */
    async function loadAndUnpack(file: string): Promise<{ names: (string | undefined)[] }> {
      const fresh = await openImageStore(await mkdtemp(join(tmp, 'lab-')));
      const result = await loadArchive(fresh, createReadStream(file));
      const listed = await fresh.list();
      expect(listed.flatMap((i) => i.names)).toEqual(
        result.images.flatMap((i) => (i.name === undefined ? [] : [i.name])),
      );
      const image = await fresh.resolve(result.images[0]?.id ?? '');
      const target = await mkdtemp(join(tmp, 'unpack-'));
      await chmod(target, 0o755); // the root's own mode is not part of any layer
      for (const layer of image.layers)
        await applyLayer(await fresh.content.reader(layer.digest), target);
      expect(await listTree(target)).toEqual(rootfsTree);
      return { names: result.images.map((i) => i.name) };
    }

    it('the lab root is an OCI layout skopeo inspects and copies, and its documents validate against the schemas', async () => {
      const image = await images.resolve('busybox');
      const inspected = JSON.parse(
        await run('skopeo', ['inspect', `oci:${images.root}:busybox`]),
      ) as Record<string, unknown>;
      expect(inspected).toMatchObject({ Digest: image.digest, Architecture: 'amd64', Os: 'linux' });
      expect(inspected.Env).toEqual([
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      ]);
      const dir = join(tmp, 'skopeo-dir');
      await run('skopeo', ['copy', '-q', `oci:${images.root}:busybox`, `dir:${dir}`]);
      expect((await readdir(dir)).sort()).toContain('manifest.json');
      expect(validateAgainstSchema('manifest', image.manifest)).toEqual([]);
      expect(validateAgainstSchema('config', image.config)).toEqual([]);
      expect(
        validateAgainstSchema(
          'index',
          JSON.parse(await readFile(join(images.root, 'index.json'), 'utf8')),
        ),
      ).toEqual([]);
      expect(
        validateAgainstSchema(
          'layout',
          JSON.parse(await readFile(join(images.root, 'oci-layout'), 'utf8')),
        ),
      ).toEqual([]);
    });

    it('oci-archive from lab: skopeo inspects it, umoci unpacks it after extraction', async () => {
      const file = await save('lab-oci', 'oci-archive');
      const inspected = JSON.parse(
        await run('skopeo', ['inspect', `oci-archive:${file}`]),
      ) as Record<string, unknown>;
      expect(inspected).toMatchObject({ Digest: (await images.resolve('busybox')).digest });
      const layout = join(tmp, 'lab-oci-layout');
      await mkdir(layout);
      await run('tar', ['-xf', file, '-C', layout]);
      const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as unknown;
      expect(validateAgainstSchema('index', index)).toEqual([]);
      const bundle = join(tmp, 'umoci-bundle');
      await run('umoci', ['unpack', '--image', `${layout}:busybox`, bundle]);
      const config = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as {
        process: { args: string[] };
      };
      expect(config.process.args).toEqual(['sh']);
      expect((await listTree(join(bundle, 'rootfs'))).map((e) => e.path)).toEqual(
        rootfsTree.map((e) => e.path),
      );
    });

    it('docker-archive from lab: skopeo reads it, podman loads it and runs busybox from it', async () => {
      const file = await save('lab-docker', 'docker-archive');
      const inspected = JSON.parse(
        await run('skopeo', ['inspect', `docker-archive:${file}`]),
      ) as Record<string, unknown>;
      expect(inspected.Layers).toHaveLength(1);
      expect(await run('podman', [...podman, 'load', '-q', '-i', file])).toMatch(
        /Loaded image: docker\.io\/library\/busybox:latest/,
      );
      const out = await run('podman', [
        ...podman,
        'run',
        '--rm',
        '--runtime',
        'runc',
        ...ULIMITS,
        '--network',
        'none',
        '--pull',
        'never',
        'busybox',
        'echo',
        'hi',
      ]);
      expect(out).toBe('hi\n');
    });

    it('podman save (docker-archive and oci-archive) loads into lab and unpacks to the original rootfs', async () => {
      await exec('podman', [
        ...podman,
        'load',
        '-q',
        '-i',
        await save('lab-docker-2', 'docker-archive'),
      ]);
      for (const format of ['docker-archive', 'oci-archive']) {
        const file = join(tmp, `podman-${format}.tar`);
        await run('podman', [...podman, 'save', '-q', '--format', format, '-o', file, 'busybox']);
        const { names } = await loadAndUnpack(file);
        expect(names).toEqual(['docker.io/library/busybox:latest']);
      }
    });

    it('skopeo docker-archive and oci-archive (from the lab root and from umoci), and buildah push oci-archive, load into lab', async () => {
      for (const transport of ['docker-archive', 'oci-archive']) {
        const file = join(tmp, `skopeo-from-lab-${transport}.tar`);
        await run('skopeo', [
          'copy',
          '-q',
          `oci:${images.root}:busybox`,
          `${transport}:${file}:busybox:latest`,
        ]);
        expect((await loadAndUnpack(file)).names).toEqual(['docker.io/library/busybox:latest']);
      }
      const tools = await toolArchives();
      expect((await loadAndUnpack(tools.dockerArchive)).names).toEqual([
        'docker.io/library/busybox:latest',
      ]);
      expect((await loadAndUnpack(tools.ociArchive)).names).toEqual([
        'docker.io/library/busybox:latest',
      ]);
      await exec('podman', [
        ...podman,
        'load',
        '-q',
        '-i',
        await save('lab-docker-3', 'docker-archive'),
      ]);
      const file = join(tmp, 'buildah-oci.tar');
      await run('buildah', [
        ...buildah,
        'push',
        '-q',
        'docker.io/library/busybox:latest',
        `oci-archive:${file}:mybox:v1`,
      ]);
      expect((await loadAndUnpack(file)).names).toEqual(['docker.io/library/mybox:v1']);
    });
  },
);
