/**
 * The runtime bundle's `config.json` (runtime-spec config.md, config-linux.md): the fields lab
 * produces and reads are typed; everything else (platform sections for FreeBSD, Windows,
 * z/OS, VMs, and future fields) is kept as it is by loose objects.
 */
import { z } from 'zod';
import { AnnotationsSchema } from './descriptor.js';
import type { JsonInput } from './validate.js';
import { parseWithSchema } from './validate.js';

/** The runtime-spec version lab writes into `ociVersion`. */
export const RUNTIME_SPEC_VERSION = '1.1.0';

const Uint32 = z.number().int().nonnegative().max(0xffffffff);
/**
 * A 64-bit integer. JSON.parse turns values beyond 2^53 (e.g. an unlimited memory limit
 * written as 9223372036854775807) into inexact numbers; they are accepted as integers, not
 * rejected, since zod's `.int()` stops at the safe range.
 */
const Int64 = z.number().refine(Number.isInteger, { error: 'expected an integer' });
const Uint64 = Int64.refine((n) => n >= 0, { error: 'expected a non-negative integer' });
const StringArray = z.array(z.string());

/** A uid/gid mapping of a user namespace or an idmapped mount. */
export const IdMappingSchema = z.looseObject({ containerID: Uint32, hostID: Uint32, size: Uint32 });
/** A uid/gid mapping. */
export type IdMapping = z.infer<typeof IdMappingSchema>;

/** A hook: an absolute path, argv (including argv[0]), env and a timeout in seconds. */
export const HookSchema = z.looseObject({
  path: z.string(),
  args: StringArray.optional(),
  env: StringArray.optional(),
  timeout: z.number().int().positive().optional(),
});
/** A lifecycle hook. */
export type Hook = z.infer<typeof HookSchema>;

/** The lifecycle hooks, each run in order with the state JSON on stdin. */
export const HooksSchema = z.looseObject({
  prestart: z.array(HookSchema).optional(),
  createRuntime: z.array(HookSchema).optional(),
  createContainer: z.array(HookSchema).optional(),
  startContainer: z.array(HookSchema).optional(),
  poststart: z.array(HookSchema).optional(),
  poststop: z.array(HookSchema).optional(),
});
/** The lifecycle hooks of a container. */
export type Hooks = z.infer<typeof HooksSchema>;

/** A mount in the container. */
export const MountSchema = z.looseObject({
  destination: z.string(),
  source: z.string().optional(),
  type: z.string().optional(),
  options: StringArray.optional(),
  uidMappings: z.array(IdMappingSchema).optional(),
  gidMappings: z.array(IdMappingSchema).optional(),
});
/** A mount in the container. */
export type Mount = z.infer<typeof MountSchema>;

/** The user the process runs as. */
export const UserSchema = z.looseObject({
  uid: Uint32,
  gid: Uint32,
  umask: Uint32.optional(),
  additionalGids: z.array(Uint32).optional(),
  username: z.string().optional(),
});
/** The user of the container process. */
export type User = z.infer<typeof UserSchema>;

/** Linux capability sets of the process. */
export const CapabilitiesSchema = z.looseObject({
  bounding: StringArray.optional(),
  effective: StringArray.optional(),
  inheritable: StringArray.optional(),
  permitted: StringArray.optional(),
  ambient: StringArray.optional(),
});
/** Linux capability sets. */
export type Capabilities = z.infer<typeof CapabilitiesSchema>;

/** A resource limit (`RLIMIT_NOFILE`, …). */
export const RlimitSchema = z.looseObject({
  type: z.string(),
  soft: Uint64,
  hard: Uint64,
});
/** A POSIX resource limit. */
export type Rlimit = z.infer<typeof RlimitSchema>;

/** The container process. `cwd` is required; `args` is required for `start`. */
export const ProcessSchema = z.looseObject({
  terminal: z.boolean().optional(),
  consoleSize: z.looseObject({ height: Uint32, width: Uint32 }).optional(),
  user: UserSchema.optional(),
  args: StringArray.optional(),
  commandLine: z.string().optional(),
  env: StringArray.optional(),
  cwd: z.string(),
  capabilities: CapabilitiesSchema.optional(),
  rlimits: z.array(RlimitSchema).optional(),
  noNewPrivileges: z.boolean().optional(),
  apparmorProfile: z.string().optional(),
  oomScoreAdj: z.number().int().optional(),
  selinuxLabel: z.string().optional(),
});
/** The container process. */
export type Process = z.infer<typeof ProcessSchema>;

