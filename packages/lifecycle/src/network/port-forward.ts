/**
 * Published ports as netfilter rules — docker's `--userland-proxy=false` mode, not a proxy
 * process: lab is daemonless, so a userland proxy would be one more long-lived process per
 * container (docker-proxy is ~4 MB RSS per port; a Node proxy ~40 MB), while a DNAT rule costs
 * nothing at run time and survives the CLI exiting.
 *
 * Per bridge, in the `nat` table:
 * - `LAB-DNAT-<bridge>`, jumped to from PREROUTING (traffic from outside) and OUTPUT (traffic
 *   from this host, 127.0.0.1 included) for local destination addresses: one DNAT rule per
 *   published port, commented `lab:<container id>`;
 * - `LAB-SNAT-<bridge>`, from POSTROUTING: masquerade what leaves through the bridge with a
 *   loopback source (a DNATed `127.0.0.1` connection; the bridge needs `route_localnet=1`) and
 *   what leaves the subnet for elsewhere (outbound traffic of the containers);
 * and in the `filter` table `LAB-FWD-<bridge>` from FORWARD, accepting the bridge's traffic even
 * where the FORWARD policy is DROP (docker sets that).
 *
 * Rules are found again by their comment, so removal needs no record and is idempotent.
 */
import { internal, unavailable } from '@lab/oci';
import { runCommand } from '../runtime/command.js';
import type { PublishedPort } from './network-state.js';

async function iptables(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  try {
    return await runCommand('iptables', ['-w', '5', ...args]);
  } catch (err) {
    throw unavailable(
      `cannot run iptables (${String(err)}): install the iptables package to publish ports`,
      {
        cause: err,
      },
    );
  }
}

