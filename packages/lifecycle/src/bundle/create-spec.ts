/**
 * Image config + run options → runtime-spec `config.json`, following docker's rules (moby
 * `daemon/oci_linux.go`, `oci/defaults.go`, the create-time merge of the user's config with
 * the image's):
 *
 * - args: with no `entrypoint` option the image's ENTRYPOINT is kept and `cmd` (or, when
 *   empty, the image's CMD) follows it; `entrypoint: []` (docker's `--entrypoint ''`) clears
 *   ENTRYPOINT and keeps the CMD rule; a non-empty `entrypoint` replaces ENTRYPOINT and drops
 *   the image's CMD (only `cmd` follows).
 * - env: `PATH` (docker's default, replaced in place by the image's), `HOSTNAME`, `TERM=xterm` with a tty, then
 *   the image's Env, then `env` (later names replace earlier ones in place); `HOME` from passwd
 *   when still unset (runc does this at init).
 * - user: resolved against the rootfs's /etc/passwd and /etc/group (see `resolveUser`).
 * - hostname: the first 12 characters of the id unless given (the host's with host networking).
 * - mounts: proc, /dev tmpfs, devpts, shm (64 MiB), mqueue, sysfs (ro), cgroup (ro), then the
 *   etc files, tmpfs and binds of the options; docker's default capabilities, masked and
 *   read-only paths, device cgroup rules; namespaces pid, ipc, uts, mount and network (none
 *   for `network: {mode:'host'}`, a path for `{mode:'path'}`).
 * - rlimits: RLIMIT_NOFILE soft = hard = min(1048576, the caller's hard limit): docker's
 *   1048576 fails without CAP_SYS_RESOURCE when the engine's own hard limit is lower.
 */
import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import type { ImageConfig, Mount, Namespace, Rlimit, RuntimeSpec } from '@lab/oci';
import {
  DEFAULT_CAPABILITIES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_PATH_ENV,
  DEFAULT_READONLY_PATHS,
  RUNTIME_SPEC_VERSION,
  invalidArgument,
} from '@lab/oci';
import type { EtcFiles } from './etc-files.js';
export type { ResolvConf } from './etc-files.js';
import { resolveUser } from './user.js';

/** How the container is networked. */
export type NetworkMode =
  | { mode: 'none' }
  | { mode: 'host' }
  /** Join an existing network namespace (a `/proc/<pid>/ns/net` or a bind-mounted nsfs file). */
  | { mode: 'path'; path: string };

/** A bind mount from the host (`-v /src:/dst[:ro]`). */
export interface BindMount {
  source: string;
  destination: string;
  readonly?: boolean;
  /** Mount propagation; default `rprivate`. */
  propagation?: 'rprivate' | 'private' | 'rslave' | 'slave' | 'rshared' | 'shared';
}

/** A tmpfs mount (`--tmpfs /dst:opts`). */
export interface TmpfsMount {
  destination: string;
  /** tmpfs options such as `size=64m`, `mode=1777`; docker's defaults are added. */
  options?: readonly string[];
}

