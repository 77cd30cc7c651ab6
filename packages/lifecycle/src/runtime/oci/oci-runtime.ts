/**
 * A runtime that drives an OCI runtime binary (runc here; crun refuses this hybrid-cgroup
 * host) with the same bundle, through conmon (Debian `conmon`, podman's monitor) as keeper:
 * `conmon --sync` runs `<runtime> create`, stays the container's parent/subreaper, exits with
 * the container's exit status and writes it to `<root>/<id>/exits/<id>` — Node itself cannot
 * become a subreaper, so without a helper the status of a detached container is lost.
 *
 * State lives in `<root>/<id>/` (ours) and `<root>/.runc/` (the binary's `--root`, private to
 * lab). Cgroups are the binary's (cgroupfs driver, `linux.cgroupsPath`); lab reads the same
 * directories for OOM counts. stdio is handed to the container by conmon's `passthrough`
 * log driver.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Process, RuntimeState } from '@lab/oci';
import {
  RUNTIME_SPEC_VERSION,
  failedPrecondition,
  internal,
  invalidArgument,
  isNotFound,
  notFound,
  parseRuntimeState,
} from '@lab/oci';
import { readBundle } from '../../bundle/write-bundle.js';
import type { Cgroup } from '../../cgroups/cgroup.js';
import { openCgroup } from '../../cgroups/cgroup.js';
import { runCommand } from '../command.js';
import { waitForExit } from '../exit-status.js';
import { pinNetns, unpinNetns } from '../netns.js';
import { processStat, signalNumber } from '../process-info.js';
import type {
  CreateOptions,
  ExecOptions,
  ExecProcess,
  ExitStatus,
  Runtime,
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

/** Options of {@link createOciRuntime}. */
export interface OciRuntimeOptions {
  /** lab's state directory for this runtime, e.g. `/run/lab/runc`. */
  root: string;
  /** The OCI runtime binary; default `/usr/sbin/runc`. */
  binary?: string;
  /** conmon; default `/usr/bin/conmon`. */
  conmon?: string;
  /** cgroup filesystem root, for OOM counts; default `/sys/fs/cgroup`. */
  cgroupRoot?: string;
}

function spawnStdio(stdio: Stdio | undefined): ('ignore' | 'inherit' | number)[] {
  return [...(stdio ?? ['ignore', 'ignore', 'ignore'])];
}

