/**
 * docker's default `bridge` network, without a daemon: a Linux bridge (`lab0`) holding the
 * gateway address of a subnet (`10.89.0.0/24`: podman uses 10.88.0.0/16, docker 172.17.0.0/16),
 * and per container a pinned network namespace with `lo` and `eth0`, the host end of whose veth
 * pair sits on the bridge. Published ports are DNAT rules (`port-forward.ts`).
 *
 * The container layer uses it as its {@link NetworkProvider}: `attach(container)` before the
 * runtime creates the container (the runtime joins the namespace: `{mode:'path', path}`),
 * `detach(container)` after it exited. Both are idempotent, and `detach` works from the
 * container id alone, so a container that crashed half-way through an attach can be cleaned
 * up by any later command.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { failedPrecondition, notFound } from '@lab/oci';
import type { ResolvConf } from '../bundle/etc-files.js';
import type { NetworkAttachment, NetworkProvider } from '../containers/providers.js';
import type { Container } from '../containers/types.js';
import { gatewayOf, macFor, nextFreeAddress, parseSubnet } from './ipam.js';
import {
  connectVeth,
  createNetns,
  deleteLink,
  ensureBridge,
  removeBridge,
  removeNetns,
} from './links.js';
import type { Endpoint, NetworkState } from './network-state.js';
import { readNetworkState, updateNetworkState } from './network-state.js';
import {
  ensureNetworkRules,
  publishPorts,
  removeNetworkRules,
  unpublishPorts,
} from './port-forward.js';
import type { PortBindings } from './ports.js';
import { portsView, resolvePorts } from './ports.js';

/** The defaults of a bridge network. */
export const DEFAULT_BRIDGE = { name: 'bridge', bridge: 'lab0', subnet: '10.89.0.0/24' } as const;

/** Options of {@link openBridgeNetwork}. */
export interface BridgeNetworkOptions {
  /**
   * Host-wide runtime state: the IPAM record goes to `<stateDir>/<bridge>/state.json` and the
   * namespaces are pinned under `<stateDir>/<bridge>/netns/` (default `/run/lab/networks`).
   * Every lab root on the host shares the bridge, so they share its record too.
   */
  stateDir?: string;
  /** The network's name, as `--network` takes it (default `bridge`). */
  name?: string;
  /** The Linux bridge's name (≤ 15 characters; default `lab0`). */
  bridge?: string;
  /** The IPv4 subnet (default `10.89.0.0/24`); the bridge takes its first address. */
  subnet?: string;
  /**
   * Turn on `net.ipv4.ip_forward` (as dockerd does at start), so containers reach beyond the
   * host. Off by default: lab never changes host-wide settings unless asked to.
   */
  ipForward?: boolean;
  /** The host resolver file copied into containers (default `/etc/resolv.conf`). */
  resolvConf?: string;
}

/** What {@link BridgeNetwork.connect} takes. */
export interface ConnectOptions {
  /** docker's `PortBindings` (`{"80/tcp": [{HostIp: "", HostPort: "8080"}]}`). */
  ports?: PortBindings;
  /** A path that exists while the endpoint is wanted (see {@link Endpoint.owner}). */
  owner?: string;
}

