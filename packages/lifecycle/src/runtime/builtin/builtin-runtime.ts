/**
 * The builtin runtime: real Linux isolation with nothing but util-linux, a static busybox and
 * the kernel (see init-script.ts for the process chain and capabilities.ts for the privilege
 * drop). Namespaces: pid, mount, uts, ipc, network, cgroup (new, or joined by path except
 * mount); cgroups v1/v2 via ../../cgroups; create/start split by an exec FIFO; exit status
 * through a keeper that writes `<root>/<id>/exit`.
 *
 * Terminals: util-linux `script` holds the pty master in the keeper chain (see create).
 *
 * Not supported (invalid-argument at create): user namespaces, joining a mount namespace,
 * hooks, seccomp (no BPF loader), AppArmor/SELinux labels. The argv[0] the
 * program sees is its resolved absolute path.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { access, constants as fsConstants, open, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Process, RuntimeSpec, RuntimeState } from '@lab/oci';
import { RUNTIME_SPEC_VERSION, failedPrecondition, internal, invalidArgument } from '@lab/oci';
import { secureJoin } from '../../bundle/secure-join.js';
import { readBundle } from '../../bundle/write-bundle.js';
import type { Cgroup, CgroupMode } from '../../cgroups/cgroup.js';
import { detectCgroupMode, openCgroup } from '../../cgroups/cgroup.js';
import { waitForExit } from '../exit-status.js';
import { runCommand } from '../command.js';
import { pinNetns, unpinNetns } from '../netns.js';
import { childrenOf, isSameProcessAlive, processStat, signalNumber } from '../process-info.js';
import type {
  CreateOptions,
  ExecOptions,
  ExecProcess,
  ExitStatus,
  Runtime,
  RuntimeStatus,
  Stdio,
} from '../runtime.js';
import { ALLOWED } from '../runtime.js';
import type { ContainerRecord } from '../state-store.js';
import {
  claimContainerDir,
  containerDir,
  listIds,
  readRecord,
  removeContainerDir,
  writeRecord,
} from '../state-store.js';
import type { InitPlan, MountStep } from './init-script.js';
import { CLOSE_FDS, initScript } from './init-script.js';
import type { HostTools } from './privileges.js';
import {
  DEFAULT_TOOLS,
  finalSetprivArgs,
  hostPrivilegePrefix,
  resolveProgram,
} from './privileges.js';
import { quote } from './shell.js';

/** Options of {@link createBuiltinRuntime}. */
export interface BuiltinRuntimeOptions {
  /** The state directory, e.g. `/run/lab/builtin`; one subdirectory per container. */
  root: string;
  /** Tool paths; default Debian's. */
  tools?: Partial<HostTools>;
  /** cgroup filesystem root; default `/sys/fs/cgroup`. */
  cgroupRoot?: string;
}

const EXIT_FILE = 'exit';
const FIFO = 'exec.fifo';
const NETNS = 'netns';

/** The keeper: runs the chain, then records its status (128+n when killed by signal n). */
const KEEPER = 'f=$1; shift; "$@"; c=$?; echo $c > "$f.tmp" && mv "$f.tmp" "$f"; exit $c';

const BUSYBOX_UNSHARE_FLAG: Record<string, string> = {
  pid: '-p',
  mount: '-m',
  uts: '-u',
  ipc: '-i',
  network: '-n',
};

/**
 * Moves this shell into each of the first $2 files (cgroup.procs), then execs the rest. A v1
 * migration waits for an RCU grace period, so eight in a row cost tens of ms: as PID 1 of a
 * new pid namespace ($1 = 1) the writes run in parallel subshells, which name their parent
 * "1"; otherwise ($1 = 0, "the writer itself") they run one after the other.
 */
