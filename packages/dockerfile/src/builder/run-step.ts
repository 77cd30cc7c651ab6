/**
 * RUN as a build step (BuildKit `dispatchRun`): the command line (shell form wrapped in SHELL,
 * heredocs as BuildKit runs them), the environment (ENV, declared ARGs, undeclared proxy
 * args), mounts (`cache` persisted under the build cache, `bind` from the context/a stage/an
 * image, `tmpfs`, `secret`), the network, a cache key from all of that but the proxy args and
 * secrets, and the history text with the `|N ARG=v` prefix.
 */
import { createHash } from 'node:crypto';
import {
  chmod,
  chown,
  copyFile,
  cp,
  lstat,
  mkdtemp,
  readFile,
  rm,
  writeFile,
} from 'node:fs/promises';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { failedPrecondition, invalidArgument } from '@lab/oci';
import { chompHeredocContent, parseHeredocWord } from '../parser/heredoc.js';
import { proxyEnvironment } from '../instructions/environment.js';
import type { RunInstruction, RunMount } from '../instructions/types.js';
import { cacheKey } from './cache.js';
import { resolveInRoot } from './copy.js';
import type { BuildSession, StageState } from './session.js';
import { awaitSources, withSource, type MountedSource } from './sources.js';
import { cleanSourcePath, hashSourcePath } from './source-tree.js';
import { failureReason, stepError } from './step-error.js';
import { commitStep, displayText, stepName, workdirOf } from './steps.js';
import type { ExecMount } from './types.js';

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const TAIL_LINES = 10;

/** The command line BuildKit runs for `cmd` (heredocs resolved, SHELL prepended). */
export function runArgs(
  cmd: RunInstruction,
  shell: readonly string[],
): { args: string[]; pipes: { name: string; data: string }[] } {
  let args = [...cmd.command];
  const pipes: { name: string; data: string }[] = [];
  if (cmd.files.length > 0) {
    const first = cmd.files[0]!;
    const opener = args.length === 1 ? parseHeredocWord(args[0]!.trim()) : undefined;
    if (opener !== undefined && opener !== null) {
      const data = first.chomp ? chompHeredocContent(first.data) : first.data;
      if (data.startsWith('#!')) {
        pipes.push({ name: first.name, data });
        args = [`/dev/pipes/${first.name}`];
        return { args, pipes };
      }
      args = [data];
    } else {
      let text = args[0] ?? '';
      for (const f of cmd.files) text += `\n${f.data}${f.name}`;
      args = [text];
    }
  }
  if (cmd.prependShell) return { args: [...shell, args.join(' ')], pipes };
  return { args, pipes };
}

/** BuildKit's `summarizeHeredoc`: the first line of the body, `...` when there are more. */
function summarizeHeredoc(doc: string): string {
  const lines = doc.trim().replace(/\r\n/g, '\n').split('\n');
  return lines.length > 1 ? `${lines[0] ?? ''}...` : (lines[0] ?? '');
}

const PROXY_ORDER = ['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY'];

/**
 * The proxy build-args as the exec op sets them (BuildKit `proxyEnvFromBuildArgs` and
 * `proxyEnvList`): each in both spellings (`HTTP_PROXY` and `http_proxy`), in a fixed order;
 * of two spellings given, the one sorting last (lower case) wins.
 */
export function proxyEnvList(args: ReadonlyMap<string, string>): string[] {
  const values = new Map<string, string>();
  for (const key of [...args.keys()].sort()) {
    const value = args.get(key)!;
    if (value !== '') values.set(key.toUpperCase(), value);
  }
  const out: string[] = [];
  for (const name of PROXY_ORDER) {
    const v = values.get(name);
    if (v !== undefined) out.push(`${name}=${v}`, `${name.toLowerCase()}=${v}`);
  }
  return out;
}

/** BuildKit's `runCommandString`: `|N K=V … args`. */
function runCommandString(args: readonly string[], state: StageState): string {
  const seen = new Map<string, number>();
  const entries: string[] = [];
  for (const key of state.env.declaredArgs) {
    const entry = `${key}=${state.env.env.get(key) ?? ''}`;
    const at = seen.get(key);
    if (at === undefined) {
      seen.set(key, entries.length);
      entries.push(entry);
    } else entries[at] = entry;
  }
  const prefix = entries.length > 0 ? [`|${String(entries.length)}`, ...entries] : [];
  return [...prefix, ...args].join(' ');
}