/** A bridge network: a {@link NetworkProvider} plus the operations behind it. */
export interface BridgeNetwork extends NetworkProvider {
  readonly name: string;
  readonly bridge: string;
  /** Puts container `id` on the network (replacing an earlier endpoint of it); returns the endpoint. */
  connect(id: string, options?: ConnectOptions): Promise<Endpoint>;
  /** Removes everything `connect` made for `id` (idempotent, needs no record). */
  disconnect(id: string): Promise<void>;
  /** The endpoint of `id`, if connected. */
  endpoint(id: string): Promise<Endpoint | undefined>;
  /**
   * docker's `NetworkSettings` of a connected container (`IPAddress`, `Gateway`, `MacAddress`,
   * `Ports` with the host ports actually bound, `Networks`), for `inspect`, `port` and `ps`;
   * undefined when it is not connected.
   */
  settings(id: string): Promise<Record<string, unknown> | undefined>;
  /** The recorded state (undefined before the first connect). */
  state(): Promise<NetworkState | undefined>;
  /**
   * Removes the bridge and its rules. Failed-precondition while endpoints remain, unless
   * `force` (which disconnects them first).
   */
  remove(options?: { force?: boolean }): Promise<void>;
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The host end of a container's veth pair: `veth` + 11 hex digits of a hash of its id. */
export function hostVethName(id: string): string {
  return `veth${createHash('sha256').update(id).digest('hex').slice(0, 11)}`;
}

/** docker's rule for the resolver of a bridged container: the host's, without loopback servers. */
export function containerResolv(hostText: string): ResolvConf {
  const lines = hostText.split('\n');
  const kept = lines.filter((l) => {
    const m = /^\s*nameserver\s+(\S+)/.exec(l);
    return m === null || !(m[1]!.startsWith('127.') || m[1] === '::1');
  });
  const hasServer = kept.some((l) => /^\s*nameserver\s/.test(l));
  const text = kept.join('\n').trimEnd();
  if (hasServer) return `${text}\n`;
  // docker falls back to Google's public servers when only local ones were configured
  return `${text === '' ? '' : `${text}\n`}nameserver 8.8.8.8\nnameserver 8.8.4.4\n`;
}

/** The default host-wide state directory of bridge networks. */
export const DEFAULT_NETWORK_STATE_DIR = '/run/lab/networks';

/** Opens (without touching the kernel yet) a bridge network. */
export function openBridgeNetwork(options: BridgeNetworkOptions = {}): BridgeNetwork {
  const name = options.name ?? DEFAULT_BRIDGE.name;
  const bridge = options.bridge ?? DEFAULT_BRIDGE.bridge;
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/.test(bridge)) {
    throw failedPrecondition(
      `invalid bridge name "${bridge}": use at most 15 letters, digits, '_', '.' or '-'`,
    );
  }
  const subnet = parseSubnet(options.subnet ?? DEFAULT_BRIDGE.subnet);
  const gateway = gatewayOf(subnet);
  const dir = join(options.stateDir ?? DEFAULT_NETWORK_STATE_DIR, bridge);
  const netnsDir = join(dir, 'netns');
  const netnsOf = (id: string) => join(netnsDir, id);
  let ready: Promise<void> | undefined;

  const initial = (): NetworkState => ({
    name,
    bridge,
    subnet: subnet.cidr,
    gateway,
    id: randomBytes(32).toString('hex'),
    endpoints: {},
  });

  async function setUpBridge(): Promise<void> {
    await ensureBridge(bridge, `${gateway}/${String(subnet.prefix)}`);
    await ensureNetworkRules(bridge, subnet.cidr);
    if (options.ipForward === true) await writeFile('/proc/sys/net/ipv4/ip_forward', '1\n');
  }

  /** Removes the kernel objects of `id` (rules, veth, namespace); no state change. */
  async function teardown(id: string, endpoint: Endpoint | undefined): Promise<void> {
    await unpublishPorts(bridge, id);
    await deleteLink(endpoint?.hostVeth ?? hostVethName(id));
    await removeNetns(endpoint?.netns ?? netnsOf(id));
  }

  async function disconnect(id: string): Promise<void> {
    const known = (await readNetworkState(dir))?.endpoints[id];
    await teardown(id, known);
    if (known === undefined) return;
    await updateNetworkState(dir, initial, (state) => {
      if (!(id in state.endpoints)) return Promise.resolve({ result: undefined });
      const endpoints = Object.fromEntries(
        Object.entries(state.endpoints).filter(([k]) => k !== id),
      );
      return Promise.resolve({ next: { ...state, endpoints }, result: undefined });
    });
  }