/** The root filesystem, relative to the bundle or absolute. */
export const RootSchema = z.looseObject({ path: z.string(), readonly: z.boolean().optional() });
/** The root filesystem of the bundle. */
export type Root = z.infer<typeof RootSchema>;

/** The Linux namespace types. */
export const NAMESPACE_TYPES = [
  'mount',
  'pid',
  'network',
  'uts',
  'ipc',
  'user',
  'cgroup',
  'time',
] as const;
/** A Linux namespace type. */
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

/** A namespace to create (no `path`) or join (`path` of `/proc/<pid>/ns/<type>`). */
export const NamespaceSchema = z.looseObject({
  type: z.enum(NAMESPACE_TYPES),
  path: z.string().optional(),
});
/** A Linux namespace of the container. */
export type Namespace = z.infer<typeof NamespaceSchema>;

/** A device node to create in the container. */
export const LinuxDeviceSchema = z.looseObject({
  type: z.enum(['c', 'b', 'u', 'p']),
  path: z.string(),
  major: Int64.optional(),
  minor: Int64.optional(),
  fileMode: Uint32.optional(),
  uid: Uint32.optional(),
  gid: Uint32.optional(),
});
/** A device node in the container. */
export type LinuxDevice = z.infer<typeof LinuxDeviceSchema>;

/** A device cgroup rule. */
export const DeviceCgroupSchema = z.looseObject({
  allow: z.boolean(),
  type: z.string().optional(),
  major: Int64.optional(),
  minor: Int64.optional(),
  access: z.string().optional(),
});

/** cgroup resource limits (memory, cpu, pids, devices, hugepages, rdma, …). */
export const LinuxResourcesSchema = z.looseObject({
  devices: z.array(DeviceCgroupSchema).optional(),
  memory: z
    .looseObject({
      limit: Int64.optional(),
      reservation: Int64.optional(),
      swap: Int64.optional(),
      kernel: Int64.optional(),
      kernelTCP: Int64.optional(),
      swappiness: Uint64.optional(),
      disableOOMKiller: z.boolean().optional(),
    })
    .optional(),
  cpu: z
    .looseObject({
      shares: Uint64.optional(),
      quota: Int64.optional(),
      period: Uint64.optional(),
      cpus: z.string().optional(),
      mems: z.string().optional(),
    })
    .optional(),
  pids: z.looseObject({ limit: Int64 }).optional(),
  hugepageLimits: z
    .array(
      z.looseObject({
        pageSize: z.string().regex(/^[1-9][0-9]*[KMG]B$/, {
          error: (issue) =>
            `invalid hugepage size ${JSON.stringify(issue.input)}: expected e.g. 2MB or 1GB`,
        }),
        limit: Uint64,
      }),
    )
    .optional(),
  rdma: z
    .record(
      z.string(),
      z.looseObject({ hcaHandles: Uint32.optional(), hcaObjects: Uint32.optional() }),
    )
    .optional(),
  unified: z.record(z.string(), z.string()).optional(),
});
/** cgroup resource limits. */
export type LinuxResources = z.infer<typeof LinuxResourcesSchema>;

