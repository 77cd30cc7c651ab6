// Bridge networking, side by side in one run (as root):
//   lab: openBridgeNetwork().connect(id, { ports: 80/tcp → 127.0.0.1:<port> }) + disconnect(id)
//   reference: the CNI plugins podman/CRI-O use (/usr/lib/cni: bridge + host-local IPAM +
//   portmap), ADD then DEL on a namespace pinned the same way (unshare --net=FILE).
// Both make a veth pair into a fresh namespace on a bridge, allocate an address, program one
// published port with iptables, and undo it all. Then the memory a published port costs:
// lab's DNAT rule (no process) vs docker's userland proxy (docker-proxy, one process per port).
// Needs root, iproute2, iptables, containernetworking-plugins; run
// `pnpm --filter @lab/oci --filter @lab/lifecycle build` first.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { openBridgeNetwork } = await import(
  path.resolve(here, '../../packages/lifecycle/dist/index.js')
);

const RUNS = Number(process.env.RUNS ?? 15);
const WARMUP = 2;
const CNI = '/usr/lib/cni';
if (process.getuid() !== 0) {
  console.log('network benchmark: needs root');
  process.exit(0);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-bench-net-'));
const suffix = Math.floor(Math.random() * 0xffff)
  .toString(16)
  .padStart(4, '0');
const labBridge = `labb${suffix}`;
const cniBridge = `cnib${suffix}`;
const port = 28000 + Math.floor(Math.random() * 1000);

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
}

async function time(fn) {
  for (let i = 0; i < WARMUP; i++) await fn(`w${i}`);
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn(`r${i}`);
    samples.push(performance.now() - t);
  }
  return stats(samples);
}

// --- lab ---
const net = openBridgeNetwork({
  stateDir: path.join(tmp, 'run'),
  bridge: labBridge,
  subnet: '10.89.251.0/24',
});
const lab = await time(async (id) => {
  await net.connect(id, { ports: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] } });
  await net.disconnect(id);
});
await net.remove({ force: true });

// --- CNI reference ---
const natBefore = execFileSync('iptables', ['-t', 'nat', '-S'], { encoding: 'utf8' });
const cniConf = {
  cniVersion: '1.0.0',
  name: `bench${suffix}`,
  type: 'bridge',
  bridge: cniBridge,
  isGateway: true,
  ipMasq: true,
  hairpinMode: true,
  ipam: {
    type: 'host-local',
    ranges: [[{ subnet: '10.89.252.0/24' }]],
    dataDir: path.join(tmp, 'cni-ipam'),
  },
};
function plugin(type, command, id, netns, conf) {
  const r = spawnSync(path.join(CNI, type), {
    input: JSON.stringify(conf),
    env: {
      CNI_COMMAND: command,
      CNI_CONTAINERID: id,
      CNI_NETNS: netns,
      CNI_IFNAME: 'eth0',
      CNI_PATH: CNI,
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${type} ${command}: ${r.stdout}${r.stderr}`);
  return r.stdout === '' ? undefined : JSON.parse(r.stdout);
}
const portmapConf = (prevResult) => ({
  cniVersion: '1.0.0',
  name: `bench${suffix}`,
  type: 'portmap',
  capabilities: { portMappings: true },
  runtimeConfig: {
    portMappings: [{ hostPort: port, containerPort: 80, protocol: 'tcp', hostIP: '127.0.0.1' }],
  },
  ...(prevResult === undefined ? {} : { prevResult }),
});
const cni = await time(async (id) => {
  const netns = path.join(tmp, `ns-${id}`);
  fs.writeFileSync(netns, '');
  execFileSync('unshare', [`--net=${netns}`, 'true']);
  execFileSync('nsenter', [`--net=${netns}`, 'ip', 'link', 'set', 'lo', 'up']);
  const result = plugin('bridge', 'ADD', id, netns, cniConf);
  plugin('portmap', 'ADD', id, netns, portmapConf(result));
  plugin('portmap', 'DEL', id, netns, portmapConf(result));
  plugin('bridge', 'DEL', id, netns, cniConf);
  execFileSync('umount', [netns]);
  fs.rmSync(netns);
});
spawnSync('ip', ['link', 'del', cniBridge]);
// portmap/bridge leave their chains (CNI-HOSTPORT-*, CNI-*) behind by design; remove ours
for (const table of ['nat', 'filter']) {
  const rules = execFileSync('iptables', ['-t', table, '-S'], { encoding: 'utf8' });
  for (const line of rules.split('\n')) {
    if (line.startsWith('-A') && line.includes(`bench${suffix}`)) {
      spawnSync('iptables', [
        '-t',
        table,
        ...line
          .replace(/^-A/, '-D')
          .match(/"[^"]*"|\S+/g)
          .map((a) => a.replace(/^"|"$/g, '')),
      ]);
    }
  }
}

// portmap's shared chains: removed again when this run created them
if (!natBefore.includes('CNI-HOSTPORT-DNAT')) {
  for (const [chain, rule] of [
    ['PREROUTING', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'CNI-HOSTPORT-DNAT']],
    ['OUTPUT', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'CNI-HOSTPORT-DNAT']],
    [
      'POSTROUTING',
      ['-m', 'comment', '--comment', 'CNI portfwd requiring masquerade', '-j', 'CNI-HOSTPORT-MASQ'],
    ],
  ]) {
    spawnSync('iptables', ['-t', 'nat', '-D', chain, ...rule]);
  }
  for (const chain of ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-MASQ', 'CNI-HOSTPORT-SETMARK']) {
    spawnSync('iptables', ['-t', 'nat', '-F', chain]);
    spawnSync('iptables', ['-t', 'nat', '-X', chain]);
  }
}

// --- memory of one published port ---
function rssKb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}
let proxyRss = 'n/a';
if (fs.existsSync('/usr/sbin/docker-proxy')) {
  const proxy = spawn(
    '/usr/sbin/docker-proxy',
    [
      '-proto',
      'tcp',
      '-host-ip',
      '127.0.0.1',
      '-host-port',
      String(port + 1),
      '-container-ip',
      '10.89.251.2',
      '-container-port',
      '80',
    ],
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] },
  );
  // docker-proxy reports readiness ("0\n") on fd 3, as dockerd expects
  await new Promise((r) => {
    proxy.stdio[3].once('data', r);
    setTimeout(r, 2000);
  });
  proxyRss = `${(rssKb(proxy.pid) / 1024).toFixed(1)} MB`;
  proxy.kill('SIGKILL');
}
fs.rmSync(tmp, { recursive: true, force: true });

const fmt = (s) =>
  `median ${s.median.toFixed(1)} ms (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)})`;
console.log(`bridge attach + one published port + detach, ${RUNS} runs`);
console.log(`  lab openBridgeNetwork     ${fmt(lab)}`);
console.log(`  CNI bridge+portmap (ref)  ${fmt(cni)}`);
console.log(`  ratio lab/CNI             ${(lab.median / cni.median).toFixed(2)}`);
console.log('memory per published port');
console.log('  lab (iptables DNAT)       0 MB: no process');
console.log(`  docker-proxy (userland)   ${proxyRss} RSS per port`);
