/**
 * Containers over a lab root: create from an image (a writable snapshot on the image's
 * layers), start (rootfs mount, bundle, then a detached monitor that runs the process), and
 * the user's operations, each checked against the state machine under the container's lock.
 * The monitor owns the exit: it records ExitCode/FinishedAt and applies restart policies. When a
 * monitor has died (killed, machine crash), the next command reconciles the state from the
 * runtime ({@link syncContainer}).
 */
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { access, mkdir, readFile, rm, stat, watch } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Snapshotter } from '@lab/layers';
import {
  isMountPoint,
  mountAll,
  openImageStore,
  openSnapshotter,
  unmount,
  unpackImageLayers,
} from '@lab/layers';
import type { Process, RuntimeSpec } from '@lab/oci';
import {
  failedPrecondition,
  invalidArgument,
  isFailedPrecondition,
  isLabError,
  isNotFound,
  notFound,
} from '@lab/oci';
import { createSpec, processArgs } from '../bundle/create-spec.js';
import type { NetworkMode } from '../bundle/create-spec.js';
import type { ResolvConf } from '../bundle/etc-files.js';
import { writeEtcFiles } from '../bundle/etc-files.js';
import { readBundle, writeBundle } from '../bundle/write-bundle.js';
import { openCgroup } from '../cgroups/cgroup.js';
import { isSameProcessAlive, processStat, signalNumber } from '../runtime/process-info.js';
import type { ExecProcess, ExitStatus, Runtime, Stdio } from '../runtime/runtime.js';
import { LOG_PUMP_SCRIPT } from '../monitor/log-pump.js';
import { shouldRestart } from '../monitor/restart-policy.js';
import { monitorCommand, spawnMonitor } from '../monitor/spawn.js';
import { crashPoint } from './crash-point.js';
import type { ParsedMounts } from './mounts.js';
import { emptyMounts } from './mounts.js';
import { imageVolumeRequests } from '../volumes/volume-provider.js';
import { providersFor } from './providers.js';
import type { Providers } from './providers.js';
import { DEFAULT_RUNTIME, checkRuntimeName, openContainerRuntime } from './runtimes.js';
import { checkTransition } from './status.js';
import {
  addContainer,
  checkContainerName,
  deleteContainerDir,
  findContainer,
  listContainers,
  newContainerId,
  readContainer,
  sweepLeftovers,
  updateContainer,
  withContainerLock,
  writeState,
} from './store.js';
import type {
  Container,
  ContainerConfig,
  ContainerState,
  HostConfig,
  PortBinding,
  RestartPolicy,
} from './types.js';
import { ZERO_TIME } from './types.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What `create`/`run` accept (docker's flags, parsed). */
export interface CreateContainerOptions {
  /** Image name, `name@digest` or ID. */
  image: string;
  name?: string;
  /** The words after the image. */
  cmd?: string[];
  /** `--entrypoint`: `[]` clears the image's. */
  entrypoint?: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  tty?: boolean;
  openStdin?: boolean;
  labels?: Record<string, string>;
  /** `none` (default), `host`, `bridge` or a network name (bridge and names need a NetworkProvider). */
  network?: string;
  ports?: PortBinding[];
  mounts?: ParsedMounts;
  /** The raw `-v` values, for `HostConfig.Binds`. */
  bindSpecs?: string[];
  restart?: RestartPolicy;
  autoRemove?: boolean;
  readOnly?: boolean;
  /** Bytes. */
  memory?: number;
  /** `--cpus` × 1e9. */
  nanoCpus?: number;
  pidsLimit?: number;
  runtime?: string;
  /** `--init`: path of a static init (default `/usr/bin/tini-static`, else `/usr/bin/catatonit`). */
  init?: boolean;
  stopSignal?: string;
  stopTimeout?: number;
}

/** How `start` connects the container's stdio. */
export type AttachMode =
  /** Detached: output goes to the log only. */
  | { mode: 'none' }
  /**
   * Attached: output goes to the log, which the caller follows (`readLogs` with `from` = the
   * log size before the start and `done` = {@link RunHandle.finished}); stdin is the given fd,
   * or (`'pipe'`) a FIFO the caller writes through `RunHandle.stdinFd`.
   */
  | { mode: 'pipes'; stdin?: number | 'pipe' }
  /** The container gets these fds (the caller's terminal) directly; nothing is logged. */
  | { mode: 'tty'; fds: [number, number, number] };

/** Options of {@link Containers.start}. */
export interface StartOptions {
  attach?: AttachMode;
}

interface LaunchOptions {
  attach: AttachMode;
}

/** A started run. */
export interface RunHandle {
  container: Container;
  /** Resolves with the exit of the process (from the runtime's keeper); keeps the caller alive while waiting. */
  exit(): Promise<ExitStatus>;
  /** The log monitor. */
  pump?: ChildProcess;
  /** The log size before this run: where its output starts. */
  logOffset: number;
  /** Resolves true once the log monitor has written everything of this run. */
  finished(): Promise<boolean>;
  /** `attach.stdin: 'pipe'`: write the container's stdin here, close it for EOF. */
  stdinFd?: number;
}

