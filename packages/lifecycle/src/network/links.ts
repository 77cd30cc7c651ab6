/**
 * The kernel side of a bridge network, through iproute2 and util-linux: the bridge with its
 * gateway address, a pinned network namespace per container, and the veth pair between them.
 * Every function is idempotent (a missing object is not an error when removing, an existing one
 * is reused when creating), so a half-done attach can be redone or undone.
 */
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { internal, unavailable } from '@lab/oci';
import { runCommand } from '../runtime/command.js';

async function must(
  file: string,
  args: readonly string[],
  what: string,
  input?: string,
): Promise<string> {
  let result;
  try {
    result = await runCommand(file, args, input === undefined ? {} : { input });
  } catch (err) {
    throw unavailable(
      `${what}: cannot run ${file} (${String(err)}): install iproute2 and util-linux`,
      {
        cause: err,
      },
    );
  }
  if (result.code !== 0) {
    throw internal(
      `${what}: ${file} ${args.join(' ')} failed: ${result.stderr.trim() || `exit ${String(result.code)}`}`,
    );
  }
  return result.stdout;
}

/** Whether a link of this name exists in the host's network namespace. */
export async function linkExists(name: string): Promise<boolean> {
  try {
    await stat(`/sys/class/net/${name}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure bridge `name` exists, is up and carries `gatewayCidr` (`10.89.0.1/24`), and lets
 * 127.0.0.0/8 be routed to it (`route_localnet`, for ports published on 127.0.0.1).
 */
export async function ensureBridge(name: string, gatewayCidr: string): Promise<void> {
  if (!(await linkExists(name))) {
    const r = await runCommand('ip', ['link', 'add', name, 'type', 'bridge']);
    if (r.code !== 0 && !(await linkExists(name))) {
      throw internal(`cannot create the bridge ${name}: ${r.stderr.trim()}`);
    }
  }
  const batch = [`addr replace ${gatewayCidr} dev ${name}`, `link set ${name} up`].join('\n');
  await must('ip', ['-batch', '-'], `configuring the bridge ${name}`, `${batch}\n`);
  await writeFile(`/proc/sys/net/ipv4/conf/${name}/route_localnet`, '1\n');
}

/** Removes bridge `name` (idempotent). */
export async function removeBridge(name: string): Promise<void> {
  if (!(await linkExists(name))) return;
  await runCommand('ip', ['link', 'del', name]);
}

/**
 * Creates a network namespace pinned at `file` (util-linux `unshare --net=FILE`, the same
 * bind mount `ip netns add` makes) and brings its `lo` up. Reuses a namespace already pinned
 * there.
 */
export async function createNetns(file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  if (await isPinnedNetns(file)) return;
  await writeFile(file, '', { mode: 0o600 });
  await must('unshare', [`--net=${file}`, 'true'], `creating the network namespace ${file}`);
  await must('nsenter', [`--net=${file}`, 'ip', 'link', 'set', 'lo', 'up'], 'bringing lo up');
}

/** Whether `file` is a pinned network namespace (an nsfs bind mount). */
export async function isPinnedNetns(file: string): Promise<boolean> {
  const r = await runCommand('findmnt', ['-n', '-o', 'FSTYPE', '--mountpoint', file]);
  return r.code === 0 && r.stdout.trim().split('\n').includes('nsfs');
}

/** Unpins and removes a namespace file (idempotent); the namespace dies with its last user. */
export async function removeNetns(file: string): Promise<void> {
  // a file can carry stacked mounts after repeated crashes: unmount until none is left
  for (let i = 0; i < 8 && (await isPinnedNetns(file)); i++) {
    await runCommand('umount', ['--lazy', file]);
  }
  await rm(file, { force: true });
}

/** What {@link connectVeth} configures. */
export interface VethConfig {
  bridge: string;
  hostVeth: string;
  netns: string;
  /** `10.89.0.2/24`. */
  addressCidr: string;
  gateway: string;
  macAddress: string;
  mtu?: number;
}

/**
 * Creates the veth pair `hostVeth` ⇄ `eth0` with `eth0` inside the namespace, puts the host
 * end on the bridge, and gives `eth0` its address, MAC and default route via the gateway.
 * A leftover pair of the same name (a crashed attach) is replaced.
 */
export async function connectVeth(c: VethConfig): Promise<void> {
  await deleteLink(c.hostVeth);
  const mtu = c.mtu === undefined ? [] : ['mtu', String(c.mtu)];
  await must(
    'ip',
    [
      'link',
      'add',
      c.hostVeth,
      ...mtu,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'address',
      c.macAddress,
      'netns',
      c.netns,
    ],
    `creating the veth pair ${c.hostVeth}`,
  );
  await must(
    'ip',
    ['-batch', '-'],
    `attaching ${c.hostVeth} to ${c.bridge}`,
    `link set ${c.hostVeth} master ${c.bridge}\nlink set ${c.hostVeth} up\n`,
  );
  const inside = [
    `addr add ${c.addressCidr} dev eth0`,
    'link set eth0 up',
    `route add default via ${c.gateway} dev eth0`,
  ].join('\n');
  await must(
    'nsenter',
    [`--net=${c.netns}`, 'ip', '-batch', '-'],
    `configuring eth0 in ${c.netns}`,
    `${inside}\n`,
  );
}

/** Deletes a link of the host namespace (its veth peer goes with it); idempotent. */
export async function deleteLink(name: string): Promise<void> {
  if (!(await linkExists(name))) return;
  const r = await runCommand('ip', ['link', 'del', name]);
  if (r.code !== 0 && (await linkExists(name))) {
    throw internal(`cannot delete the link ${name}: ${r.stderr.trim()}`);
  }
}