/** Everything `docker run` adds on top of the image config. */
export interface RunOptions {
  /** The container id; its first 12 characters are the default hostname. */
  id: string;
  /** Absolute host path of the prepared root filesystem (users are resolved in it). */
  rootfs: string;
  /** `root.path` to write; default the absolute `rootfs`. */
  rootPath?: string;
  /** Replaces ENTRYPOINT; `[]` clears it (`--entrypoint ''`); undefined keeps the image's. */
  entrypoint?: readonly string[];
  /** The arguments after the image name; undefined or `[]` uses the image's CMD (see above). */
  cmd?: readonly string[];
  /** `-e NAME=value` entries. */
  env?: readonly string[];
  /** `-w`; default the image's WorkingDir, else `/`. */
  workdir?: string;
  /** `-u name|uid[:group|gid]`; default the image's User, else root. */
  user?: string;
  /** `--group-add`. */
  groupAdd?: readonly string[];
  hostname?: string;
  domainname?: string;
  /** `-t`: allocate a terminal (and set TERM=xterm). */
  tty?: boolean;
  /** Default `{ mode: 'none' }`: a new network namespace with only loopback. */
  network?: NetworkMode;
  /** `--cgroupns`; default `host` (docker's default on cgroup v1). */
  cgroupns?: 'host' | 'private';
  /** `--read-only`. */
  readonlyRootfs?: boolean;
  /** `--security-opt no-new-privileges`; default false, as docker. */
  noNewPrivileges?: boolean;
  /** `--cap-add` (`NET_ADMIN`, `CAP_NET_ADMIN` or `ALL`). */
  capAdd?: readonly string[];
  /** `--cap-drop` (names or `ALL`). */
  capDrop?: readonly string[];
  /** `-m`, bytes. */
  memory?: number;
  /** `--memory-swap`, bytes of memory + swap; -1 unlimited; default twice `memory`. */
  memorySwap?: number;
  /** `--cpus`: quota = cpus × period (100 ms). */
  cpus?: number;
  /** `--cpu-shares`. */
  cpuShares?: number;
  /** `--pids-limit`. */
  pidsLimit?: number;
  /** `--shm-size`, bytes; default 64 MiB. */
  shmSize?: number;
  tmpfs?: readonly TmpfsMount[];
  binds?: readonly BindMount[];
  /** The files from `writeEtcFiles`, bind-mounted over /etc/hostname, /etc/hosts, /etc/resolv.conf. */
  etcFiles?: EtcFiles;
  /**
   * `--init`: host path of a static init (e.g. `/usr/bin/tini-static` from Debian's `tini`),
   * bind-mounted read-only at `/sbin/docker-init` and run as PID 1 in front of the args.
   */
  init?: string;
  /** `--ulimit`, replacing defaults of the same type. */
  rlimits?: readonly Rlimit[];
  /** Extra annotations (after the image's). */
  annotations?: Record<string, string>;
  /** Default `/lab/<id>`. */
  cgroupsPath?: string;
  /** Default: read from /proc/self/limits (the engine's own hard RLIMIT_NOFILE, at most 1048576). */
  nofileLimit?: number;
}

/** Where `--init` puts the init binary in the container (docker's path). */
export const INIT_PATH = '/sbin/docker-init';

/** The default `/dev/shm` size (docker's 64 MiB). */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** docker's extra masked path on top of runc's list. */
const MASKED_PATHS = [...DEFAULT_MASKED_PATHS, '/sys/devices/virtual/powercap'];

/** docker's default device cgroup rules (moby `oci/defaults.go` + `oci/devices_linux.go`). */
const DEVICE_RULES = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  ...(
    [
      [1, 3],
      [1, 5],
      [1, 7],
      [1, 8],
      [1, 9],
      [5, 0],
      [5, 1],
      [5, 2],
      [10, 200],
    ] as const
  ).map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

/** The capability names of the kernel (index = number), for `ALL` and validation. */
export const CAPABILITY_NAMES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

function normalizeCap(name: string): string {
  const upper = name.toUpperCase();
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (full !== 'CAP_ALL' && !(CAPABILITY_NAMES as readonly string[]).includes(full)) {
    throw invalidArgument(
      `unknown capability "${name}": expected a name such as NET_ADMIN or ALL`,
      {
        details: { capability: name },
      },
    );
  }
  return full;
}

/** docker's `--cap-add`/`--cap-drop` arithmetic over the default set. */
export function capabilitySet(
  capAdd: readonly string[] = [],
  capDrop: readonly string[] = [],
): string[] {
  const add = capAdd.map(normalizeCap);
  const drop = capDrop.map(normalizeCap);
  let caps = new Set<string>(add.includes('CAP_ALL') ? CAPABILITY_NAMES : DEFAULT_CAPABILITIES);
  if (drop.includes('CAP_ALL')) caps = new Set();
  for (const cap of drop) caps.delete(cap);
  for (const cap of add) if (cap !== 'CAP_ALL') caps.add(cap);
  return CAPABILITY_NAMES.filter((c) => caps.has(c));
}

function envName(entry: string): string {
  const eq = entry.indexOf('=');
  return eq < 0 ? entry : entry.slice(0, eq);
}

/** Replaces entries with the same name in place, appends new ones (moby's ReplaceOrAppendEnvValues). */
export function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const out = [...base];
  for (const entry of overrides) {
    if (entry.indexOf('=') <= 0) {
      throw invalidArgument(`invalid environment entry "${entry}": expected NAME=value`, {
        details: { env: entry },
      });
    }
    const index = out.findIndex((e) => envName(e) === envName(entry));
    if (index < 0) out.push(entry);
    else out[index] = entry;
  }
  return out;
}

