/**
 * Archives against Docker 20.10 (Debian `docker.io`): a private dockerd (own data-root,
 * exec-root, socket; no bridge, no iptables; vfs) loads and runs the docker-archive lab
 * writes, and lab loads what `docker save` writes (the classic ≤ 24 layout with
 * `<v1id>/layer.tar`), plain and gzip-compressed. dockerd is stopped by its PID afterwards.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadArchive, saveArchive } from '../../src/archives/index.js';
import { applyLayer } from '../../src/diff/index.js';
import { openImageStore, type ImageStore } from '../../src/images/index.js';
import { listTree } from '../../src/testsuite/tree-listing.js';
import { busyboxRootfsTar, labBusyboxRoot, missingTool } from './fixtures.js';

const exec = promisify(execFile);
const DOCKER = '/usr/bin/docker'; // the 20.10 client (a newer one may come first in PATH)
const missing = missingTool('dockerd', 'docker');
if (missing !== undefined) console.warn(`docker interop tests skipped: ${missing}`);

describe.skipIf(missing !== undefined)('archives interop with docker 20.10', () => {
  let tmp: string;
  let sock: string;
  let dockerd: ChildProcess | undefined;
  let images: ImageStore;

  const docker = async (...args: string[]): Promise<string> =>
    (await exec(DOCKER, ['-H', `unix://${sock}`, ...args], { maxBuffer: 1 << 26 })).stdout;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'lab-docker-'));
    sock = join(tmp, 'docker.sock');
    images = await openImageStore(await labBusyboxRoot(join(tmp, 'root')));
    dockerd = spawn(
      'dockerd',
      [
        '--data-root',
        join(tmp, 'data'),
        '--exec-root',
        join(tmp, 'exec'),
        '--pidfile',
        join(tmp, 'docker.pid'),
        '-H',
        `unix://${sock}`,
        '--iptables=false',
        '--ip-forward=false',
        '--ip-masq=false',
        '--bridge=none',
        '--storage-driver=vfs',
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 120; i++) {
      try {
        await docker('version');
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    throw new Error('dockerd did not answer within 30 s');
  }, 60_000);

  afterAll(async () => {
    if (dockerd?.pid !== undefined) {
      dockerd.kill('SIGTERM');
      await new Promise((r) => dockerd?.once('exit', r));
    }
    await rm(tmp, { recursive: true, force: true });
  }, 60_000);

  it('docker loads and runs the docker-archive lab writes, with the same image ID', async () => {
    const file = join(tmp, 'lab.tar');
    await saveArchive(images, ['busybox'], createWriteStream(file));
    expect(await docker('load', '-i', file)).toBe('Loaded image: busybox:latest\n');
    expect((await docker('images', '--no-trunc', '-q', 'busybox')).trim()).toBe(
      (await images.resolve('busybox')).id,
    );
    expect(await docker('run', '--rm', '--network', 'none', 'busybox', 'echo', 'hi')).toBe('hi\n');
  });

  it('lab loads docker save output (classic layout, plain and gzip) and it unpacks to the rootfs', async () => {
    await docker('tag', 'busybox', 'foo/bar:v1');
    const file = join(tmp, 'docker-save.tar');
    await docker('save', '-o', file, 'busybox', 'foo/bar:v1');
    await exec('sh', ['-c', `gzip -c ${file} > ${file}.gz`]);
    const expected = join(tmp, 'expected');
    await mkdir(expected);
    await exec('tar', ['-xpf', await busyboxRootfsTar(), '-C', expected]);
    for (const archive of [file, `${file}.gz`]) {
      const fresh = await openImageStore(await mkdtemp(join(tmp, 'lab-')));
      const result = await loadArchive(fresh, createReadStream(archive));
      expect(result.images.map((i) => i.name).sort()).toEqual([
        'docker.io/foo/bar:v1',
        'docker.io/library/busybox:latest',
      ]);
      const image = await fresh.resolve('foo/bar:v1');
      const target = await mkdtemp(join(tmp, 'unpack-'));
      await chmod(target, 0o755);
      for (const layer of image.layers)
        await applyLayer(await fresh.content.reader(layer.digest), target);
      expect(await listTree(target)).toEqual(await listTree(expected));
    }
  });
});