/** docker's exit codes for a process that could not be started: 127 not found, 126 not executable, else 125. */
export function startErrorExitCode(err: unknown): number {
  if (isLabError(err)) {
    const reason = (err.details as { reason?: string } | undefined)?.reason;
    if (reason === 'executable-not-found') return 127;
    if (/permission denied|not executable/i.test(err.message)) return 126;
  }
  return 125;
}

/** The options of {@link openContainers}. */
export interface ContainersOptions {
  /** The lab root (an OCI layout with `snapshots/` and `containers/`). */
  root: string;
  providers?: Providers;
}

const INIT_CANDIDATES = ['/usr/bin/tini-static', '/usr/bin/catatonit', '/sbin/tini-static'];

function nowNano(): string {
  const t = performance.timeOrigin + performance.now();
  const ms = Math.floor(t);
  return `${new Date(ms).toISOString().slice(0, 23)}${Math.floor((t - ms) * 1000)
    .toString()
    .padStart(3, '0')}000Z`;
}

function initialState(runtime: string): ContainerState {
  return {
    Status: 'created',
    Pid: 0,
    ExitCode: 0,
    Error: '',
    OOMKilled: false,
    StartedAt: ZERO_TIME,
    FinishedAt: ZERO_TIME,
    RestartCount: 0,
    ManuallyStopped: false,
    Runtime: runtime,
    MonitorPid: 0,
    MonitorStartTime: 0,
    Mounted: false,
  };
}

/** The snapshot key of a container's writable layer. */
export function snapshotKey(id: string): string {
  return `container-${id}`;
}

async function openDefaultSnapshotter(root: string): Promise<Snapshotter> {
  try {
    return await openSnapshotter('overlay', root);
  } catch {
    return openSnapshotter('native', root);
  }
}