/** docker's merge of `--entrypoint`/args with the image's ENTRYPOINT/CMD. */
export function processArgs(
  image: {
    Entrypoint?: readonly string[] | null | undefined;
    Cmd?: readonly string[] | null | undefined;
  },
  entrypoint: readonly string[] | undefined,
  cmd: readonly string[] | undefined,
): string[] {
  const userCmd = cmd ?? [];
  let ep: readonly string[];
  let args: readonly string[];
  if (entrypoint === undefined) {
    ep = image.Entrypoint ?? [];
    args = userCmd.length > 0 ? userCmd : (image.Cmd ?? []);
  } else if (entrypoint.length === 0 || (entrypoint.length === 1 && entrypoint[0] === '')) {
    ep = [];
    args = userCmd.length > 0 ? userCmd : (image.Cmd ?? []);
  } else {
    ep = entrypoint;
    args = userCmd;
  }
  const all = [...ep, ...args];
  if (all.length === 0) {
    throw invalidArgument(
      'no command specified: the image has no ENTRYPOINT or CMD; give a command after the image name',
    );
  }
  return all;
}

async function hostNofileLimit(): Promise<number> {
  try {
    const text = await readFile('/proc/self/limits', 'utf8');
    const line = text.split('\n').find((l) => l.startsWith('Max open files'));
    const hard = line?.trim().split(/\s+/)[4];
    if (hard !== undefined && /^[0-9]+$/.test(hard)) return Math.min(1048576, Number(hard));
  } catch {
    // not Linux: keep docker's value
  }
  return 1048576;
}