const JOIN_CGROUP = [
  'self=$1; n=$2; shift 2; pids=',
  'while [ "$n" -gt 0 ]; do',
  '  if [ "$self" = 1 ]; then echo 1 > "$1" & pids="$pids $!"; else echo 0 > "$1" || exit 125; fi',
  '  shift; n=$((n-1))',
  'done',
  'for p in $pids; do wait "$p" || exit 125; done',
  'exec "$@"',
].join('\n');

const UTIL_LINUX_UNSHARE_FLAG: Record<string, string> = {
  cgroup: '--cgroup',
  time: '--time',
};

const NSENTER_FLAG: Record<string, string> = {
  pid: '--pid',
  uts: '--uts',
  ipc: '--ipc',
  network: '--net',
  cgroup: '--cgroup',
  time: '--time',
};

/** Host device nodes every container gets (runc's default set). */
const DEFAULT_DEVICES = [
  { name: 'null', major: 1, minor: 3 },
  { name: 'zero', major: 1, minor: 5 },
  { name: 'full', major: 1, minor: 7 },
  { name: 'random', major: 1, minor: 8 },
  { name: 'urandom', major: 1, minor: 9 },
  { name: 'tty', major: 5, minor: 0 },
];

/**
 * Whether a masked/read-only path exists, and is a directory: /proc and /sys paths are the
 * kernel's (checked on the host, where the same kernel serves them), others the rootfs's.
 */
