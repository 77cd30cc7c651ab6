/**
 * The shared harness of the CLI tests: the CLI run in process on in-memory streams, the
 * busybox image fixture, and a poller. Imported only by tests; it lives outside `src/`, so it
 * is neither bundled by tsup nor published.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { run, type Register } from '../src/index.js';
import { run as runGroups } from '../src/program.js';

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The PATH the busybox image is imported with. */
export const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The `--change` instructions the busybox image is imported with. */
export const BUSYBOX_CHANGES: readonly string[] = ['CMD ["sh"]', `ENV ${PATH_ENV}`];

export const isRoot = process.getuid?.() === 0;

/** What one in-process run of the CLI left behind. */
export interface LabResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A writable stream that keeps what is written; `text()` returns it as UTF-8. */
export function sink(): Writable & { text: () => string } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  }) as Writable & { text: () => string };
  w.text = () => Buffer.concat(chunks).toString('utf8');
  return w;
}

export interface LabOptions {
  /** Prepends `--root ROOT` to the arguments. */
  root?: string;
  /** Standard input; none (an empty stream) when undefined. */
  stdin?: string | Buffer | undefined;
  env?: Record<string, string> | undefined;
  /** Defaults to `process.cwd()`. */
  cwd?: string | undefined;
  /** What `lab --version` prints; defaults to `test`. */
  version?: string;
  /** Registers only these command groups instead of the ones `run()` picks for the arguments. */
  groups?: readonly Register[];
}

/** Runs the `lab` command line in process and collects its exit code and output. */
export async function runLab(args: readonly string[], opts: LabOptions = {}): Promise<LabResult> {
  const stdout = sink();
  const stderr = sink();
  const ctx = {
    stdin: Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]),
    stdout,
    stderr,
    env: { ...opts.env },
    cwd: opts.cwd ?? process.cwd(),
    version: opts.version ?? 'test',
  };
  const argv = opts.root === undefined ? [...args] : ['--root', opts.root, ...args];
  const code =
    opts.groups === undefined ? await run(argv, ctx) : await runGroups(argv, ctx, opts.groups);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** Writes the busybox rootfs tar (scripts/busybox-image.sh) into `dir`; returns its path. */
export function busyboxRootfs(dir: string): string {
  const rootfs = join(dir, 'rootfs.tar');
  execFileSync('bash', [join(REPO, 'scripts/busybox-image.sh'), '--rootfs-tar', rootfs]);
  return rootfs;
}

/** Polls `fn` every 100 ms until it returns a value; throws naming `what` after `ms`. */
export async function until<T>(
  fn: () => T | undefined | Promise<T | undefined>,
  what: string,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