/** A seccomp filter. */
export const SeccompSchema = z.looseObject({
  defaultAction: z.string(),
  defaultErrnoRet: Uint32.optional(),
  architectures: StringArray.optional(),
  flags: StringArray.optional(),
  syscalls: z
    .array(
      z.looseObject({
        names: StringArray,
        action: z.string(),
        errnoRet: Uint32.optional(),
        args: z
          .array(
            z.looseObject({
              index: Uint32,
              value: Uint64,
              valueTwo: Uint64.optional(),
              op: z.string(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
});
/** A seccomp filter. */
export type Seccomp = z.infer<typeof SeccompSchema>;

/** The Linux section of `config.json`. */
export const LinuxSchema = z.looseObject({
  namespaces: z.array(NamespaceSchema).optional(),
  uidMappings: z.array(IdMappingSchema).optional(),
  gidMappings: z.array(IdMappingSchema).optional(),
  devices: z.array(LinuxDeviceSchema).optional(),
  netDevices: z.record(z.string(), z.looseObject({ name: z.string().optional() })).optional(),
  cgroupsPath: z.string().optional(),
  resources: LinuxResourcesSchema.optional(),
  sysctl: z.record(z.string(), z.string()).optional(),
  seccomp: SeccompSchema.optional(),
  rootfsPropagation: z.enum(['private', 'shared', 'slave', 'unbindable']).optional(),
  maskedPaths: StringArray.optional(),
  readonlyPaths: StringArray.optional(),
  mountLabel: z.string().optional(),
});
/** The Linux-specific part of a runtime config. */
export type Linux = z.infer<typeof LinuxSchema>;

/** A runtime bundle's `config.json`. */
export const RuntimeSpecSchema = z.looseObject({
  ociVersion: z.string(),
  process: ProcessSchema.optional(),
  root: RootSchema.optional(),
  hostname: z.string().optional(),
  domainname: z.string().optional(),
  mounts: z.array(MountSchema).optional(),
  hooks: HooksSchema.optional(),
  annotations: AnnotationsSchema.optional(),
  linux: LinuxSchema.optional(),
});
/** A runtime bundle's `config.json` (runtime-spec "Spec"). */
export type RuntimeSpec = z.infer<typeof RuntimeSpecSchema>;

/** Parses and validates a bundle's `config.json`; throws invalid-argument naming the field path. */
export function parseRuntimeSpec(json: JsonInput, source?: string): RuntimeSpec {
  return parseWithSchema(RuntimeSpecSchema, json, 'config', source);
}

/** The file name of a bundle's runtime config. */
export const BUNDLE_CONFIG_FILE = 'config.json';

/** The default PATH, as Docker and runc set it. */
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The default capabilities of a container (Docker's default set). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Paths masked in the container (as `runc spec` and Docker do). */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/proc/scsi',
];

/** Paths made read-only in the container (as `runc spec` and Docker do). */
export const DEFAULT_READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

/** What {@link createRuntimeSpec} accepts; everything has the defaults of `runc spec`. */
export interface RuntimeSpecInit {
  /** argv of the process; default `["sh"]`. */
  args?: readonly string[];
  /** Environment; default PATH only. */
  env?: readonly string[];
  /** Working directory; default `/`. */
  cwd?: string;
  /** User; default root (0:0). */
  user?: User;
  /** Allocate a terminal; default false. */
  terminal?: boolean;
  /** Root filesystem path; default `rootfs`. */
  rootPath?: string;
  /** Read-only root; default false. */
  readonlyRoot?: boolean;
  /** Hostname; default none. */
  hostname?: string;
  /** Extra mounts, appended after the default ones. */
  mounts?: readonly Mount[];
  /** Namespaces; default pid, network, ipc, uts, mount, cgroup. */
  namespaces?: readonly Namespace[];
  /** cgroup path; default none (the runtime picks one). */
  cgroupsPath?: string;
  /** Annotations. */
  annotations?: Record<string, string>;
  /** Hooks. */
  hooks?: Hooks;
}

/** The default mounts of a Linux container (`runc spec`'s set). */
export function defaultMounts(): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
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
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
    },
    {
      destination: '/dev/mqueue',
      type: 'mqueue',
      source: 'mqueue',
      options: ['nosuid', 'noexec', 'nodev'],
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
      options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
    },
  ];
}

/**
 * Builds a Linux runtime config with the defaults of `runc spec` (mounts, masked and
 * read-only paths, namespaces, capabilities, RLIMIT_NOFILE, noNewPrivileges), overridden by
 * `init`. The result validates against the runtime-spec schema.
 */
export function createRuntimeSpec(init: RuntimeSpecInit = {}): RuntimeSpec {
  const caps = [...DEFAULT_CAPABILITIES];
  return {
    ociVersion: RUNTIME_SPEC_VERSION,
    process: {
      terminal: init.terminal ?? false,
      user: init.user ?? { uid: 0, gid: 0 },
      args: [...(init.args ?? ['sh'])],
      env: [...(init.env ?? [DEFAULT_PATH_ENV])],
      cwd: init.cwd ?? '/',
      capabilities: { bounding: caps, effective: [...caps], permitted: [...caps] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }],
      noNewPrivileges: true,
    },
    root: { path: init.rootPath ?? 'rootfs', readonly: init.readonlyRoot ?? false },
    ...(init.hostname === undefined ? {} : { hostname: init.hostname }),
    mounts: [...defaultMounts(), ...(init.mounts ?? [])],
    ...(init.hooks === undefined ? {} : { hooks: init.hooks }),
    ...(init.annotations === undefined ? {} : { annotations: init.annotations }),
    linux: {
      namespaces: [
        ...(init.namespaces ?? [
          { type: 'pid' },
          { type: 'network' },
          { type: 'ipc' },
          { type: 'uts' },
          { type: 'mount' },
          { type: 'cgroup' },
        ]),
      ],
      ...(init.cgroupsPath === undefined ? {} : { cgroupsPath: init.cgroupsPath }),
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
}