async function findInit(): Promise<string> {
  for (const c of INIT_CANDIDATES) {
    try {
      await access(c, fsConstants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  throw failedPrecondition(
    `--init needs a static init on the host: apt-get install tini (provides ${INIT_CANDIDATES[0]})`,
  );
}

/** The stop signal of a container: its own, the image's, else SIGTERM. */
export function stopSignalOf(c: Container): string {
  return c.config.Config.StopSignal ?? c.config.ImageConfig.config?.StopSignal ?? 'SIGTERM';
}

/** The monitor of the current run is alive. */
export async function monitorAlive(state: ContainerState): Promise<boolean> {
  return state.MonitorPid > 0 && isSameProcessAlive(state.MonitorPid, state.MonitorStartTime);
}

/** The operations on the containers of one lab root. */
export interface Containers {
  readonly root: string;
  create(options: CreateContainerOptions): Promise<Container>;
  /** Finds by id, name or id prefix, with its state reconciled. */
  get(ref: string): Promise<Container>;
  /** Every container, state reconciled; removals a crash interrupted are finished first. */
  list(): Promise<Container[]>;
  /**
   * Starts a created or exited container: mounts its rootfs, writes its bundle and spawns its
   * monitor. Returns the monitor (report pipe on fd 3, see monitor/spawn.ts) or undefined when
   * the container was already running.
   */
  start(ref: string, options?: StartOptions): Promise<RunHandle | undefined>;
  /** Records the exit of the current run (see engine.ts) and says whether to restart. */
  recordExit(id: string): Promise<{ container: Container; restart: boolean }>;
  /** After a run: hand a restart to the restart manager, or remove an `--rm` container. */
  afterExit(id: string, restart: boolean): Promise<void>;
  /** Restart manager: starts a `restarting` container again (RestartCount + 1) unless stopped meanwhile. */
  restartNow(id: string, backoffMs: number): Promise<Container>;
  /** Sends the stop signal, waits `timeout` seconds (default 10 or the container's), then SIGKILL. */
  stop(ref: string, options?: { timeout?: number; signal?: string }): Promise<Container>;
  kill(ref: string, signal?: string): Promise<Container>;
  pause(ref: string): Promise<Container>;
  unpause(ref: string): Promise<Container>;
  /** Removes a created/exited container (`force`: kills a running one first). */
  remove(ref: string, options?: { force?: boolean; volumes?: boolean }): Promise<string>;
  /** Resolves with the exit code once the container is no longer running (`removed`: once it is gone). */
  wait(
    ref: string,
    options?: { condition?: 'not-running' | 'next-exit' | 'removed'; signal?: AbortSignal },
  ): Promise<number>;
  /** Runs a process in a running container. */
  exec(
    ref: string,
    options: {
      cmd: string[];
      env?: string[];
      workdir?: string;
      user?: string;
      stdio?: Stdio;
      tty?: boolean;
    },
  ): Promise<ExecProcess>;
  /** The host pids of the container's processes. */
  pids(ref: string): Promise<number[]>;
  /** Removes every stopped container; returns their ids. */
  prune(): Promise<string[]>;
  /** The runtime of a container. */
  runtimeOf(c: Container): Runtime;
  /** The log file. */
  logPath(c: Container): string;
}

/** Opens the containers of a lab root. */
export function openContainers(options: ContainersOptions): Containers {
  const root = options.root;
  const providers = options.providers ?? providersFor(root);
  const runtimes = new Map<string, Runtime>();

  function runtimeOf(c: Container | string): Runtime {
    const name = typeof c === 'string' ? c : c.state.Runtime || c.config.HostConfig.Runtime;
    let r = runtimes.get(name);
    if (r === undefined) {
      r = openContainerRuntime(root, name);
      runtimes.set(name, r);
    }
    return r;
  }

  /**
   * Reconciles a container whose monitor is gone: asks the runtime, records the exit it
   * reports (255 when unknown), deletes the runtime's container; finishes a removal.
   */
  async function sync(c: Container): Promise<Container> {
    const s = c.state;
    if (s.Status === 'removing') {
      if (await monitorAlive(s)) return c;
      await withContainerLock(root, c.id, async () =>
        finishRemove(await readContainer(root, c.id)),
      );
      throw notFound(`No such container: ${c.id}`);
    }
    if (!['running', 'paused', 'restarting'].includes(s.Status)) return c;
    if (await monitorAlive(s)) return c;
    if (s.Status === 'restarting') {
      // the restart manager died during its back-off: the exit is recorded already
      return updateContainer(root, c.id, (cur) =>
        cur.state.Status === 'restarting' && !cur.state.MonitorPid
          ? { ...cur.state, Status: 'exited' }
          : undefined,
      );
    }
    const { container } = await recordExit(c.id);
    if (container.state.Status === 'restarting') {
      // nobody else will restart it now: hand it to a restart manager
      spawnMonitor({ root, id: c.id }).unref();
    } else if (container.state.Status === 'exited' && container.config.HostConfig.AutoRemove) {
      await afterExit(c.id, false);
      throw notFound(`No such container: ${c.id}`);
    }
    return container;
  }

  async function get(ref: string): Promise<Container> {
    return sync(await findContainer(root, ref));
  }

  async function finishRemove(c: Container, removeVolumes = false): Promise<void> {
    const runtime = runtimeOf(c);
    await runtime.delete(c.id, { force: true }).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
    await unmount(join(c.dir, 'rootfs'));
    crashPoint('rm-after-unmount');
    const snapshotter = await openSnapshotter(c.config.Snapshotter, root);
    await snapshotter.remove(c.config.SnapshotKey).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
    await providers.network?.detach(c);
    await providers.volumes?.release(c, removeVolumes);
    await deleteContainerDir(root, c.id);
  }

  async function list(): Promise<Container[]> {
    const abandoned = await sweepLeftovers(root);
    if (abandoned.length > 0) {
      const snapshotter = await openDefaultSnapshotter(root);
      for (const id of abandoned) await snapshotter.remove(snapshotKey(id)).catch(() => undefined);
    }
    const out: Container[] = [];
    for (const c of await listContainers(root)) {
      try {
        out.push(await sync(c));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return out;
  }

  async function create(o: CreateContainerOptions): Promise<Container> {
    const runtimeName = checkRuntimeName(o.runtime ?? DEFAULT_RUNTIME);
    const network = o.network ?? 'none';
    if (!['none', 'host'].includes(network) && providers.network === undefined) {
      throw failedPrecondition(
        `network "${network}" is not available: lab has no bridge networking yet; use --network none or --network host`,
        { details: { network } },
      );
    }
    if ((o.ports ?? []).length > 0 && network === 'none') {
      throw invalidArgument(
        'conflicting options: port publishing and the container type network mode: publish ports on --network bridge',
      );
    }
    if ((o.ports ?? []).length > 0 && providers.network === undefined) {
      throw failedPrecondition(
        'publishing ports (-p) needs bridge networking, which lab does not have yet',
      );
    }
    const mounts = o.mounts ?? emptyMounts();
    if (mounts.volumes.length > 0 && providers.volumes === undefined) {
      throw failedPrecondition(
        `named and anonymous volumes are not available yet (${mounts.volumes.map((v) => v.name || v.destination).join(', ')}): use a bind mount (-v /host/dir:${mounts.volumes[0]?.destination ?? '/dst'})`,
      );
    }
    for (const b of mounts.binds) {
      try {
        await stat(b.source);
      } catch {
        throw invalidArgument(
          `invalid mount config for type "bind": bind source path does not exist: ${b.source}`,
        );
      }
    }
    if (o.restart !== undefined && o.restart.Name !== 'no' && o.autoRemove === true) {
      throw invalidArgument('Conflicting options: --restart and --rm');
    }
    const initPath = o.init === true ? await findInit() : undefined;
    const images = await openImageStore(root);
    const image = await images.resolve(o.image);
    const imgCfg = image.config.config ?? {};
    const args = processArgs(imgCfg, o.entrypoint, o.cmd);
    const id = newContainerId();
    const name = o.name === undefined ? '' : checkContainerName(o.name);
    const snapshotter = await openDefaultSnapshotter(root);
    await unpackImageLayers(
      snapshotter,
      image.layers.map((layer, i) => ({
        chainID: image.chainIDs[i]!,
        diffID: image.diffIDs[i]!,
        open: () => images.content.reader(layer.digest),
      })),
    );
    const portBindings: HostConfig['PortBindings'] = {};
    for (const p of o.ports ?? []) {
      (portBindings[p.ContainerPort] ??= []).push({ HostIp: p.HostIp, HostPort: p.HostPort });
    }
    const config: ContainerConfig = {
      Id: id,
      Name: `/${name}`,
      Created: nowNano(),
      Image: image.id,
      ImageDigest: image.digest,
      ImageName: o.image,
      Path: args[0]!,
      Args: args.slice(1),
      Config: {
        Hostname: o.hostname ?? id.slice(0, 12),
        Domainname: '',
        User: o.user ?? imgCfg.User ?? '',
        AttachStdin: o.openStdin === true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: o.tty === true,
        OpenStdin: o.openStdin === true,
        Env: o.env ?? [],
        Cmd: o.cmd !== undefined && o.cmd.length > 0 ? o.cmd : (imgCfg.Cmd ?? null),
        Entrypoint: o.entrypoint ?? imgCfg.Entrypoint ?? null,
        Image: o.image,
        WorkingDir: o.workdir ?? imgCfg.WorkingDir ?? '',
        Labels: { ...(imgCfg.Labels ?? {}), ...(o.labels ?? {}) },
        ...(o.stopSignal === undefined ? {} : { StopSignal: o.stopSignal }),
        ...(o.stopTimeout === undefined ? {} : { StopTimeout: o.stopTimeout }),
        ...(imgCfg.ExposedPorts === undefined || imgCfg.ExposedPorts === null
          ? {}
          : { ExposedPorts: imgCfg.ExposedPorts }),
      },
      HostConfig: {
        Binds: o.bindSpecs ?? [],
        Tmpfs: Object.fromEntries(
          mounts.tmpfs.map((t) => [t.destination, (t.options ?? []).join(',')]),
        ),
        NetworkMode: network,
        PortBindings: portBindings,
        RestartPolicy: o.restart ?? { Name: 'no', MaximumRetryCount: 0 },
        AutoRemove: o.autoRemove === true,
        ReadonlyRootfs: o.readOnly === true,
        Memory: o.memory ?? 0,
        NanoCpus: o.nanoCpus ?? 0,
        PidsLimit: o.pidsLimit ?? null,
        Runtime: runtimeName,
        Init: o.init === true,
      },
      ImageConfig: image.config,
      ChainIDs: [...image.chainIDs],
      Snapshotter: snapshotter.kind,
      SnapshotKey: snapshotKey(id),
      Mounts: mounts.points,
      // the image's VOLUMEs the user did not mount become anonymous volumes, as in docker
      Volumes:
        providers.volumes === undefined
          ? mounts.volumes
          : [
              ...mounts.volumes,
              ...imageVolumeRequests(
                image.config,
                [...mounts.volumes, ...mounts.binds, ...mounts.tmpfs].map((m) => m.destination),
              ),
            ],
      Platform: image.config.os,
      Driver: snapshotter.kind === 'overlay' ? 'overlay2' : 'vfs',
      ...(initPath === undefined ? {} : { InitPath: initPath }),
    };
    // a separate structure keeps the parsed binds for the spec
    const bindsFile = { binds: mounts.binds, tmpfs: mounts.tmpfs };
    return addContainer(root, config, initialState(runtimeName), async (tmp) => {
      await writeStateExtra(tmp, bindsFile);
      crashPoint('create-before-snapshot');
      const top = image.chainIDs[image.chainIDs.length - 1];
      await snapshotter.prepare(snapshotKey(id), top, { labels: { 'lab.container': id } });
      crashPoint('create-after-snapshot');
    });
  }

  /** Mounts the rootfs, writes /etc files and the bundle; returns the bundle dir. */
  async function prepareBundle(c: Container): Promise<string> {
    const rootfs = join(c.dir, 'rootfs');
    await mkdir(rootfs, { recursive: true });
    if (!(await isMountPoint(rootfs))) {
      const snapshotter = await openSnapshotter(c.config.Snapshotter, root);
      await mountAll(await snapshotter.mounts(c.config.SnapshotKey), rootfs);
    }
    crashPoint('start-after-mount');
    const extra = await readStateExtra(c.dir);
    const hc = c.config.HostConfig;
    let network: NetworkMode = { mode: 'none' };
    let resolv: ResolvConf | undefined;
    let address: string | undefined;
    if (hc.NetworkMode === 'host') {
      network = { mode: 'host' };
      resolv = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    } else if (hc.NetworkMode !== 'none') {
      if (providers.network === undefined) {
        throw failedPrecondition(
          `network "${hc.NetworkMode}" is not available: lab has no bridge networking yet`,
        );
      }
      const att = await providers.network.attach(c);
      network = att.network;
      resolv = att.resolv;
      address = att.address;
    }
    const binds = [...extra.binds];
    for (const v of c.config.Volumes) {
      if (providers.volumes === undefined)
        throw failedPrecondition('volumes are not available yet');
      const m = await providers.volumes.mount(v, c);
      binds.push({ source: m.source, destination: v.destination, readonly: v.readonly });
    }
    const etcFiles = await writeEtcFiles(c.dir, {
      hostname: c.config.Config.Hostname,
      ...(address === undefined ? {} : { address }),
      ...(resolv === undefined ? {} : { resolv }),
    });
    const cfg = c.config;
    const spec = await createSpec(cfg.ImageConfig, {
      id: c.id,
      rootfs,
      cmd: cfg.Config.Cmd ?? [],
      ...(cfg.Config.Entrypoint === null
        ? { entrypoint: [] }
        : { entrypoint: cfg.Config.Entrypoint }),
      env: [...(cfg.Config.Tty ? ['TERM=xterm'] : []), ...cfg.Config.Env],
      ...(cfg.Config.WorkingDir === '' ? {} : { workdir: cfg.Config.WorkingDir }),
      ...(cfg.Config.User === '' ? {} : { user: cfg.Config.User }),
      hostname: cfg.Config.Hostname,
      // -t: a pty of the container's own (its session's controlling terminal) where the
      // runtime can hold one; the builtin runtime relays it to the given stdio
      tty: cfg.Config.Tty && runtimeOf(cfg.HostConfig.Runtime).features.terminal,
      network,
      readonlyRootfs: hc.ReadonlyRootfs,
      ...(hc.Memory > 0 ? { memory: hc.Memory } : {}),
      ...(hc.NanoCpus > 0 ? { cpus: hc.NanoCpus / 1e9 } : {}),
      ...(hc.PidsLimit === null ? {} : { pidsLimit: hc.PidsLimit }),
      tmpfs: extra.tmpfs,
      binds,
      etcFiles,
      ...(cfg.InitPath === undefined ? {} : { init: cfg.InitPath }),
      annotations: { 'lab.container.name': cfg.Name.slice(1) },
    });
    // the container's args were fixed at create (entrypoint/cmd merge): keep them
    if (spec.process !== undefined) {
      const first =
        spec.process.args?.[0] === '/sbin/docker-init' ? ['/sbin/docker-init', '--'] : [];
      spec.process.args = [...first, cfg.Path, ...cfg.Args];
    }
    const bundle = join(c.dir, 'bundle');
    await writeBundle(bundle, spec);
    return bundle;
  }

  /**
   * One run of the container (the caller holds its lock): FIFOs for stdout/stderr, the bash
   * log pump (monitor/log-pump.ts), then the runtime's create + start with the FIFOs as the
   * process's stdio. Writes the `running` state.
   */
  async function launch(c: Container, o: LaunchOptions): Promise<RunHandle> {
    const runtime = runtimeOf(c.config.HostConfig.Runtime);
    await runtime.delete(c.id, { force: true }).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
    await rm(join(c.dir, 'finished'), { force: true });
    const logOffset = await stat(join(c.dir, 'json.log')).then(
      (st) => st.size,
      () => 0,
    );
    const bundle = join(c.dir, 'bundle');
    let pump: ChildProcess | undefined;
    let stdio: Stdio;
    const toClose: number[] = [];
    let stdinWriter: number | undefined;
    if (o.attach.mode === 'tty') {
      stdio = o.attach.fds;
    } else {
      const out = join(c.dir, 'stdout.fifo');
      const err = join(c.dir, 'stderr.fifo');
      const fifos = [out, err];
      let stdinTarget: Stdio[0] = 'ignore';
      if (o.attach.mode === 'pipes' && o.attach.stdin !== undefined) {
        if (typeof o.attach.stdin === 'number') stdinTarget = o.attach.stdin;
        else fifos.push(join(c.dir, 'stdin.fifo'));
      }
      await rm(out, { force: true });
      await rm(err, { force: true });
      await rm(join(c.dir, 'stdin.fifo'), { force: true });
      await run('mkfifo', ['-m', '600', ...fifos]);
      const wOut = openSync(out, fsConstants.O_RDWR);
      const wErr = openSync(err, fsConstants.O_RDWR);
      toClose.push(wOut, wErr);
      if (fifos.length === 3) {
        stdinWriter = openSync(fifos[2]!, fsConstants.O_RDWR);
        const rIn = openSync(fifos[2]!, fsConstants.O_RDONLY);
        toClose.push(rIn);
        stdinTarget = rIn;
      }
      stdio = [stdinTarget, wOut, wErr];
      const restartManager =
        o.attach.mode === 'none' &&
        (c.config.HostConfig.RestartPolicy.Name !== 'no' || c.config.HostConfig.AutoRemove);
      pump = spawn(
        'bash',
        [
          '-c',
          LOG_PUMP_SCRIPT,
          'lab-monitor',
          c.dir,
          ...(restartManager ? monitorCommand({ root, id: c.id }) : []),
        ],
        {
          detached: true,
          stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
          env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
        },
      );
      const ready = pump.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
      await new Promise<void>((resolve, reject) => {
        let text = '';
        ready.setEncoding('utf8');
        ready.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes('ok')) resolve();
        });
        ready.once('end', () => {
          if (!text.includes('ok')) reject(new Error('the log monitor failed to start'));
        });
        pump?.once('error', reject);
      });
      ready.destroy();
      for (const f of fifos) await rm(f, { force: true });
      pump.unref();
    }
    let created = false;
    try {
      await runtime.create(c.id, bundle, { stdio });
      created = true;
    } finally {
      for (const fd of toClose) closeSync(fd);
      if (!created) {
        if (stdinWriter !== undefined) closeSync(stdinWriter);
      }
    }
    crashPoint('start-after-create');
    await runtime.start(c.id);
    const rs = await runtime.state(c.id);
    const pumpStart = pump?.pid === undefined ? undefined : await processStat(pump.pid);
    const startedAt = nowNano();
    const state: ContainerState = {
      ...c.state,
      Status: 'running',
      Pid: rs.pid ?? 0,
      StartedAt: startedAt,
      ExitCode: 0,
      OOMKilled: false,
      Error: '',
      Mounted: true,
      MonitorPid: pump?.pid ?? 0,
      MonitorStartTime: pumpStart?.startTime ?? 0,
      Runtime: c.config.HostConfig.Runtime,
    };
    await writeState(c.dir, state);
    crashPoint('start-after-running');
    return {
      container: { ...c, state },
      exit: () => runtime.wait(c.id),
      logOffset,
      finished: async () => {
        if (pump === undefined) return true;
        try {
          await stat(join(c.dir, 'finished'));
          return true;
        } catch {
          return false;
        }
      },
      ...(pump === undefined ? {} : { pump }),
      ...(stdinWriter === undefined ? {} : { stdinFd: stdinWriter }),
    };
  }

  async function start(ref: string, o: StartOptions = {}): Promise<RunHandle | undefined> {
    const found = await get(ref);
    return withContainerLock(root, found.id, async () => {
      const c = await readContainer(root, found.id);
      checkTransition(c.name, c.state.Status, 'start');
      if (c.state.Status !== 'created' && c.state.Status !== 'exited') return undefined;
      if (await monitorAlive(c.state)) return undefined;
      await prepareBundle(c);
      const fresh = { ...c, state: { ...c.state, ManuallyStopped: false, Mounted: true } };
      try {
        return await launch(fresh, { attach: o.attach ?? { mode: 'none' } });
      } catch (err) {
        const exitCode = startErrorExitCode(err);
        await runtimeOf(c.config.HostConfig.Runtime)
          .delete(c.id, { force: true })
          .catch(() => undefined);
        await writeState(c.dir, {
          ...fresh.state,
          ExitCode: exitCode,
          Error: err instanceof Error ? err.message : String(err),
          MonitorPid: 0,
          MonitorStartTime: 0,
        });
        throw err;
      }
    });
  }

  /**
   * Records the exit of the current run (the caller makes sure the process has exited, or
   * that its monitor is gone): exit code and OOM from the runtime, FinishedAt from the log
   * monitor's `finished` file, then deletes the runtime's container. Returns whether the
   * restart policy asks for a restart (the state is then `restarting`).
   */
  async function recordExit(id: string): Promise<{ container: Container; restart: boolean }> {
    let restart = false;
    const container = await updateContainer(root, id, async (cur) => {
      const st = cur.state;
      if (st.Status === 'restarting') {
        restart = !st.ManuallyStopped;
        return undefined;
      }
      if (!['running', 'paused'].includes(st.Status)) return undefined;
      const runtime = runtimeOf(cur);
      let exitCode = 255;
      let oom = false;
      let finishedAt = new Date().toISOString();
      try {
        const rs = await runtime.state(cur.id);
        if (rs.status !== 'stopped') {
          const status = rs.status === 'paused' ? 'paused' : 'running';
          return status === st.Status ? undefined : { ...st, Status: status };
        }
        const exit = await runtime.wait(cur.id);
        exitCode = exit.exitCode < 0 ? 255 : exit.exitCode;
        oom = exit.oomKilled;
        finishedAt = exit.finishedAt;
        await runtime.delete(cur.id, { force: true });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      const finished = await readFile(join(cur.dir, 'finished'), 'utf8').catch(() => '');
      if (/^[0-9]+\.[0-9]+\s*$/.test(finished)) {
        const [sec, frac] = finished.trim().split('.') as [string, string];
        finishedAt = `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}.${frac.padEnd(9, '0')}Z`;
      }
      restart = shouldRestart(
        cur.config.HostConfig.RestartPolicy,
        exitCode,
        st.RestartCount,
        st.ManuallyStopped,
      );
      // stopped for good: release its address and host ports (a restart keeps them; the next
      // start attaches afresh; a failure here is cleaned up by that attach or by rm)
      if (!restart) await providers.network?.detach(cur).catch(() => undefined);
      return {
        ...st,
        Status: restart ? 'restarting' : 'exited',
        Pid: 0,
        ExitCode: exitCode,
        OOMKilled: oom,
        FinishedAt: finishedAt,
        MonitorPid: 0,
        MonitorStartTime: 0,
        Error:
          exitCode === 255 && st.Error === ''
            ? 'exit status unknown: the container keeper was lost'
            : st.Error,
      };
    });
    return { container, restart };
  }

  /** After a run ended: restart (through the restart manager) or remove (`--rm`) as configured. */
  async function afterExit(id: string, restart: boolean): Promise<void> {
    if (restart) {
      spawnMonitor({ root, id }).unref();
      return;
    }
    const c = await readContainer(root, id).catch(() => undefined);
    if (c?.config.HostConfig.AutoRemove === true && c.state.Status === 'exited') {
      // docker's --rm takes the container's anonymous volumes with it
      await remove(id, { force: true, volumes: true }).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }

  async function restartNow(id: string, backoffMs: number): Promise<Container> {
    return withContainerLock(root, id, async () => {
      const c = await readContainer(root, id);
      if (c.state.Status !== 'restarting' || c.state.ManuallyStopped) {
        const st: ContainerState = {
          ...c.state,
          Status: c.state.Status === 'restarting' ? 'exited' : c.state.Status,
          MonitorPid: 0,
          MonitorStartTime: 0,
        };
        await writeState(c.dir, st);
        return { ...c, state: st };
      }
      const next = {
        ...c,
        state: { ...c.state, RestartCount: c.state.RestartCount + 1, BackoffMs: backoffMs },
      };
      try {
        return (await launch(next, { attach: { mode: 'none' } })).container;
      } catch (err) {
        await runtimeOf(c.config.HostConfig.Runtime)
          .delete(c.id, { force: true })
          .catch(() => undefined);
        const st: ContainerState = {
          ...next.state,
          Status: 'exited',
          ExitCode: startErrorExitCode(err),
          Error: err instanceof Error ? err.message : String(err),
          MonitorPid: 0,
          MonitorStartTime: 0,
        };
        await writeState(c.dir, st);
        return { ...c, state: st };
      }
    });
  }

  /** Waits until the monitor recorded that the container is no longer running. */
  async function waitNotRunning(id: string, signal?: AbortSignal): Promise<Container> {
    const dir = join(root, 'containers', id);
    const ac = new AbortController();
    const onAbort = () => {
      ac.abort();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let changed: (() => void) | undefined;
    const watcher = (async () => {
      try {
        for await (const event of watch(dir, { signal: ac.signal }))
          if (event.filename !== null) changed?.();
      } catch {
        // aborted, or the directory went away
      }
    })();
    try {
      for (;;) {
        signal?.throwIfAborted();
        let c: Container;
        try {
          c = await sync(await readContainer(root, id));
        } catch (err) {
          if (isNotFound(err)) throw err;
          throw err;
        }
        if (
          !['running', 'paused', 'restarting'].includes(c.state.Status) &&
          !(await monitorAlive(c.state))
        )
          return c;
        if (c.state.Status === 'exited' && c.state.MonitorPid === 0) return c;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 25);
          changed = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    } finally {
      ac.abort();
      signal?.removeEventListener('abort', onAbort);
      await watcher;
    }
  }

  /** Signals the container's process; one that has just exited (or is gone) is no error. */
  async function signalContainer(c: Container, sig: string, all: boolean): Promise<void> {
    try {
      await runtimeOf(c).kill(c.id, sig as NodeJS.Signals, { all });
    } catch (err) {
      if (!isNotFound(err) && !isFailedPrecondition(err)) throw err;
    }
  }

  async function stop(
    ref: string,
    o: { timeout?: number; signal?: string } = {},
  ): Promise<Container> {
    const found = await get(ref);
    const c = await updateContainer(root, found.id, (cur) => {
      checkTransition(cur.name, cur.state.Status, 'stop');
      return { ...cur.state, ManuallyStopped: true };
    });
    if (!['running', 'paused', 'restarting'].includes(c.state.Status)) return c;
    const sig = o.signal ?? stopSignalOf(c);
    const timeout = o.timeout ?? c.config.Config.StopTimeout ?? 10;
    if (c.state.Status === 'paused') {
      await signalContainer(c, sig, false);
      await runtimeOf(c)
        .resume(c.id)
        .catch(() => undefined);
    } else if (c.state.Status === 'running') {
      await signalContainer(c, sig, false);
    }
    if (timeout !== 0) {
      const ac = new AbortController();
      const timer =
        timeout < 0
          ? undefined
          : setTimeout(() => {
              ac.abort();
            }, timeout * 1000);
      try {
        return await waitNotRunning(c.id, ac.signal);
      } catch (err) {
        if (!ac.signal.aborted) throw err;
      } finally {
        clearTimeout(timer);
      }
    }
    const cur = await readContainer(root, c.id);
    await signalContainer(cur, 'SIGKILL', true);
    return waitNotRunning(c.id);
  }

  async function kill(ref: string, sig = 'SIGKILL'): Promise<Container> {
    signalNumber(sig);
    const found = await get(ref);
    const c = await updateContainer(root, found.id, (cur) => {
      checkTransition(cur.name, cur.state.Status, 'kill');
      const name = sig.toUpperCase().replace(/^SIG/, '');
      const stopping =
        name === 'KILL' || name === '9' || `SIG${name}` === stopSignalOf(cur).toUpperCase();
      return stopping ? { ...cur.state, ManuallyStopped: true } : undefined;
    });
    await signalContainer(c, sig, false);
    if (c.state.Status === 'paused' && /^(SIG)?KILL$|^9$/i.test(sig)) {
      // a frozen process cannot die: thaw it so the SIGKILL lands, as docker does
      await runtimeOf(c)
        .resume(c.id)
        .catch(() => undefined);
    }
    return c;
  }

  async function pauseOrUnpause(ref: string, op: 'pause' | 'unpause'): Promise<Container> {
    const found = await get(ref);
    return updateContainer(root, found.id, async (cur) => {
      const to = checkTransition(cur.name, cur.state.Status, op);
      const runtime = runtimeOf(cur);
      if (op === 'pause') await runtime.pause(cur.id);
      else await runtime.resume(cur.id);
      return { ...cur.state, Status: to };
    });
  }

  async function remove(
    ref: string,
    o: { force?: boolean; volumes?: boolean } = {},
  ): Promise<string> {
    const found = await findContainer(root, ref);
    if (found.state.Status !== 'removing') {
      // reconcile first (records an exit nobody recorded yet): sync takes the lock itself
      await sync(found);
    }
    const c = await updateContainer(root, found.id, (cur) => {
      if (o.force !== true) checkTransition(cur.name, cur.state.Status, 'remove');
      return { ...cur.state, Status: 'removing', ManuallyStopped: true };
    });
    crashPoint('rm-after-mark');
    if (o.force === true) {
      await signalContainer(c, 'SIGKILL', true);
      await runtimeOf(c)
        .resume(c.id)
        .catch(() => undefined);
      // the monitor sees `removing` and exits without touching the state
      for (let i = 0; i < 200 && (await monitorAlive(c.state)); i++) await sleep(10);
    }
    await withContainerLock(root, c.id, async () => {
      await finishRemove(await readContainer(root, c.id), o.volumes === true);
    });
    return c.id;
  }

  async function wait(
    ref: string,
    o: { condition?: 'not-running' | 'next-exit' | 'removed'; signal?: AbortSignal } = {},
  ): Promise<number> {
    const c = await get(ref);
    if (o.condition === 'removed') {
      let last = c.state.ExitCode;
      for (;;) {
        o.signal?.throwIfAborted();
        try {
          last = (await readContainer(root, c.id)).state.ExitCode;
        } catch (err) {
          if (isNotFound(err)) return last;
          throw err;
        }
        await sleep(50);
      }
    }
    const done = await waitNotRunning(c.id, o.signal);
    return done.state.ExitCode;
  }

  async function exec(
    ref: string,
    o: {
      cmd: string[];
      env?: string[];
      workdir?: string;
      user?: string;
      stdio?: Stdio;
      tty?: boolean;
    },
  ): Promise<ExecProcess> {
    const c = await get(ref);
    checkTransition(c.name, c.state.Status, 'exec');
    const spec: RuntimeSpec = await readBundle(join(c.dir, 'bundle'));
    const base = spec.process;
    if (base === undefined)
      throw failedPrecondition(`container "${c.name}" has no process in its bundle`);
    let user = base.user;
    if (o.user !== undefined) {
      const { resolveUser } = await import('../bundle/user.js');
      const u = await resolveUser(join(c.dir, 'rootfs'), o.user);
      user = {
        uid: u.uid,
        gid: u.gid,
        ...(u.additionalGids.length > 0 ? { additionalGids: u.additionalGids } : {}),
      };
    }
    const { mergeEnv } = await import('../bundle/create-spec.js');
    const proc: Process = {
      ...base,
      terminal: false,
      args: o.cmd,
      env: mergeEnv(base.env ?? [], o.env ?? []),
      cwd: o.workdir ?? base.cwd,
      ...(user === undefined ? {} : { user }),
    };
    return runtimeOf(c).exec(c.id, proc, o.stdio === undefined ? {} : { stdio: o.stdio });
  }

  async function pids(ref: string): Promise<number[]> {
    const c = await get(ref);
    checkTransition(c.name, c.state.Status === 'paused' ? 'running' : c.state.Status, 'exec');
    const spec = await readBundle(join(c.dir, 'bundle'));
    const cgroup = await openCgroup(spec.linux?.cgroupsPath ?? `/lab/${c.id}`);
    return cgroup.pids();
  }

  async function prune(): Promise<string[]> {
    const removed: string[] = [];
    for (const c of await list()) {
      if (
        c.state.Status === 'exited' ||
        c.state.Status === 'created' ||
        c.state.Status === 'dead'
      ) {
        if (c.state.Status === 'created') continue; // docker prunes stopped containers only
        removed.push(await remove(c.id));
      }
    }
    return removed;
  }

  return {
    root,
    create,
    get,
    list,
    start,
    recordExit,
    afterExit,
    restartNow,
    stop,
    kill,
    pause: (ref) => pauseOrUnpause(ref, 'pause'),
    unpause: (ref) => pauseOrUnpause(ref, 'unpause'),
    remove,
    wait,
    exec,
    pids,
    prune,
    runtimeOf: (c) => runtimeOf(c),
    logPath: (c) => join(c.dir, 'json.log'),
  };
}

/** Parsed binds/tmpfs kept next to config.json (`mounts.json`) for building the spec. */
async function writeStateExtra(
  dir: string,
  extra: Pick<ParsedMounts, 'binds' | 'tmpfs'>,
): Promise<void> {
  const { writeFileAtomic } = await import('../bundle/atomic-write.js');
  await writeFileAtomic(join(dir, 'mounts.json'), `${JSON.stringify(extra)}\n`, 0o600);
}

async function readStateExtra(dir: string): Promise<Pick<ParsedMounts, 'binds' | 'tmpfs'>> {
  try {
    return JSON.parse(await readFile(join(dir, 'mounts.json'), 'utf8')) as Pick<
      ParsedMounts,
      'binds' | 'tmpfs'
    >;
  } catch {
    return { binds: [], tmpfs: [] };
  }
}

/** Host tools ps(1) for `top`. */
export async function psTable(pidList: number[], psArgs: string[]): Promise<string> {
  if (pidList.length === 0) return '';
  const { stdout } = await run('ps', [...psArgs, '-p', pidList.join(',')]);
  return stdout;
}

export { rm as removePath };
