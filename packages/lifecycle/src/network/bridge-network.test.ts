/**
 * The bridge network for real, as root: a private bridge and subnet per run (never `lab0`),
 * namespaces made by the provider, traffic only to 127.0.0.1 and to addresses inside those
 * namespaces. Servers are busybox applets run inside the namespaces (`nsenter --net=`), and one
 * real container (builtin runtime) joins a namespace the way `lab run` does.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageConfig } from '@lab/oci';
import { isAlreadyExists } from '@lab/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpec } from '../bundle/create-spec.js';
import { writeBundle } from '../bundle/write-bundle.js';
import { createBuiltinRuntime } from '../runtime/builtin/builtin-runtime.js';
import { makeBusyboxRootfs } from '../runtime/testsuite.js';
import type { BridgeNetwork } from './bridge-network.js';
import { containerResolv, hostVethName, openBridgeNetwork } from './bridge-network.js';
import { linkExists } from './links.js';
import { chainsOf, containerRules } from './port-forward.js';
import { hostPortFree } from './ports.js';

function toolMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (bridges, veth pairs, iptables)';
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
if (skipReason !== undefined) console.warn(`[bridge network] skipped: ${skipReason}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  limitMs = 10000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(50);
  }
}

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

async function freePort(protocol: 'tcp' | 'udp'): Promise<number> {
  for (let p = 18080 + Math.floor(Math.random() * 2000); ; p++) {
    if (await hostPortFree(protocol, '0.0.0.0', p)) return p;
  }
}

function inNetns(netns: string, args: string[]): string {
  return execFileSync('nsenter', [`--net=${netns}`, ...args], { encoding: 'utf8' });
}

describe.skipIf(skipReason !== undefined)('bridge network', () => {
  const suffix = Math.floor(Math.random() * 0xffff)
    .toString(16)
    .padStart(4, '0');
  const bridge = `labt${suffix}`;
  // 10.89.<200-249>.0/24: away from the default 10.89.0.0/24 of a real lab
  const subnet = `10.89.${String(200 + (parseInt(suffix, 16) % 50))}.0/24`;
  let tmp = '';
  let net: BridgeNetwork;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'lab-net-'));
    net = openBridgeNetwork({ stateDir: join(tmp, 'run'), bridge, subnet });
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await net.remove({ force: true }).catch(() => undefined);
    if (tmp !== '') await rm(tmp, { recursive: true, force: true });
  });

  function serve(netns: string, args: string[]): ChildProcess {
    const child = spawn('nsenter', [`--net=${netns}`, 'busybox', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    return child;
  }

  it('connects two namespaces that reach each other and the gateway by IP', async () => {
    const a = await net.connect('ping-a');
    const b = await net.connect('ping-b');
    expect(a.address).not.toBe(b.address);
    expect(a.address.startsWith(subnet.slice(0, subnet.lastIndexOf('.')))).toBe(true);
    expect(a.macAddress).toMatch(/^02:42(:[0-9a-f]{2}){4}$/);
    const links = inNetns(a.netns, ['ip', '-o', 'link']);
    expect(links).toMatch(/^\d+: lo:.*UP/m);
    expect(links).toMatch(/^\d+: eth0@/m);
    expect(inNetns(a.netns, ['ip', '-4', 'route'])).toContain(
      `default via ${subnet.replace(/0\/24$/, '1')}`,
    );
    expect(inNetns(a.netns, ['busybox', 'ping', '-c1', '-W2', b.address])).toContain(
      '1 packets received',
    );
    expect(
      inNetns(b.netns, ['busybox', 'ping', '-c1', '-W2', subnet.replace(/0\/24$/, '1')]),
    ).toContain('1 packets received');
    await net.disconnect('ping-a');
    await net.disconnect('ping-b');
  });

  it('publishes a TCP port on 127.0.0.1 and cleans up rules, link, namespace and address on disconnect', async () => {
    const port = await freePort('tcp');
    const ep = await net.connect('web', {
      ports: { '80/tcp': [{ HostIp: '', HostPort: String(port) }] },
    });
    expect(ep.ports).toEqual([
      { protocol: 'tcp', hostIp: '0.0.0.0', hostPort: port, containerPort: 80 },
    ]);
    const www = join(tmp, 'www');
    execFileSync('mkdir', ['-p', www]);
    await writeFile(join(www, 'index.html'), 'hello from the bridge\n');
    serve(ep.netns, ['httpd', '-f', '-p', '80', '-h', www]);
    const body = await until(
      () => httpGet(`http://127.0.0.1:${String(port)}/`),
      'the published port',
    );
    expect(body).toBe('hello from the bridge\n');
    // the same port for another container is docker's "port is already allocated"
    await expect(
      net.connect('web2', {
        ports: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
      }),
    ).rejects.toSatisfy(
      (e: unknown) => isAlreadyExists(e) && /port is already allocated/.test(String(e)),
    );
    expect(await net.endpoint('web2')).toBeUndefined();
    expect(await containerRules(bridge, 'web')).toHaveLength(1);
    expect(await net.settings('web')).toMatchObject({
      IPAddress: ep.address,
      IPPrefixLen: 24,
      MacAddress: ep.macAddress,
      Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(port) }] },
      Networks: { bridge: { IPAddress: ep.address, MacAddress: ep.macAddress } },
    });

    await net.disconnect('web');
    expect(await containerRules(bridge, 'web')).toEqual([]);
    expect(await linkExists(hostVethName('web'))).toBe(false);
    expect(existsSync(ep.netns)).toBe(false);
    expect(await net.endpoint('web')).toBeUndefined();
    await expect(httpGet(`http://127.0.0.1:${String(port)}/`)).rejects.toThrow();
    // detaching again is harmless
    await net.disconnect('web');
  });

  it('publishes a UDP port', async () => {
    const port = await freePort('udp');
    const ep = await net.connect('dns', {
      ports: { '5353/udp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
    });
    // busybox's nc has no -u here: a node UDP server inside the namespace prints what it gets
    const server = spawn(
      'nsenter',
      [
        `--net=${ep.netns}`,
        process.execPath,
        '-e',
        "require('dgram').createSocket('udp4').on('message', (m) => process.stdout.write(m)).bind(5353)",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(server);
    let received = '';
    server.stdout?.setEncoding('utf8').on('data', (d: string) => (received += d));
    const socket = createSocket('udp4');
    try {
      await until(async () => {
        socket.send('ping over udp\n', port, '127.0.0.1');
        await sleep(100);
        return received.includes('ping over udp') ? true : undefined;
      }, 'the UDP datagram');
    } finally {
      socket.close();
    }
    await net.disconnect('dns');
    expect(await containerRules(bridge, 'dns')).toEqual([]);
  });

  it('gives an ephemeral host port when none is asked for', async () => {
    const ep = await net.connect('eph', {
      ports: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
    });
    expect(ep.ports[0]?.hostPort).toBeGreaterThan(1023);
    await net.disconnect('eph');
  });

  it('reuses released addresses and keeps one address per container across reconnects', async () => {
    const first = await net.connect('r1');
    const again = await net.connect('r1');
    expect(again.address).toBe(first.address);
    const state = await net.state();
    expect(Object.keys(state?.endpoints ?? {}).filter((k) => k.startsWith('r'))).toEqual(['r1']);
    await net.disconnect('r1');
    const next = await net.connect('r2');
    expect(next.address).toBe(first.address);
    await net.disconnect('r2');
  });

  it('hands out distinct addresses to concurrent connects', async () => {
    const ids = ['p0', 'p1', 'p2', 'p3', 'p4'];
    const eps = await Promise.all(ids.map((id) => net.connect(id)));
    expect(new Set(eps.map((e) => e.address)).size).toBe(ids.length);
    const recorded = Object.keys((await net.state())?.endpoints ?? {}).filter((k) =>
      ids.includes(k),
    );
    expect(recorded.sort()).toEqual(ids);
    await Promise.all(ids.map((id) => net.disconnect(id)));
    const left = Object.keys((await net.state())?.endpoints ?? {}).filter((k) => ids.includes(k));
    expect(left).toEqual([]);
  });

  it('cleans up after a process that crashed right after connecting', async () => {
    const stateDir = join(tmp, 'run');
    const script = join(tmp, 'crash.mts');
    const port = await freePort('tcp');
    await writeFile(
      script,
      `import { openBridgeNetwork } from ${JSON.stringify(join(import.meta.dirname, 'bridge-network.ts'))};
const net = openBridgeNetwork({ stateDir: ${JSON.stringify(stateDir)}, bridge: ${JSON.stringify(bridge)}, subnet: ${JSON.stringify(subnet)} });
await net.connect('crashed', { ports: { '80/tcp': [{ HostIp: '', HostPort: '${String(port)}' }] } });
process.kill(process.pid, 'SIGKILL');
`,
    );
    const repo = join(import.meta.dirname, '../../../..');
    const r = spawn(process.execPath, ['--conditions=@lab/source', '--import', 'tsx', script], {
      cwd: repo,
      stdio: 'inherit',
    });
    const signal = await new Promise((resolve) =>
      r.on('exit', (_code, sig) => {
        resolve(sig);
      }),
    );
    expect(signal).toBe('SIGKILL');
    expect(await linkExists(hostVethName('crashed'))).toBe(true);
    expect(await containerRules(bridge, 'crashed')).toHaveLength(1);

    // a later process, with no memory of the attach, detaches it
    const later = openBridgeNetwork({ stateDir, bridge, subnet });
    await later.disconnect('crashed');
    expect(await linkExists(hostVethName('crashed'))).toBe(false);
    expect(await containerRules(bridge, 'crashed')).toEqual([]);
    expect(await later.endpoint('crashed')).toBeUndefined();

    // kernel objects without a record (crash before the state was written) go too
    const ep = await later.connect('unrecorded');
    const stateFile = join(stateDir, bridge, 'state.json');
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as {
      endpoints: Record<string, unknown>;
    };
    delete state.endpoints.unrecorded;
    await writeFile(stateFile, JSON.stringify(state));
    await later.disconnect('unrecorded');
    expect(await linkExists(hostVethName('unrecorded'))).toBe(false);
    expect(existsSync(ep.netns)).toBe(false);
  });

  it('reclaims the endpoint of a container whose directory is gone (its lab root was deleted)', async () => {
    const owner = join(tmp, 'owner-dir');
    await mkdir(owner);
    const orphan = await net.connect('orphan', { owner });
    await rm(owner, { recursive: true });
    await net.connect('newcomer');
    expect(await net.endpoint('orphan')).toBeUndefined();
    expect(await linkExists(orphan.hostVeth)).toBe(false);
    expect(existsSync(orphan.netns)).toBe(false);
    await net.disconnect('newcomer');
  });

  it('runs a real container in the namespace, reachable through its published port', async () => {
    const rootfs = join(tmp, 'rootfs');
    await makeBusyboxRootfs(rootfs);
    await writeFile(join(rootfs, 'index.html'), 'served by a container\n');
    const runtime = createBuiltinRuntime({ root: join(tmp, 'rt') });
    const port = await freePort('tcp');
    const ep = await net.connect('ctr', {
      ports: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
    });
    const image: ImageConfig = {
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
      config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] },
    };
    const spec = await createSpec(image, {
      id: 'ctr',
      rootfs,
      cmd: ['sh', '-c', 'ip -o -4 addr show eth0; exec httpd -f -p 8080 -h /'],
      network: { mode: 'path', path: ep.netns },
    });
    await writeBundle(join(tmp, 'bundle'), spec);
    const outFile = join(tmp, 'ctr.out');
    const out = openSync(outFile, 'w');
    try {
      await runtime.create('ctr', join(tmp, 'bundle'), { stdio: ['ignore', out, out] });
    } finally {
      closeSync(out);
    }
    try {
      await runtime.start('ctr');
      const body = await until(
        () => httpGet(`http://127.0.0.1:${String(port)}/index.html`),
        'the container',
      );
      expect(body).toBe('served by a container\n');
      expect(readFileSync(outFile, 'utf8')).toContain(`inet ${ep.address}/24`);
    } finally {
      await runtime.kill('ctr', 'SIGKILL').catch(() => undefined);
      await runtime.wait('ctr');
      await runtime.delete('ctr', { force: true });
    }
    await net.disconnect('ctr');
    expect(await linkExists(hostVethName('ctr'))).toBe(false);
  });

  it('removes the bridge and its chains', async () => {
    await net.connect('last');
    await expect(net.remove()).rejects.toThrow(/active endpoints/);
    await net.remove({ force: true });
    expect(await linkExists(bridge)).toBe(false);
    const chains = execFileSync('iptables', ['-t', 'nat', '-S'], { encoding: 'utf8' });
    expect(chains).not.toContain(chainsOf(bridge).dnat);
    expect(chains).not.toContain(chainsOf(bridge).snat);
  });
});

describe('containerResolv', () => {
  it("drops loopback servers and falls back to docker's public ones", () => {
    expect(containerResolv('nameserver 127.0.0.53\noptions edns0\n')).toBe(
      'options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n',
    );
    expect(containerResolv('search example.org\nnameserver 192.0.2.53\nnameserver ::1\n')).toBe(
      'search example.org\nnameserver 192.0.2.53\n',
    );
  });
});