function standardMounts(shmSize: number): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    {
      destination: '/sys',
      type: 'sysfs',
      source: 'sysfs',
      options: ['nosuid', 'noexec', 'nodev', 'ro'],
    },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['ro', 'nosuid', 'noexec', 'nodev'],
    },
    {
      destination: '/dev/mqueue',
      type: 'mqueue',
      source: 'mqueue',
      options: ['nosuid', 'noexec', 'nodev'],
    },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`],
    },
  ];
}

function checkAbsolute(path: string, what: string): void {
  if (!path.startsWith('/')) {
    throw invalidArgument(`${what} "${path}" must be an absolute path`, { details: { path } });
  }
}

/** Builds the runtime config for running `image` with `options`. */
export async function createSpec(image: ImageConfig, options: RunOptions): Promise<RuntimeSpec> {
  const config = image.config ?? {};
  checkAbsolute(options.rootfs, 'rootfs');
  // docker: the id's first 12 characters; with host networking, the host's name
  const hostname =
    options.hostname ?? (options.network?.mode === 'host' ? osHostname() : options.id.slice(0, 12));
  const args = processArgs(config, options.entrypoint, options.cmd);
  if (options.init !== undefined) {
    checkAbsolute(options.init, 'init');
    args.unshift(INIT_PATH, '--');
  }

  const user = await resolveUser(
    options.rootfs,
    options.user ?? config.User ?? undefined,
    options.groupAdd,
  );
  const imageEnv = config.Env ?? [];
  // moby's CreateDaemonEnvironment: PATH first (replaced in place by the image's), then HOSTNAME
  const base = [
    DEFAULT_PATH_ENV,
    `HOSTNAME=${hostname}`,
    options.tty === true ? 'TERM=xterm' : undefined,
  ].filter((e): e is string => e !== undefined);
  let env = mergeEnv(mergeEnv(base, imageEnv), options.env ?? []);
  if (!env.some((e) => envName(e) === 'HOME')) env = [...env, `HOME=${user.home}`];

  const cwd =
    options.workdir ??
    (config.WorkingDir === undefined || config.WorkingDir === null || config.WorkingDir === ''
      ? '/'
      : config.WorkingDir);
  checkAbsolute(cwd, 'working directory');

  const caps = capabilitySet(options.capAdd, options.capDrop);
  const nofile = options.nofileLimit ?? (await hostNofileLimit());
  const rlimits: Rlimit[] = [{ type: 'RLIMIT_NOFILE', soft: nofile, hard: nofile }];
  for (const r of options.rlimits ?? []) {
    const i = rlimits.findIndex((x) => x.type === r.type);
    if (i < 0) rlimits.push({ ...r });
    else rlimits[i] = { ...r };
  }

  const mounts = standardMounts(options.shmSize ?? DEFAULT_SHM_SIZE);
  const etc = options.etcFiles ?? {};
  for (const [key, destination] of [
    ['resolvConf', '/etc/resolv.conf'],
    ['hostname', '/etc/hostname'],
    ['hosts', '/etc/hosts'],
  ] as const) {
    const source = etc[key];
    if (source !== undefined) {
      mounts.push({ destination, type: 'bind', source, options: ['rbind', 'rprivate'] });
    }
  }
  for (const t of options.tmpfs ?? []) {
    checkAbsolute(t.destination, 'tmpfs destination');
    mounts.push({
      destination: t.destination,
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'nodev', 'noexec', ...(t.options ?? [])],
    });
  }
  for (const b of options.binds ?? []) {
    checkAbsolute(b.source, 'bind source');
    checkAbsolute(b.destination, 'bind destination');
    mounts.push({
      destination: b.destination,
      type: 'bind',
      source: b.source,
      options: ['rbind', b.propagation ?? 'rprivate', ...(b.readonly === true ? ['ro'] : [])],
    });
  }
  if (options.init !== undefined) {
    mounts.push({
      destination: INIT_PATH,
      type: 'bind',
      source: options.init,
      options: ['bind', 'ro'],
    });
  }

  const network = options.network ?? { mode: 'none' };
  const namespaces: Namespace[] = [
    { type: 'pid' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
  ];
  if (network.mode === 'none') namespaces.push({ type: 'network' });
  else if (network.mode === 'path') {
    checkAbsolute(network.path, 'network namespace path');
    namespaces.push({ type: 'network', path: network.path });
  }
  if (options.cgroupns === 'private') namespaces.push({ type: 'cgroup' });

  const resources: NonNullable<NonNullable<RuntimeSpec['linux']>['resources']> = {
    devices: DEVICE_RULES,
  };
  if (options.memory !== undefined) {
    resources.memory = {
      limit: options.memory,
      swap: options.memorySwap ?? options.memory * 2,
    };
  }
  if (options.cpus !== undefined || options.cpuShares !== undefined) {
    resources.cpu = {
      ...(options.cpuShares === undefined ? {} : { shares: options.cpuShares }),
      ...(options.cpus === undefined
        ? {}
        : { quota: Math.round(options.cpus * 100000), period: 100000 }),
    };
  }
  if (options.pidsLimit !== undefined) resources.pids = { limit: options.pidsLimit };

  const annotations: Record<string, string> = {
    'org.opencontainers.image.os': image.os,
    'org.opencontainers.image.architecture': image.architecture,
  };
  if (config.StopSignal !== undefined && config.StopSignal !== null) {
    annotations['org.opencontainers.image.stopSignal'] = config.StopSignal;
  }
  const ports = Object.keys(config.ExposedPorts ?? {});
  if (ports.length > 0) annotations['org.opencontainers.image.exposedPorts'] = ports.join(',');
  Object.assign(annotations, config.Labels ?? {}, options.annotations ?? {});

  return {
    ociVersion: RUNTIME_SPEC_VERSION,
    process: {
      terminal: options.tty ?? false,
      user: {
        uid: user.uid,
        gid: user.gid,
        ...(user.additionalGids.length > 0 ? { additionalGids: user.additionalGids } : {}),
      },
      args,
      env,
      cwd,
      // A non-root user gets no effective or permitted capabilities, as after execve(2)
      // without file capabilities; the bounding set still limits what setuid binaries gain.
      capabilities:
        user.uid === 0
          ? { bounding: caps, effective: [...caps], permitted: [...caps] }
          : { bounding: caps, effective: [], permitted: [] },
      rlimits,
      noNewPrivileges: options.noNewPrivileges ?? false,
    },
    root: { path: options.rootPath ?? options.rootfs, readonly: options.readonlyRootfs ?? false },
    hostname,
    ...(options.domainname === undefined ? {} : { domainname: options.domainname }),
    mounts,
    annotations,
    linux: {
      namespaces,
      cgroupsPath: options.cgroupsPath ?? `/lab/${options.id}`,
      resources,
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
}