async function kernelPathKind(rootfs: string, path: string): Promise<'dir' | 'file' | undefined> {
  const onHost = /^\/(proc|sys)(\/|$)/.test(path);
  try {
    const st = await stat(onHost ? path : await secureJoin(rootfs, path));
    return st.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/** The spec's bind mounts, as host sources by container destination. */
function bindsOf(
  spec: RuntimeSpec | undefined,
  bundle: string,
): { source: string; destination: string }[] {
  return (spec?.mounts ?? [])
    .filter(
      (m) => m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind'),
    )
    .map((m) => ({ destination: m.destination, source: resolve(bundle, m.source ?? '') }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function isStaticElf(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(64);
    await handle.read(header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2) return false;
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    await handle.read(table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) if (table.readUInt32LE(i * phentsize) === 3) return false; // PT_INTERP
    return true;
  } finally {
    await handle.close();
  }
}

function spawnStdio(stdio: Stdio | undefined): ('ignore' | 'inherit' | number)[] {
  return [...(stdio ?? ['ignore', 'ignore', 'ignore'])];
}

/** Creates the builtin runtime over the state directory `options.root`. */
export function createBuiltinRuntime(options: BuiltinRuntimeOptions): Runtime {
  const root = resolve(options.root);
  const tools: HostTools = { ...DEFAULT_TOOLS, ...options.tools };
  const cgroupRoot = options.cgroupRoot ?? '/sys/fs/cgroup';
  const keepers = new Map<string, Promise<void>>();
  let checkedTools: Promise<void> | undefined;
  let cgroupMode: Promise<CgroupMode> | undefined;

  const mode = () => (cgroupMode ??= detectCgroupMode(cgroupRoot));
  const cgroupOf = async (path: string): Promise<Cgroup> =>
    openCgroup(path, { root: cgroupRoot, mode: await mode() });

  function checkTools(): Promise<void> {
    checkedTools ??= (async () => {
      for (const [name, path] of Object.entries(tools) as [string, string][]) {
        try {
          await access(path, fsConstants.X_OK);
        } catch {
          throw failedPrecondition(
            `the builtin runtime needs ${name} at ${path}: install ${name === 'busybox' ? 'busybox-static' : 'util-linux'} or pass tools.${name}`,
            { details: { tool: name, path } },
          );
        }
      }
      if (!(await isStaticElf(tools.busybox))) {
        throw failedPrecondition(
          `${tools.busybox} is dynamically linked: the builtin runtime needs a static busybox (Debian: apt-get install busybox-static)`,
          { details: { busybox: tools.busybox } },
        );
      }
    })();
    return checkedTools;
  }

  async function statusOf(record: ContainerRecord): Promise<RuntimeStatus> {
    if (record.pid === 0) {
      // the provisional record of a create in progress (or one that crashed)
      return (await isSameProcessAlive(record.keeperPid, record.keeperStartTime))
        ? 'creating'
        : 'stopped';
    }
    if (!(await isSameProcessAlive(record.pid, record.pidStartTime))) return 'stopped';
    try {
      await access(join(containerDir(root, record.id), FIFO));
      return 'created';
    } catch {
      // started
    }
    const cgroup = await cgroupOf(record.cgroupsPath);
    return (await cgroup.frozen()) ? 'paused' : 'running';
  }

  async function stateOf(record: ContainerRecord): Promise<RuntimeState> {
    const status = await statusOf(record);
    return {
      ociVersion: record.ociVersion,
      id: record.id,
      status,
      pid: status === 'stopped' ? 0 : record.pid,
      bundle: record.bundle,
      ...(record.annotations === undefined ? {} : { annotations: record.annotations }),
    };
  }

  async function requireStatus(
    id: string,
    op: keyof typeof ALLOWED,
  ): Promise<{ record: ContainerRecord; status: RuntimeStatus }> {
    const record = await readRecord(root, id);
    const status = await statusOf(record);
    if (!ALLOWED[op].includes(status)) {
      throw failedPrecondition(
        `cannot ${op} container "${id}": it is ${status} (${op} needs ${ALLOWED[op].join(' or ')})`,
        { details: { id, status, operation: op } },
      );
    }
    return { record, status };
  }

  /** Mount steps for the spec's mounts, devices, masked/readonly paths and sysctls. */
  async function mountSteps(
    spec: RuntimeSpec,
    bundleDir: string,
    rootfs: string,
    cgroup: Cgroup,
  ): Promise<MountStep[]> {
    const steps: MountStep[] = [];
    let devTmpfs = false;
    for (const m of spec.mounts ?? []) {
      const target = await secureJoin(rootfs, m.destination);
      const opts = m.options ?? [];
      const isBind = m.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
      if (isBind) {
        if (m.source === undefined)
          throw invalidArgument(`bind mount ${m.destination} has no source`);
        const source = resolve(bundleDir, m.source);
        let file: boolean;
        try {
          file = !(await stat(source)).isDirectory();
        } catch (err) {
          throw invalidArgument(
            `bind mount source ${source} (for ${m.destination}) does not exist`,
            { cause: err },
          );
        }
        const propagation = opts.find((o) => /^r?(shared|slave|unbindable)$/.test(o));
        steps.push({
          kind: 'bind',
          source,
          target,
          file,
          recursive: opts.includes('rbind'),
          readonly: opts.includes('ro'),
          ...(propagation === undefined ? {} : { propagation }),
        });
      } else if (m.type === 'cgroup') {
        if ((await mode()) === 'v2') {
          steps.push({
            kind: 'fs',
            type: 'cgroup2',
            source: 'cgroup2',
            target,
            options: ['ro', 'nosuid', 'nodev', 'noexec'],
          });
        } else {
          const binds = cgroup.dirs.map((d) => ({
            controller: d.slice(cgroupRoot.length + 1).split('/')[0] ?? '',
            source: d,
          }));
          steps.push({ kind: 'cgroup-v1', target, binds });
        }
      } else {
        const type = m.type ?? 'none';
        steps.push({ kind: 'fs', type, source: m.source ?? type, target, options: opts });
        if (m.destination === '/dev' && type === 'tmpfs') devTmpfs = true;
      }
    }
    if (devTmpfs) {
      const dev = await secureJoin(rootfs, '/dev');
      if (spec.process?.terminal === true) {
        const size = spec.process.consoleSize;
        steps.push({
          kind: 'console',
          target: join(dev, 'console'),
          ...(size === undefined ? {} : { rows: size.height, cols: size.width }),
        });
      }
      // bind the host's nodes (runc's rootless way; the device cgroup still governs access)
      for (const d of DEFAULT_DEVICES) {
        steps.push({
          kind: 'bind',
          source: `/dev/${d.name}`,
          target: join(dev, d.name),
          file: true,
          recursive: false,
          readonly: false,
        });
      }
      for (const [name, link] of [
        ['fd', '/proc/self/fd'],
        ['stdin', '/proc/self/fd/0'],
        ['stdout', '/proc/self/fd/1'],
        ['stderr', '/proc/self/fd/2'],
        ['ptmx', 'pts/ptmx'],
      ] as const) {
        steps.push({ kind: 'symlink', target: join(dev, name), link });
      }
    }
    for (const d of spec.linux?.devices ?? []) {
      steps.push({
        kind: 'device',
        target: await secureJoin(rootfs, d.path),
        type: d.type === 'u' ? 'c' : d.type,
        major: d.major ?? 0,
        minor: d.minor ?? 0,
        mode: d.fileMode ?? 0o666,
      });
    }
    const proc = await secureJoin(rootfs, '/proc');
    for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {})) {
      steps.push({ kind: 'sysctl', file: join(proc, 'sys', ...key.split('.')), value });
    }
    const newUts =
      spec.linux?.namespaces?.some((n) => n.type === 'uts' && n.path === undefined) === true;
    if (spec.domainname !== undefined && newUts) {
      // busybox has no domainname setter: the kernel's file, in the new UTS namespace
      steps.push({
        kind: 'sysctl',
        file: join(proc, 'sys', 'kernel', 'domainname'),
        value: spec.domainname,
      });
    }
    for (const p of spec.linux?.maskedPaths ?? []) {
      const kind = await kernelPathKind(rootfs, p);
      if (kind !== undefined) {
        steps.push({
          kind: 'mask',
          target: await secureJoin(rootfs, p),
          directory: kind === 'dir',
        });
      }
    }
    for (const p of spec.linux?.readonlyPaths ?? []) {
      if ((await kernelPathKind(rootfs, p)) !== undefined) {
        steps.push({ kind: 'readonly', target: await secureJoin(rootfs, p) });
      }
    }
    return steps;
  }

  function checkSupported(spec: RuntimeSpec): Process {
    const process = spec.process;
    if (process === undefined) throw invalidArgument('config.json has no process: nothing to run');
    if (
      spec.hooks !== undefined &&
      Object.values(spec.hooks).some((h) => Array.isArray(h) && h.length > 0)
    ) {
      throw invalidArgument('hooks are not supported by the builtin runtime; use the runc runtime');
    }
    // refuse what would otherwise silently run with less confinement than asked for
    for (const [field, value] of [
      ['linux.seccomp', spec.linux?.seccomp],
      ['process.apparmorProfile', process.apparmorProfile],
      ['process.selinuxLabel', process.selinuxLabel],
    ] as const) {
      if (value !== undefined && value !== '') {
        throw invalidArgument(
          `${field} is not supported by the builtin runtime; use the runc runtime`,
          {
            details: { field },
          },
        );
      }
    }
    const nss = spec.linux?.namespaces ?? [];
    if (nss.some((n) => n.type === 'user'))
      throw invalidArgument('user namespaces are not supported by the builtin runtime yet');
    const mountNs = nss.find((n) => n.type === 'mount');
    if (mountNs === undefined || mountNs.path !== undefined) {
      throw invalidArgument(
        'the builtin runtime needs a new mount namespace (linux.namespaces: {type: "mount"} without path)',
      );
    }
    return process;
  }

  async function killProcessTree(
    record: ContainerRecord,
    cgroup: Cgroup | undefined,
  ): Promise<void> {
    if (record.pid === 0 && (await isSameProcessAlive(record.keeperPid, record.keeperStartTime))) {
      // a crashed create: the keeper leads a process group holding the whole chain
      try {
        process.kill(-record.keeperPid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (await isSameProcessAlive(record.pid, record.pidStartTime)) {
      try {
        process.kill(record.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (cgroup !== undefined) {
      await cgroup.thaw().catch(() => undefined);
      for (const pid of await cgroup.pids()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    for (
      let i = 0;
      i < 500 && (await isSameProcessAlive(record.keeperPid, record.keeperStartTime));
      i++
    )
      await sleep(10);
  }

  const runtime: Runtime = {
    name: 'builtin',
    features: { pause: true, terminal: true, cgroups: true },

    async create(id, bundleDir, createOptions: CreateOptions = {}) {
      createOptions.signal?.throwIfAborted();
      await checkTools();
      const bundle = resolve(bundleDir);
      const spec = await readBundle(bundle);
      const proc = checkSupported(spec);
      if (spec.root === undefined)
        throw invalidArgument('config.json has no root: set root.path to the rootfs');
      const rootfs = resolve(bundle, spec.root.path);
      try {
        if (!(await stat(rootfs)).isDirectory()) throw new Error('not a directory');
      } catch (err) {
        throw invalidArgument(
          `root.path ${rootfs} is not a directory: prepare the rootfs before create`,
          { cause: err },
        );
      }
      const program = await resolveProgram(rootfs, proc, bindsOf(spec, bundle));
      const dir = await claimContainerDir(root, id);
      const cgroupsPath = spec.linux?.cgroupsPath ?? `/lab/${id}`;
      let cgroup: Cgroup | undefined;
      let child: ChildProcess | undefined;
      let initPid = 0;
      try {
        cgroup = await cgroupOf(cgroupsPath);
        await cgroup.create();
        await cgroup.apply(spec.linux?.resources);

        const namespaces = spec.linux?.namespaces ?? [];
        // busybox's unshare forks and passes a signal death on (util-linux 2.38.1's loses it:
        // "sigprocmask unblock failed"); util-linux's covers the types busybox lacks
        const forkFlags = ['unshare', '-f', '--propagation', 'private'];
        const extraFlags: string[] = [];
        const joins: string[] = [];
        for (const ns of namespaces) {
          if (ns.path === undefined) {
            const flag = BUSYBOX_UNSHARE_FLAG[ns.type];
            if (flag !== undefined) forkFlags.push(flag);
            else if (UTIL_LINUX_UNSHARE_FLAG[ns.type] !== undefined)
              extraFlags.push(UTIL_LINUX_UNSHARE_FLAG[ns.type] ?? '');
          } else {
            const flag = NSENTER_FLAG[ns.type];
            if (flag === undefined)
              throw invalidArgument(
                `the builtin runtime cannot join a ${ns.type} namespace by path`,
              );
            joins.push(`${flag}=${ns.path}`);
          }
        }
        const newNet = namespaces.some((n) => n.type === 'network' && n.path === undefined);
        const newUts = namespaces.some((n) => n.type === 'uts' && n.path === undefined);
        const plan: InitPlan = {
          rootfs,
          fifo: join(dir, FIFO),
          mount: tools.mount,
          fstabDir: dir,
          steps: await mountSteps(spec, bundle, rootfs, cgroup),
          ...(newUts && spec.hostname !== undefined ? { hostname: spec.hostname } : {}),
          loopback: newNet,
          readonlyRoot: spec.root.readonly === true,
          cwd: proc.cwd,
          finalSetpriv: finalSetprivArgs(proc),
          uid: proc.user?.uid ?? 0,
          env: proc.env ?? [],
          program,
          args: proc.args?.slice(1) ?? [],
        };
        const prefix = await hostPrivilegePrefix(tools, proc);
        const init = initScript(plan);
        for (const file of init.files) await writeFile(file.path, file.content, { mode: 0o600 });
        const exitFile = join(dir, EXIT_FILE);
        const chain = [
          ...prefix.rlimits,
          ...(joins.length > 0 ? [tools.nsenter, ...joins, '--'] : []),
          // a new time namespace applies to children: before the fork
          ...(extraFlags.includes('--time') ? [tools.unshare, '--time', '--'] : []),
          tools.busybox,
          ...forkFlags,
          '--',
          // PID 1 joins its cgroup first ("0" = the writer), so the setup and everything after
          // is limited and accounted, and a new cgroup namespace is rooted at the container's
          tools.busybox,
          'sh',
          '-c',
          JOIN_CGROUP,
          'lab-join',
          namespaces.some((n) => n.type === 'pid' && n.path === undefined) ? '1' : '0',
          String(cgroup.procsFiles().length),
          ...cgroup.procsFiles(),
          ...(extraFlags.includes('--cgroup') ? [tools.unshare, '--cgroup', '--'] : []),
          ...prefix.caps,
          tools.busybox,
          'sh',
          '-c',
          init.script,
          'lab-init',
        ];
        // a terminal: util-linux `script` holds the pty master and relays it to the given
        // stdio, the chain runs on the slave (its session and controlling terminal)
        const argv = [
          'sh',
          '-c',
          KEEPER,
          'lab-keeper',
          exitFile,
          ...(proc.terminal === true
            ? [tools.script, '-q', '-e', '-c', `exec ${chain.map(quote).join(' ')}`, '/dev/null']
            : chain),
        ];
        const spawned = spawn(tools.busybox, argv, {
          stdio: [...spawnStdio(createOptions.stdio), 'pipe'],
          detached: true,
          env: {},
        });
        child = spawned;
        const exited = new Promise<void>((resolveExit) =>
          spawned.once('exit', () => {
            resolveExit();
          }),
        );
        // a provisional record (pid 0 = creating), so a crash during create leaves something
        // `delete` with force can find and kill (the keeper's process group)
        const keeperPid = spawned.pid ?? 0;
        const keeperStat = await processStat(keeperPid);
        const record: ContainerRecord = {
          id,
          bundle,
          rootfs,
          pid: 0,
          pidStartTime: 0,
          keeperPid,
          keeperStartTime: keeperStat?.startTime ?? 0,
          exitFile,
          cgroupsPath,
          ...(newNet ? { netns: join(dir, NETNS) } : {}),
          created: new Date().toISOString(),
          ...(spec.annotations === undefined ? {} : { annotations: spec.annotations }),
          ociVersion: RUNTIME_SPEC_VERSION,
        };
        await writeRecord(root, record);
        const status = spawned.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
        initPid = await new Promise<number>((resolveReady, rejectReady) => {
          let text = '';
          const onAbort = () => {
            rejectReady(new Error(`create of container "${id}" was aborted`));
          };
          createOptions.signal?.addEventListener('abort', onAbort, { once: true });
          status.setEncoding('utf8');
          status.on('data', (chunk: string) => {
            text += chunk;
            const match = /^ready ([0-9]+)$/m.exec(text);
            if (match !== null) resolveReady(Number(match[1]));
          });
          spawned.once('error', rejectReady);
          void exited.then(() => {
            rejectReady(
              invalidArgument(
                `the builtin runtime could not create container "${id}": ${text.trim() === '' ? 'the init exited during setup' : text.trim()}`,
                { details: { id, bundle } },
              ),
            );
          });
        });
        status.destroy();
        spawned.unref();
        const initStat = await processStat(initPid);
        if (initStat === undefined || keeperStat === undefined) {
          throw internal(`container "${id}" exited during create`);
        }
        // the netns is pinned on first use (netnsPath): most containers never need it
        record.pid = initPid;
        record.pidStartTime = initStat.startTime;
        if (proc.oomScoreAdj !== undefined) {
          // inherited by the program; lowering it needs CAP_SYS_RESOURCE, which fails loudly
          await writeFile(`/proc/${initPid}/oom_score_adj`, String(proc.oomScoreAdj));
        }
        await writeRecord(root, record);
        keepers.set(id, exited);
        if (createOptions.pidFile !== undefined)
          await writeFile(createOptions.pidFile, String(initPid));
        return await stateOf(record);
      } catch (err) {
        if (initPid > 0) {
          try {
            process.kill(initPid, 'SIGKILL');
          } catch {
            // gone
          }
        }
        if (child?.exitCode === null && child.signalCode === null) {
          const exiting = new Promise((r) => child?.once('exit', r));
          try {
            // the keeper leads a process group holding the whole chain
            if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          } catch {
            // gone
          }
          await exiting;
        }
        await unpinNetns(join(dir, NETNS)).catch(() => undefined);
        await cgroup?.destroy().catch(() => undefined);
        await removeContainerDir(root, id);
        throw err;
      }
    },

    async start(id) {
      await requireStatus(id, 'start');
      const fifo = join(containerDir(root, id), FIFO);
      let handle;
      try {
        // non-blocking: fails with ENXIO instead of hanging when the init is gone
        handle = await open(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
      } catch (err) {
        throw failedPrecondition(
          `cannot start container "${id}": its init is not waiting on ${fifo}`,
          { cause: err },
        );
      }
      try {
        await handle.write('start\n');
      } finally {
        await handle.close();
      }
      await rm(fifo, { force: true });
    },

    async state(id) {
      return stateOf(await readRecord(root, id));
    },

    async list() {
      const out: RuntimeState[] = [];
      for (const id of await listIds(root)) {
        try {
          out.push(await stateOf(await readRecord(root, id)));
        } catch {
          // deleted meanwhile
        }
      }
      return out;
    },

    async kill(id, signal, killOptions = {}) {
      const { record } = await requireStatus(id, 'kill');
      const n = signalNumber(signal);
      if (killOptions.all === true) {
        const cgroup = await cgroupOf(record.cgroupsPath);
        for (const pid of await cgroup.pids()) {
          try {
            process.kill(pid, n);
          } catch {
            // exited meanwhile
          }
        }
        return;
      }
      if (!(await isSameProcessAlive(record.pid, record.pidStartTime))) return;
      process.kill(record.pid, n);
    },

    async wait(id, waitOptions = {}): Promise<ExitStatus> {
      const record = await readRecord(root, id);
      const cgroup = await cgroupOf(record.cgroupsPath);
      // keep the event loop alive while waiting on an unref'd keeper
      const keepAlive = setInterval(() => undefined, 1 << 30);
      try {
        return await waitForExit(record, cgroup, keepers.get(id), waitOptions.signal);
      } finally {
        clearInterval(keepAlive);
      }
    },

    async delete(id, deleteOptions = {}) {
      const record = await readRecord(root, id);
      const status = await statusOf(record);
      if (status !== 'stopped' && deleteOptions.force !== true) {
        throw failedPrecondition(
          `cannot delete container "${id}": it is ${status}; stop it first or delete with force`,
          { details: { id, status } },
        );
      }
      const cgroup = await cgroupOf(record.cgroupsPath);
      await killProcessTree(record, cgroup);
      if (record.netns !== undefined) {
        try {
          await access(record.netns);
          await unpinNetns(record.netns);
        } catch {
          // never pinned
        }
      }
      await cgroup.destroy();
      keepers.delete(id);
      await removeContainerDir(root, id);
    },

    async pause(id) {
      const { record } = await requireStatus(id, 'pause');
      await (await cgroupOf(record.cgroupsPath)).freeze();
    },

    async resume(id) {
      const { record } = await requireStatus(id, 'resume');
      await (await cgroupOf(record.cgroupsPath)).thaw();
    },

    async exec(id, proc: Process, execOptions: ExecOptions = {}): Promise<ExecProcess> {
      await checkTools();
      const { record } = await requireStatus(id, 'exec');
      const cgroup = await cgroupOf(record.cgroupsPath);
      const spec = await readBundle(record.bundle).catch(() => undefined);
      const program = await resolveProgram(record.rootfs, proc, bindsOf(spec, record.bundle));
      const prefix = await hostPrivilegePrefix(tools, proc);
      const nsFlags = ['-t', String(record.pid), '-m', '-p'];
      for (const ns of spec?.linux?.namespaces ?? []) {
        if (ns.type === 'uts') nsFlags.push('-u');
        if (ns.type === 'ipc') nsFlags.push('-i');
        if (ns.type === 'network') nsFlags.push('-n');
      }
      const uid = proc.user?.uid ?? 0;
      // join the cgroup first (the shell writes its own pid), then the same chain as create
      const join = `for f in ${cgroup.procsFiles().map(quote).join(' ')}; do echo $$ > "$f"; done; ${CLOSE_FDS}; exec "$@"`;
      const argv = [
        'sh',
        '-c',
        join,
        'lab-exec',
        ...prefix.rlimits,
        ...prefix.caps,
        tools.busybox,
        'nsenter',
        ...nsFlags,
        '--',
        'setpriv',
        ...finalSetprivArgs(proc),
        '--',
        'nsenter',
        '-F',
        ...(uid === 0 ? [] : ['-S', String(uid)]),
        `-w${proc.cwd}`,
        '--',
        'env',
        '-i',
        '--',
        ...(proc.env ?? []),
        program,
        ...(proc.args?.slice(1) ?? []),
      ];
      // with a terminal, util-linux `script` holds the pty (as for create)
      const child = spawn(
        proc.terminal === true ? tools.script : tools.busybox,
        proc.terminal === true
          ? ['-q', '-e', '-c', `exec ${[tools.busybox, ...argv].map(quote).join(' ')}`, '/dev/null']
          : argv,
        {
          stdio: spawnStdio(execOptions.stdio),
          env: {},
          ...(execOptions.signal === undefined ? {} : { signal: execOptions.signal }),
        },
      );
      const done = new Promise<ExitStatus>((resolveDone, rejectDone) => {
        child.once('error', rejectDone);
        child.once('exit', (code, sig) => {
          const exitCode = code ?? (sig === null ? -1 : 128 + signalNumber(sig));
          resolveDone({
            exitCode,
            ...(sig === null ? {} : { signal: sig }),
            oomKilled: false,
            finishedAt: new Date().toISOString(),
          });
        });
      });
      await new Promise<void>((resolveSpawn, rejectSpawn) => {
        child.once('spawn', resolveSpawn);
        child.once('error', rejectSpawn);
      });
      const pid = child.pid ?? 0;
      return {
        pid,
        wait: () => done,
        async kill(sig) {
          // `pid` is busybox nsenter, which waits for its child in the container's pid
          // namespace without forwarding signals: signal that child
          // (under `script` for a terminal: one level further down)
          const nsenter = proc.terminal === true ? ((await childrenOf(pid))[0] ?? pid) : pid;
          const targets = await childrenOf(nsenter);
          for (const target of targets.length > 0 ? targets : [nsenter]) {
            try {
              process.kill(target, signalNumber(sig));
            } catch {
              // exited meanwhile
            }
          }
        },
      };
    },

    async resize(id, size) {
      const { record } = await requireStatus(id, 'kill');
      // TIOCSWINSZ on the slave (the init's stdin) resizes the terminal and sends SIGWINCH
      const result = await runCommand(tools.busybox, [
        'stty',
        '-F',
        `/proc/${record.pid}/fd/0`,
        'rows',
        String(size.rows),
        'cols',
        String(size.cols),
      ]);
      if (result.code !== 0) {
        throw failedPrecondition(
          `cannot resize the terminal of container "${id}": ${result.stderr.trim()}`,
        );
      }
    },

    async netnsPath(id) {
      const record = await readRecord(root, id);
      if (record.netns === undefined) return undefined;
      try {
        await access(record.netns);
      } catch {
        if (!(await isSameProcessAlive(record.pid, record.pidStartTime))) {
          throw failedPrecondition(`container "${id}" is stopped: its network namespace is gone`);
        }
        await pinNetns(record.pid, record.netns);
      }
      return record.netns;
    },
  };
  return runtime;
}