/** Keeps the last lines written, for error reports. */
class Tail extends Writable {
  readonly lines: string[] = [];
  #partial = '';
  constructor(private readonly onText: (text: string) => void) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    const text = chunk.toString('utf8');
    this.onText(text);
    const parts = (this.#partial + text).split('\n');
    this.#partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > TAIL_LINES) this.lines.splice(0, this.lines.length - TAIL_LINES);
    done();
  }
  tail(): string[] {
    const all = this.#partial === '' ? this.lines : [...this.lines, this.#partial];
    return all.slice(-TAIL_LINES);
  }
}

function mountTarget(m: RunMount, cwd: string): string {
  const id = m.type === 'secret' ? (m.id ?? path.posix.basename(m.target ?? '')) : '';
  let target = m.target ?? (m.type === 'secret' ? `/run/secrets/${id}` : '');
  if (target === '') throw invalidArgument(`RUN --mount=type=${m.type} needs a target`);
  target = path.posix.resolve(cwd, target);
  if (target === '/') throw invalidArgument(`RUN --mount target "/" is not allowed`);
  return target;
}

interface PreparedMounts {
  readonly mounts: ExecMount[];
  readonly env: string[];
  readonly keyParts: unknown[];
  /** Cache-mount directories in use by this step, and whether they are `sharing=locked`. */
  readonly cacheDirs: { dir: string; locked: boolean }[];
}

/** Waits for the `sharing=locked` cache directory `dir`; returns its release. */
async function lockCacheDir(session: BuildSession, dir: string): Promise<() => void> {
  const previous = session.cacheMountLocks.get(dir) ?? Promise.resolve();
  let release: () => void = () => undefined;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  session.cacheMountLocks.set(
    dir,
    previous.then(() => mine),
  );
  await previous;
  return release;
}

