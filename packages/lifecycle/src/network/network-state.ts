/**
 * The record of one bridge: which container holds which address and which host ports, at
 * `<dir>/state.json`, rewritten atomically under the lock `<dir>/lock`. The directory is
 * host-wide runtime state (default `/run/lab/networks/<bridge>`, as podman keeps its IPAM
 * under /run/containers/networks): the bridge, the veths and the rules are host-wide too, and
 * all of them are gone after a reboot, as is /run. An endpoint is recorded *before* the kernel objects are made,
 * so a crash in between leaves an entry that `detach` (which also derives every name from the
 * container id) removes later; nothing is ever orphaned without a record or a derivable name.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { internal } from '@lab/oci';
import { writeFileAtomic } from '../bundle/atomic-write.js';
import { withFileLock } from '../containers/lock.js';

/** A published port, resolved: one host port to one container port. */
export interface PublishedPort {
  protocol: 'tcp' | 'udp';
  /** `0.0.0.0` for every address (docker's default) or one host address. */
  hostIp: string;
  hostPort: number;
  containerPort: number;
}

/** One container's place on the network. */
export interface Endpoint {
  containerId: string;
  address: string;
  macAddress: string;
  /** The host end of the veth pair (the container end is `eth0`). */
  hostVeth: string;
  /** The pinned network namespace file. */
  netns: string;
  ports: PublishedPort[];
  /** RFC 3339 time of the attach. */
  created: string;
  /**
   * A path that exists as long as the endpoint is wanted (the container's directory): an
   * endpoint whose owner is gone (its lab root was deleted) is reclaimed by the next connect.
   */
  owner?: string;
}

/** state.json of a network. */
export interface NetworkState {
  name: string;
  bridge: string;
  subnet: string;
  gateway: string;
  /** Docker's 64-hex network ID. */
  id: string;
  endpoints: Record<string, Endpoint>;
}

/** Reads the state (undefined when the network was never used). */
export async function readNetworkState(dir: string): Promise<NetworkState | undefined> {
  const file = join(dir, 'state.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as NetworkState;
  } catch (err) {
    throw internal(
      `${file} is not valid JSON (${String(err)}): remove it after detaching every container`,
      {
        cause: err,
      },
    );
  }
}

/**
 * Runs `fn` on the current state under the network's lock; writes what it returns (when not
 * undefined) atomically before releasing the lock.
 */
export async function updateNetworkState<T>(
  dir: string,
  initial: () => NetworkState,
  fn: (state: NetworkState) => Promise<{ next?: NetworkState; result: T }>,
): Promise<T> {
  await mkdir(dir, { recursive: true });
  return withFileLock(join(dir, 'lock'), async () => {
    const state = (await readNetworkState(dir)) ?? initial();
    const { next, result } = await fn(state);
    if (next !== undefined)
      await writeFileAtomic(join(dir, 'state.json'), `${JSON.stringify(next, null, 2)}\n`);
    return result;
  });
}
