/**
 * Bridge networking and volumes through the container layer, as `lab run` uses them: an image
 * imported into a temp root, containers created and started by `openContainers` with
 * {@link labProviders} (a private bridge, subnet and state dir), reached on 127.0.0.1 through a
 * published port and from each other by IP; `rm -v` undoes everything.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importRootfs, openImageStore } from '@lab/layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Containers } from '../containers/engine.js';
import { openContainers } from '../containers/engine.js';
import { emptyMounts, parseVolumeFlag } from '../containers/mounts.js';
import { makeBusyboxRootfs } from '../runtime/testsuite.js';
import { hostVethName } from './bridge-network.js';
import { labProviders } from './lab-providers.js';
import { linkExists } from './links.js';
import { containerRules } from './port-forward.js';
import { hostPortFree } from './ports.js';

function toolMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (containers, bridges, iptables)';
  for (const tool of ['ip', 'iptables', 'nsenter', 'unshare', 'busybox']) {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed`;
    }
  }
  return undefined;
}
const skipReason = toolMissing();
if (skipReason !== undefined) console.warn(`[containers on the bridge] skipped: ${skipReason}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        resolve(body);
      });
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

async function until<T>(probe: () => Promise<T>, what: string, limitMs = 10000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`, { cause: err });
    }
    await sleep(50);
  }
}

describe.skipIf(skipReason !== undefined)('containers on the bridge', () => {
  const suffix = Math.floor(Math.random() * 0xffff)
    .toString(16)
    .padStart(4, '0');
  const settings = {
    bridge: `labc${suffix}`,
    subnet: `10.89.${String(150 + (parseInt(suffix, 16) % 40))}.0/24`,
    stateDir: '',
  };
  let tmp = '';
  let root = '';
  let containers: Containers;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'lab-ctrnet-'));
    root = join(tmp, 'root');
    settings.stateDir = join(tmp, 'run');
    const rootfs = join(tmp, 'rootfs');
    await makeBusyboxRootfs(rootfs);
    await mkdir(join(rootfs, 'www'));
    await writeFile(join(rootfs, 'www', 'index.html'), 'from the image\n');
    const images = await openImageStore(root);
    await importRootfs(images, { directory: rootfs }, 'bb', {
      config: {
        Cmd: ['sh'],
        Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
        Volumes: { '/cache': {} },
      },
    });
    containers = openContainers({ root, providers: labProviders(root, settings) });
  });

  afterAll(async () => {
    for (const c of await containers.list().catch(() => [])) {
      await containers.remove(c.id, { force: true, volumes: true }).catch(() => undefined);
    }
    await labProviders(root, settings)
      .network.remove({ force: true })
      .catch(() => undefined);
    if (tmp !== '') await rm(tmp, { recursive: true, force: true });
  });

  it('serves a published port on 127.0.0.1 from a named volume filled from the image, and rm -v cleans up', async () => {
    let port = 28100 + Math.floor(Math.random() * 800);
    while (!(await hostPortFree('tcp', '0.0.0.0', port))) port++;
    const mounts = emptyMounts();
    parseVolumeFlag('site:/www', tmp, mounts);
    const web = await containers.create({
      image: 'bb',
      name: 'web',
      cmd: ['httpd', '-f', '-p', '80', '-h', '/www'],
      network: 'bridge',
      ports: [{ ContainerPort: '80/tcp', HostIp: '127.0.0.1', HostPort: String(port) }],
      mounts,
    });
    await containers.start(web.id);
    expect(
      await until(() => httpGet(`http://127.0.0.1:${String(port)}/`), 'the published port'),
    ).toBe('from the image\n');
    const hosts = await readFile(join(web.dir, 'hosts'), 'utf8');
    expect(hosts).toMatch(/^127\.0\.0\.1\tlocalhost$/m);
    expect(hosts).toMatch(new RegExp(`^10\\.89\\.\\d+\\.2\\t${web.config.Config.Hostname}$`, 'm'));

    // a second container reaches the first by IP across the bridge
    const address = /^(10\.89\.\d+\.2)\t/m.exec(hosts)?.[1] ?? '';
    const client = await containers.create({
      image: 'bb',
      name: 'client',
      cmd: [
        'sh',
        '-c',
        `wget -q -O /tmp/got http://${address}/index.html; r=$?; cat /tmp/got; exit $r`,
      ],
      network: 'bridge',
    });
    await containers.start(client.id);
    const code = await containers.wait(client.id);
    expect(await readFile(containers.logPath(client), 'utf8')).toContain('from the image');
    expect(code).toBe(0);
    // an exited container holds no address or port any more; its image VOLUME is an anonymous volume
    const stateFile = join(settings.stateDir, settings.bridge, 'state.json');
    const afterExit = JSON.parse(await readFile(stateFile, 'utf8')) as { endpoints: object };
    expect(Object.keys(afterExit.endpoints)).toEqual([web.id]);
    expect(await linkExists(hostVethName(client.id))).toBe(false);
    const volumes = labProviders(root, settings).volumes.store;
    const anonymous = (await volumes.list()).filter((v) => v.Name !== 'site');
    expect(anonymous).toHaveLength(2); // /cache of web and of client
    expect(anonymous.every((v) => 'com.docker.volume.anonymous' in v.Labels)).toBe(true);

    await containers.remove(web.id, { force: true, volumes: true });
    await containers.remove(client.id, { force: true, volumes: true });
    for (const c of [web, client]) {
      expect(await linkExists(hostVethName(c.id))).toBe(false);
      expect(await containerRules(settings.bridge, c.id)).toEqual([]);
    }
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as { endpoints: object };
    expect(state.endpoints).toEqual({});
    // the named volume outlives rm -v; the image's anonymous /cache volumes do not
    expect((await volumes.list()).map((v) => v.Name)).toEqual(['site']);
    expect(existsSync(join(root, 'volumes', 'site', '_data', 'index.html'))).toBe(true);
  });
});