async function prepareMounts(
  session: BuildSession,
  cmd: RunInstruction,
  cwd: string,
  sources: ReadonlyMap<string, MountedSource>,
): Promise<PreparedMounts> {
  const mounts: ExecMount[] = [];
  const env: string[] = [];
  const keyParts: unknown[] = [];
  const cacheDirs: { dir: string; locked: boolean }[] = [];
  const ns = session.options.buildArgs?.BUILDKIT_CACHE_MOUNT_NS ?? '';
  for (const m of cmd.mounts) {
    if (m.type === 'ssh') {
      if (m.required) throw invalidArgument('RUN --mount=type=ssh is not supported by lab');
      continue;
    }
    if (m.type === 'secret') {
      const id = m.id ?? path.posix.basename(m.target ?? '');
      const secret = session.options.secrets?.find((s) => s.id === id);
      let value: Buffer | undefined;
      if (secret !== undefined && 'file' in secret) value = await readFile(secret.file);
      else if (secret !== undefined) {
        const v = session.options.environment?.[secret.env];
        if (v !== undefined) value = Buffer.from(v);
      }
      keyParts.push({ type: 'secret', id, target: m.target ?? '', env: m.env ?? '' });
      if (value === undefined) {
        if (m.required) {
          throw invalidArgument(`secret ${id} not found; pass it with --secret id=${id},src=FILE`);
        }
        continue;
      }
      if (m.env !== undefined) env.push(`${m.env}=${value.toString('utf8')}`);
      if (m.env === undefined || m.target !== undefined) {
        const dir = await mkdtemp(path.join(session.tmp, 'secret-'));
        const file = path.join(dir, id.replace(/\//g, '_'));
        await writeFile(file, value, { mode: m.mode ?? 0o400 });
        await chmod(file, m.mode ?? 0o400);
        await chown(file, m.uid ?? 0, m.gid ?? 0);
        mounts.push({ type: 'bind', source: file, target: mountTarget(m, cwd), readonly: true });
      }
      continue;
    }
    const target = mountTarget(m, cwd);
    if (m.type === 'tmpfs') {
      mounts.push({ type: 'tmpfs', target, ...(m.size === undefined ? {} : { size: m.size }) });
      keyParts.push({ type: 'tmpfs', target, size: m.size ?? 0 });
      continue;
    }
    if (m.type === 'cache') {
      const id = m.id ?? target;
      let dir = await session.cache.mountDir(`${ns}/${id}`);
      // private: a step that finds the directory in use gets one of its own
      for (let n = 1; m.sharing === 'private' && (session.cacheMountUsers.get(dir) ?? 0) > 0; n++) {
        dir = await session.cache.mountDir(`${ns}/${id}#private-${String(n)}`);
      }
      session.cacheMountUsers.set(dir, (session.cacheMountUsers.get(dir) ?? 0) + 1);
      cacheDirs.push({ dir, locked: m.sharing === 'locked' });
      if (m.uid !== undefined || m.gid !== undefined) await chown(dir, m.uid ?? 0, m.gid ?? 0);
      if (m.mode !== undefined) await chmod(dir, m.mode);
      mounts.push({ type: 'bind', source: dir, target, readonly: m.readOnly });
      keyParts.push({ type: 'cache', target, readOnly: m.readOnly });
      continue;
    }
    // bind
    const source = sources.get(m.from ?? '');
    if (source === undefined) throw invalidArgument(`RUN --mount=type=bind: source unavailable`);
    const rel = cleanSourcePath(m.source ?? '');
    let host = path.join(source.tree.root, rel);
    try {
      await lstat(host);
    } catch {
      throw failedPrecondition(
        `RUN --mount=type=bind,source=${m.source ?? '.'}: "/${rel}" not found in the ${source.tree.label}`,
      );
    }
    const hash = createHash('sha256');
    if (source.key === undefined) await hashSourcePath(source.tree, rel, hash);
    keyParts.push({
      type: 'bind',
      target,
      rel,
      from: source.key ?? 'context',
      content: hash.digest('hex'),
      readOnly: m.readOnly,
    });
    if (!m.readOnly) {
      // a writable bind mount's changes are discarded: give the step a copy
      const copy = path.join(await mkdtemp(path.join(session.tmp, 'bind-')), 'data');
      const st = await lstat(host);
      if (st.isDirectory()) await cp(host, copy, { recursive: true, verbatimSymlinks: true });
      else await copyFile(host, copy);
      host = copy;
    }
    mounts.push({ type: 'bind', source: host, target, readonly: m.readOnly });
  }
  return { mounts, env, keyParts, cacheDirs };
}

async function withMountSources<T>(
  session: BuildSession,
  froms: readonly string[],
  acc: Map<string, MountedSource>,
  fn: (sources: ReadonlyMap<string, MountedSource>) => Promise<T>,
): Promise<T> {
  const [first, ...rest] = froms;
  if (first === undefined) return fn(acc);
  if (acc.has(first)) return withMountSources(session, rest, acc, fn);
  return withSource(session, first === '' ? undefined : first, 'RUN --mount', (source) => {
    acc.set(first, source);
    return withMountSources(session, rest, acc, fn);
  });
}

/** Runs a RUN step on `state`. */
export async function dispatchRun(
  session: BuildSession,
  state: StageState,
  cmd: RunInstruction,
): Promise<void> {
  await awaitSources(
    session,
    cmd.mounts.map((m) => m.from),
  );
  const summary = cmd.files[0] === undefined ? '' : ` (${summarizeHeredoc(cmd.files[0].data)})`;
  const name = stepName(state, displayText(session, state, cmd.original, true) + summary);
  const vertex = session.vertex(name);
  let tail: Tail | undefined;
  try {
    if (cmd.security === 'insecure') {
      throw invalidArgument(
        'RUN --security=insecure needs the security.insecure entitlement, which lab does not grant',
      );
    }
    const config = state.config.config ?? {};
    const shell =
      config.Shell !== undefined && config.Shell !== null && config.Shell.length > 0
        ? config.Shell
        : DEFAULT_SHELL;
    const { args, pipes } = runArgs(cmd, shell);
    const cwd = workdirOf(state);
    const user = config.User ?? '';
    const network = cmd.network === 'default' ? (session.options.network ?? 'host') : cmd.network;
    const env = [...state.env.env].map(([k, v]) => `${k}=${v}`);
    const proxies = proxyEnvList(proxyEnvironment(session.options.buildArgs ?? {}, state.env));
    const froms = [
      ...new Set(cmd.mounts.filter((m) => m.type === 'bind').map((m) => m.from ?? '')),
    ];
    await withMountSources(session, froms, new Map(), async (sources) => {
      const prepared = await prepareMounts(session, cmd, cwd, sources);
      if (pipes.length > 0) {
        const dir = await mkdtemp(path.join(session.tmp, 'pipes-'));
        for (const p of pipes) await writeFile(path.join(dir, p.name), p.data, { mode: 0o755 });
        prepared.mounts.push({ type: 'bind', source: dir, target: '/dev/pipes', readonly: true });
      }
      const key = cacheKey(state.fsKey, 'run', {
        args,
        env,
        cwd,
        user,
        network,
        security: cmd.security,
        mounts: prepared.keyParts,
        pipes,
      });
      const createdBy = `RUN ${runCommandString(args, state)}`;
      try {
        await commitStep(session, state, vertex, key, createdBy, async (rootfs) => {
          const targets = prepared.mounts.map((m) => m.target);
          if (network === 'host') {
            for (const f of ['/etc/resolv.conf', '/etc/hosts']) {
              prepared.mounts.push({ type: 'bind', source: f, target: f, readonly: true });
              targets.push(f);
            }
          }
          // mount points the runtime will create: removed afterwards so they stay out of the layer
          const created: string[] = [];
          for (const t of targets) {
            let p = t;
            let firstMissing: string | undefined;
            while (
              p !== '/' &&
              !p.startsWith('/dev/') &&
              !p.startsWith('/proc/') &&
              !p.startsWith('/sys/')
            ) {
              try {
                await lstat(await resolveInRoot(rootfs, p));
                break;
              } catch {
                firstMissing = p;
                p = path.posix.dirname(p);
              }
            }
            if (firstMissing !== undefined) created.push(await resolveInRoot(rootfs, firstMissing));
          }
          const out = new Tail((text) => {
            vertex.log('stdout', text);
          });
          tail = out;
          session.options.signal?.throwIfAborted();
          // sharing=locked: one step at a time per directory (taken in path order: no deadlock)
          const releases: (() => void)[] = [];
          const locked = prepared.cacheDirs
            .filter((c) => c.locked)
            .map((c) => c.dir)
            .sort();
          for (const dir of [...new Set(locked)]) releases.push(await lockCacheDir(session, dir));
          session.stats.runsExecuted++;
          let exitCode: number;
          try {
            ({ exitCode } = await session.options.executor.run({
              id: `build-${createHash('sha256')
                .update(`${key}${String(Date.now())}${String(Math.random())}`)
                .digest('hex')
                .slice(0, 24)}`,
              rootfs,
              args,
              env: [...env, ...proxies, ...prepared.env],
              cwd,
              user,
              network,
              hostname: 'buildkitsandbox',
              mounts: prepared.mounts,
              stdout: out,
              stderr: out,
              ...(session.options.signal === undefined ? {} : { signal: session.options.signal }),
            }));
          } finally {
            for (const release of releases) release();
            for (const c of created) await rm(c, { recursive: true, force: true });
          }
          if (exitCode !== 0) {
            throw stepError(
              'failed-precondition',
              {
                file: session.dockerfileName,
                line: cmd.range.start.line,
                endLine: cmd.range.end.line,
                instruction: name,
                outputTail: out.tail(),
                exitCode,
              },
              `process "${args.join(' ')}" did not complete successfully: exit code: ${String(exitCode)}`,
            );
          }
        });
      } finally {
        for (const { dir } of prepared.cacheDirs) {
          session.cacheMountUsers.set(dir, (session.cacheMountUsers.get(dir) ?? 1) - 1);
        }
      }
    });
    vertex.done();
  } catch (err) {
    vertex.fail(failureReason(err));
    if (
      err instanceof Error &&
      'details' in err &&
      typeof (err as { details: { line?: unknown } }).details.line === 'number'
    )
      throw err;
    throw stepError(
      'failed-precondition',
      {
        file: session.dockerfileName,
        line: cmd.range.start.line,
        endLine: cmd.range.end.line,
        instruction: name,
        outputTail: tail?.tail() ?? [],
      },
      err instanceof Error ? err.message : String(err),
      err,
    );
  }
}