async function mustIptables(args: readonly string[]): Promise<string> {
  const r = await iptables(args);
  if (r.code !== 0) throw internal(`iptables ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The chain names of a bridge. */
export function chainsOf(bridge: string): { dnat: string; snat: string; forward: string } {
  return { dnat: `LAB-DNAT-${bridge}`, snat: `LAB-SNAT-${bridge}`, forward: `LAB-FWD-${bridge}` };
}

async function ensureChain(table: string, chain: string): Promise<void> {
  const r = await iptables(['-t', table, '-N', chain]);
  if (r.code !== 0 && !/exists/i.test(r.stderr)) {
    throw internal(`iptables -t ${table} -N ${chain} failed: ${r.stderr.trim()}`);
  }
}

/** Appends `rule` to `table`/`chain` unless an identical rule is there. */
async function ensureRule(table: string, chain: string, rule: readonly string[]): Promise<void> {
  const check = await iptables(['-t', table, '-C', chain, ...rule]);
  if (check.code === 0) return;
  await mustIptables(['-t', table, '-A', chain, ...rule]);
}

/**
 * Whether every network-wide rule of the bridge looks present, from one listing per table (the
 * common case of every start after the first: two iptables runs instead of twelve).
 */
async function networkRulesPresent(bridge: string): Promise<boolean> {
  const c = chainsOf(bridge);
  const nat = await iptables(['-t', 'nat', '-S']);
  const filter = await iptables(['-t', 'filter', '-S']);
  if (nat.code !== 0 || filter.code !== 0) return false;
  const natLines = nat.stdout.split('\n');
  const filterLines = filter.stdout.split('\n');
  const has = (lines: string[], prefix: string, suffix = '') =>
    lines.filter((l) => l.startsWith(prefix) && l.endsWith(suffix)).length;
  return (
    has(natLines, '-A PREROUTING ', `-j ${c.dnat}`) === 1 &&
    has(natLines, '-A OUTPUT ', `-j ${c.dnat}`) === 1 &&
    has(natLines, '-A POSTROUTING ', `-j ${c.snat}`) === 1 &&
    has(natLines, `-A ${c.snat} `, '-j MASQUERADE') === 2 &&
    has(filterLines, '-A FORWARD ', `-j ${c.forward}`) === 1 &&
    has(filterLines, `-A ${c.forward} `, '-j ACCEPT') === 2
  );
}

/** The network-wide rules of a bridge (idempotent). */
export async function ensureNetworkRules(bridge: string, subnet: string): Promise<void> {
  if (await networkRulesPresent(bridge)) return;
  const c = chainsOf(bridge);
  await ensureChain('nat', c.dnat);
  await ensureChain('nat', c.snat);
  await ensureChain('filter', c.forward);
  await ensureRule('nat', 'PREROUTING', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', c.dnat]);
  await ensureRule('nat', 'OUTPUT', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', c.dnat]);
  await ensureRule('nat', 'POSTROUTING', ['-j', c.snat]);
  await ensureRule('filter', 'FORWARD', ['-j', c.forward]);
  const comment = ['-m', 'comment', '--comment', `lab:${bridge}`];
  await ensureRule('nat', c.snat, [
    '-o',
    bridge,
    '-s',
    '127.0.0.0/8',
    ...comment,
    '-j',
    'MASQUERADE',
  ]);
  await ensureRule('nat', c.snat, [
    '-s',
    subnet,
    '!',
    '-o',
    bridge,
    ...comment,
    '-j',
    'MASQUERADE',
  ]);
  await ensureRule('filter', c.forward, ['-i', bridge, ...comment, '-j', 'ACCEPT']);
  await ensureRule('filter', c.forward, ['-o', bridge, ...comment, '-j', 'ACCEPT']);
}

/** Removes the bridge's chains and the jumps to them (idempotent). */
export async function removeNetworkRules(bridge: string): Promise<void> {
  const c = chainsOf(bridge);
  const jumps: [string, string, string[]][] = [
    ['nat', 'PREROUTING', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', c.dnat]],
    ['nat', 'OUTPUT', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', c.dnat]],
    ['nat', 'POSTROUTING', ['-j', c.snat]],
    ['filter', 'FORWARD', ['-j', c.forward]],
  ];
  for (const [table, chain, rule] of jumps) {
    while ((await iptables(['-t', table, '-D', chain, ...rule])).code === 0) {
      // a rule added twice is removed twice
    }
  }
  for (const [table, chain] of [
    ['nat', c.dnat],
    ['nat', c.snat],
    ['filter', c.forward],
  ] as const) {
    await iptables(['-t', table, '-F', chain]);
    await iptables(['-t', table, '-X', chain]);
  }
}

/** The comment that tags a container's rules. */
function tag(containerId: string): string {
  return `lab:${containerId}`;
}

/** The DNAT rule of one published port. */
function dnatRule(containerId: string, address: string, p: PublishedPort): string[] {
  return [
    ...(p.hostIp === '0.0.0.0' ? [] : ['-d', p.hostIp]),
    '-p',
    p.protocol,
    '--dport',
    String(p.hostPort),
    '-m',
    'comment',
    '--comment',
    tag(containerId),
    '-j',
    'DNAT',
    '--to-destination',
    `${address}:${String(p.containerPort)}`,
  ];
}

/** Adds the DNAT rules of a container's published ports (idempotent). */
export async function publishPorts(
  bridge: string,
  containerId: string,
  address: string,
  ports: readonly PublishedPort[],
): Promise<void> {
  const { dnat } = chainsOf(bridge);
  for (const p of ports) await ensureRule('nat', dnat, dnatRule(containerId, address, p));
}

/** The rules of a container, as `iptables -S` prints them, in the bridge's DNAT chain. */
export async function containerRules(bridge: string, containerId: string): Promise<string[]> {
  const r = await iptables(['-t', 'nat', '-S', chainsOf(bridge).dnat]);
  if (r.code !== 0) return [];
  // iptables-nft quotes comments (`--comment "lab:<id>"`), iptables-legacy does not
  const marker = new RegExp(`--comment "?${tag(containerId)}"? `);
  return r.stdout.split('\n').filter((line) => line.startsWith('-A ') && marker.test(line));
}

/** Removes every rule tagged with the container's id (idempotent; needs no record). */
export async function unpublishPorts(bridge: string, containerId: string): Promise<void> {
  for (const line of await containerRules(bridge, containerId)) {
    // `-A CHAIN args…` → `-D CHAIN args…`; lab's arguments have no spaces, only the comment quotes
    const args = line.split(' ').map((a) => a.replace(/^"(.*)"$/, '$1'));
    args[0] = '-D';
    await mustIptables(['-t', 'nat', ...args]);
  }
}