/** Creates a runtime that drives `options.binary` (runc) through conmon. */
export function createOciRuntime(options: OciRuntimeOptions): Runtime {
  const root = resolve(options.root);
  const binary = options.binary ?? '/usr/sbin/runc';
  const conmon = options.conmon ?? '/usr/bin/conmon';
  const binaryRoot = join(root, '.runc');
  const name = basename(binary);
  const keepers = new Map<string, Promise<void>>();

  async function run(args: string[], what: string, id: string): Promise<string> {
    const result = await runCommand(binary, ['--root', binaryRoot, ...args]);
    if (result.code !== 0) {
      const message = result.stderr.trim() || result.stdout.trim();
      if (/does not exist|not exist/.test(message)) {
        throw notFound(`container "${id}" does not exist in ${name}: ${message}`, {
          details: { id },
        });
      }
      if (
        /not running|not paused|cannot|is (paused|stopped|running|created)|already/.test(message)
      ) {
        throw failedPrecondition(`${name} ${what} "${id}" failed: ${message}`, { details: { id } });
      }
      throw internal(`${name} ${what} "${id}" failed: ${message}`, { details: { id, args } });
    }
    return result.stdout;
  }

  async function binaryState(id: string): Promise<RuntimeState> {
    return parseRuntimeState(await run(['state', id], 'state', id), `${name} state ${id}`);
  }

  /** The error of a failed create, from the runtime's JSON log (runc `--log`). */
  async function createFailure(id: string, dir: string, syncText: string): Promise<Error> {
    let message = '';
    try {
      for (const line of (await readFile(join(dir, 'runtime.log'), 'utf8')).split('\n')) {
        if (line.trim() === '') continue;
        const entry = JSON.parse(line) as { level?: string; msg?: string };
        if (entry.level === 'error' && entry.msg !== undefined) message = entry.msg;
      }
    } catch {
      // no log
    }
    message ||= syncText.trim() || 'conmon exited during create';
    const text = `${name} could not create container "${id}": ${message}`;
    return /executable file not found|no such file or directory/.test(message)
      ? notFound(text, { details: { id, reason: 'executable-not-found' } })
      : invalidArgument(text, { details: { id } });
  }

  /** Guards an operation by the status the binary reports (the same table as the builtin runtime). */
  async function requireStatus(id: string, op: keyof typeof ALLOWED): Promise<void> {
    await readRecord(root, id);
    const { status } = await binaryState(id);
    if (!ALLOWED[op].includes(status)) {
      throw failedPrecondition(
        `cannot ${op} container "${id}": it is ${status} (${op} needs ${ALLOWED[op].join(' or ')})`,
        { details: { id, status, operation: op } },
      );
    }
  }

  const cgroupOf = (record: ContainerRecord): Promise<Cgroup> =>
    openCgroup(record.cgroupsPath, {
      ...(options.cgroupRoot === undefined ? {} : { root: options.cgroupRoot }),
    });

  const runtime: Runtime = {
    name,
    features: { pause: true, terminal: false, cgroups: true },

    async create(id, bundleDir, createOptions: CreateOptions = {}) {
      createOptions.signal?.throwIfAborted();
      const bundle = resolve(bundleDir);
      const spec = await readBundle(bundle);
      if (spec.process?.terminal === true) {
        throw invalidArgument(
          `process.terminal needs a console socket, which lab cannot receive yet; run without a tty`,
        );
      }
      const dir = await claimContainerDir(root, id);
      await mkdir(binaryRoot, { recursive: true, mode: 0o700 });
      const exitDir = join(dir, 'exits');
      await mkdir(exitDir);
      const args = [
        '--api-version',
        '1',
        '-c',
        id,
        '-u',
        id,
        '-n',
        id,
        '-r',
        binary,
        '-b',
        bundle,
        '-p',
        join(dir, 'pid'),
        '--exit-dir',
        exitDir,
        '--runtime-arg',
        `--root=${binaryRoot}`,
        '--runtime-arg',
        `--log=${join(dir, 'runtime.log')}`,
        '--runtime-arg',
        '--log-format=json',
        '-l',
        'passthrough:',
        '--log-level',
        'error',
        '--sync',
        // conmon writes an `oom` marker into its persist dir (default: its cwd)
        '--persist-dir',
        dir,
      ];
      const child = spawn(conmon, args, {
        stdio: [...spawnStdio(createOptions.stdio), 'pipe'],
        detached: true,
        cwd: dir,
        env: { ...process.env, _OCI_SYNCPIPE: '3' },
      });
      const exited = new Promise<void>((r) =>
        child.once('exit', () => {
          r();
        }),
      );
      try {
        const pid = await new Promise<number>((resolvePid, rejectPid) => {
          let text = '';
          const sync = child.stdio[3] as NodeJS.ReadableStream;
          sync.setEncoding('utf8');
          sync.on('data', (chunk: string) => {
            text += chunk;
            const match = /\{[^}]*\}/.exec(text);
            if (match === null) return;
            const message = JSON.parse(match[0]) as { data: number; message?: string };
            if (message.data > 0) resolvePid(message.data);
            else
              rejectPid(
                invalidArgument(
                  `${name} could not create container "${id}": ${message.message ?? 'unknown error'}`,
                ),
              );
          });
          child.once('error', rejectPid);
          createOptions.signal?.addEventListener(
            'abort',
            () => {
              rejectPid(new Error(`create of container "${id}" was aborted`));
            },
            { once: true },
          );
          void exited.then(async () => {
            rejectPid(await createFailure(id, dir, text));
          });
        });
        (child.stdio[3] as NodeJS.ReadableStream & { destroy(): void }).destroy();
        child.unref();
        const pidStat = await processStat(pid);
        const keeperStat = await processStat(child.pid ?? 0);
        let netns: string | undefined;
        if (
          spec.linux?.namespaces?.some((n) => n.type === 'network' && n.path === undefined) === true
        ) {
          netns = join(dir, 'netns');
          await pinNetns(pid, netns);
        }
        const record: ContainerRecord = {
          id,
          bundle,
          rootfs: resolve(bundle, spec.root?.path ?? 'rootfs'),
          pid,
          pidStartTime: pidStat?.startTime ?? 0,
          keeperPid: child.pid ?? 0,
          keeperStartTime: keeperStat?.startTime ?? 0,
          exitFile: join(exitDir, id),
          cgroupsPath: spec.linux?.cgroupsPath ?? `/${id}`,
          ...(netns === undefined ? {} : { netns }),
          created: new Date().toISOString(),
          ...(spec.annotations === undefined ? {} : { annotations: spec.annotations }),
          ociVersion: RUNTIME_SPEC_VERSION,
        };
        await writeRecord(root, record);
        keepers.set(id, exited);
        if (createOptions.pidFile !== undefined)
          await writeFile(createOptions.pidFile, String(pid));
        // `<binary> create` just succeeded: the container is created (saves a `state` call)
        return {
          ociVersion: RUNTIME_SPEC_VERSION,
          id,
          status: 'created' as const,
          pid,
          bundle,
          ...(spec.annotations === undefined ? {} : { annotations: spec.annotations }),
        };
      } catch (err) {
        await runCommand(binary, ['--root', binaryRoot, 'delete', '--force', id]);
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
        await unpinNetns(join(dir, 'netns')).catch(() => undefined);
        await removeContainerDir(root, id);
        throw err;
      }
    },

    async start(id) {
      await readRecord(root, id);
      // the binary refuses any status but created ("cannot start …" → failed-precondition)
      await run(['start', id], 'start', id);
    },

    async state(id) {
      const record = await readRecord(root, id);
      const state = await binaryState(id);
      return {
        ociVersion: state.ociVersion,
        id,
        status: state.status,
        pid: state.pid ?? 0,
        bundle: record.bundle,
        ...(state.annotations === undefined ? {} : { annotations: state.annotations }),
      };
    },

    async list() {
      const out: RuntimeState[] = [];
      for (const id of await listIds(root)) {
        try {
          out.push(await runtime.state(id));
        } catch {
          // deleted meanwhile
        }
      }
      return out;
    },

    async kill(id, signal, killOptions = {}) {
      await requireStatus(id, 'kill');
      await run(
        ['kill', ...(killOptions.all === true ? ['--all'] : []), id, String(signalNumber(signal))],
        'kill',
        id,
      );
    },

    async wait(id, waitOptions = {}): Promise<ExitStatus> {
      const record = await readRecord(root, id);
      const cgroup = await cgroupOf(record).catch(() => undefined);
      const keepAlive = setInterval(() => undefined, 1 << 30);
      try {
        return await waitForExit(record, cgroup, keepers.get(id), waitOptions.signal);
      } finally {
        clearInterval(keepAlive);
      }
    },

    async delete(id, deleteOptions = {}) {
      let record: ContainerRecord;
      try {
        record = await readRecord(root, id);
      } catch (err) {
        // a create that crashed before its state was written: clean up what may exist
        if (deleteOptions.force !== true || !isNotFound(err) || !existsSync(containerDir(root, id)))
          throw err;
        await runCommand(binary, ['--root', binaryRoot, 'delete', '--force', id]);
        await unpinNetns(join(containerDir(root, id), 'netns')).catch(() => undefined);
        await removeContainerDir(root, id);
        return;
      }
      const state = await binaryState(id).catch(() => undefined);
      if (state !== undefined) {
        if (state.status !== 'stopped' && deleteOptions.force !== true) {
          throw failedPrecondition(
            `cannot delete container "${id}": it is ${state.status}; stop it first or delete with force`,
            { details: { id, status: state.status } },
          );
        }
        await run(
          ['delete', ...(deleteOptions.force === true ? ['--force'] : []), id],
          'delete',
          id,
        );
      }
      const keeper = keepers.get(id);
      if (keeper !== undefined) await keeper;
      if (record.netns !== undefined) await unpinNetns(record.netns);
      keepers.delete(id);
      await removeContainerDir(root, id);
    },

    async pause(id) {
      await requireStatus(id, 'pause');
      await run(['pause', id], 'pause', id);
    },

    async resume(id) {
      await requireStatus(id, 'resume');
      await run(['resume', id], 'resume', id);
    },

    async exec(id, proc: Process, execOptions: ExecOptions = {}): Promise<ExecProcess> {
      await requireStatus(id, 'exec');
      const file = join(
        containerDir(root, id),
        `exec-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}.json`,
      );
      await writeFile(file, JSON.stringify(proc));
      const child = spawn(binary, ['--root', binaryRoot, 'exec', '--process', file, id], {
        stdio: spawnStdio(execOptions.stdio),
        ...(execOptions.signal === undefined ? {} : { signal: execOptions.signal }),
      });
      const done = new Promise<ExitStatus>((resolveDone, rejectDone) => {
        child.once('error', rejectDone);
        child.once('exit', (code, sig) => {
          const exitCode = code ?? (sig === null ? -1 : 128 + signalNumber(sig));
          void rm(file, { force: true });
          resolveDone({
            exitCode,
            ...(sig === null ? {} : { signal: sig }),
            oomKilled: false,
            finishedAt: new Date().toISOString(),
          });
        });
      });
      await new Promise<void>((r, j) => {
        child.once('spawn', r);
        child.once('error', j);
      });
      return {
        pid: child.pid ?? 0,
        wait: () => done,
        async kill(sig) {
          // a foreground `runc exec` forwards the signals it gets to the process
          if (child.exitCode === null && child.signalCode === null) child.kill(signalNumber(sig));
          await Promise.resolve();
        },
      };
    },

    async resize(id) {
      await readRecord(root, id);
      throw failedPrecondition(
        `container "${id}" has no terminal lab can resize: the ${name} runtime runs without terminals here`,
      );
    },

    async netnsPath(id) {
      return (await readRecord(root, id)).netns;
    },
  };
  return runtime;
}