  async function connect(id: string, o: ConnectOptions = {}): Promise<Endpoint> {
    ready ??= setUpBridge().catch((err: unknown) => {
      ready = undefined;
      throw err;
    });
    await ready;
    const endpoint = await updateNetworkState(dir, initial, async (state) => {
      if (state.subnet !== subnet.cidr) {
        throw failedPrecondition(
          `network "${name}" was created with subnet ${state.subnet}, not ${subnet.cidr}: remove it first (no container may use it)`,
        );
      }
      const previous = state.endpoints[id];
      if (previous !== undefined) await teardown(id, previous);
      const others: Endpoint[] = [];
      for (const e of Object.values(state.endpoints)) {
        if (e.containerId === id) continue;
        if (e.owner !== undefined && !(await pathExists(e.owner))) {
          // its container (or whole lab root) was deleted without a detach: reclaim
          await teardown(e.containerId, e);
          continue;
        }
        others.push(e);
      }
      const address = nextFreeAddress(subnet, new Set(others.map((e) => e.address)));
      const ports = await resolvePorts(
        o.ports ?? {},
        others.flatMap((e) => e.ports),
      );
      const ep: Endpoint = {
        containerId: id,
        address,
        macAddress: macFor(address),
        hostVeth: hostVethName(id),
        netns: netnsOf(id),
        ports,
        created: new Date().toISOString(),
        ...(o.owner === undefined ? {} : { owner: o.owner }),
      };
      // recorded before anything exists in the kernel: a crash from here on is undone by disconnect
      const endpoints = Object.fromEntries(others.map((e) => [e.containerId, e]));
      return { next: { ...state, endpoints: { ...endpoints, [id]: ep } }, result: ep };
    });
    try {
      await createNetns(endpoint.netns);
      await connectVeth({
        bridge,
        hostVeth: endpoint.hostVeth,
        netns: endpoint.netns,
        addressCidr: `${endpoint.address}/${String(subnet.prefix)}`,
        gateway,
        macAddress: endpoint.macAddress,
      });
      await publishPorts(bridge, id, endpoint.address, endpoint.ports);
    } catch (err) {
      await disconnect(id).catch(() => undefined);
      throw err;
    }
    return endpoint;
  }

  function settingsOf(ep: Endpoint, state: NetworkState | undefined): Record<string, unknown> {
    return {
      Bridge: '',
      SandboxID: createHash('sha256').update(ep.netns).digest('hex'),
      SandboxKey: ep.netns,
      Ports: portsView(ep.ports),
      Gateway: gateway,
      IPAddress: ep.address,
      IPPrefixLen: subnet.prefix,
      MacAddress: ep.macAddress,
      Networks: {
        [name]: {
          IPAMConfig: null,
          Links: null,
          Aliases: null,
          MacAddress: ep.macAddress,
          NetworkID: state?.id ?? '',
          EndpointID: createHash('sha256').update(`${name}/${ep.containerId}`).digest('hex'),
          Gateway: gateway,
          IPAddress: ep.address,
          IPPrefixLen: subnet.prefix,
          IPv6Gateway: '',
          GlobalIPv6Address: '',
          GlobalIPv6PrefixLen: 0,
          DNSNames: null,
        },
      },
    };
  }

  function checkMode(c: Container): void {
    const mode = c.config.HostConfig.NetworkMode;
    if (mode !== name && !(mode === 'default' && name === DEFAULT_BRIDGE.name)) {
      throw notFound(`network ${mode} not found: lab has the networks none, host and ${name}`);
    }
  }

  return {
    name,
    bridge,
    connect,
    disconnect,
    async endpoint(id) {
      return (await readNetworkState(dir))?.endpoints[id];
    },
    state: () => readNetworkState(dir),
    async settings(id) {
      const state = await readNetworkState(dir);
      const ep = state?.endpoints[id];
      return ep === undefined ? undefined : settingsOf(ep, state);
    },
    async attach(c: Container): Promise<NetworkAttachment> {
      checkMode(c);
      const ep = await connect(c.id, { ports: c.config.HostConfig.PortBindings, owner: c.dir });
      const hostResolv = await readFile(options.resolvConf ?? '/etc/resolv.conf', 'utf8').catch(
        () => '',
      );
      return {
        network: { mode: 'path', path: ep.netns },
        address: ep.address,
        resolv: containerResolv(hostResolv),
        settings: settingsOf(ep, await readNetworkState(dir)),
      };
    },
    async detach(c: Container): Promise<void> {
      if (['none', 'host'].includes(c.config.HostConfig.NetworkMode)) return;
      await disconnect(c.id);
    },
    async remove(o = {}) {
      const state = await readNetworkState(dir);
      const ids = Object.keys(state?.endpoints ?? {});
      if (ids.length > 0 && o.force !== true) {
        throw failedPrecondition(
          `network ${name} has active endpoints (${ids.map((i) => i.slice(0, 12)).join(', ')}): remove those containers first`,
        );
      }
      for (const id of ids) await disconnect(id);
      await removeNetworkRules(bridge);
      await removeBridge(bridge);
      ready = undefined;
    },
  };
}
