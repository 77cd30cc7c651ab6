import type { Readable, Writable } from 'node:stream';

/** Everything a command may touch of the outside world; the app passes the process's. */
export interface CliContext {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** The version printed by `lab --version`. */
  version: string;
}

/** Global options every command can read. */
export interface GlobalOptions {
  /** The state directory. */
  root: string;
}
