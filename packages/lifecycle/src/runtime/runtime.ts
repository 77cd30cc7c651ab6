/**
 * The OCI runtime contract — the seam between container lifecycle and isolation. Every
 * implementation (the builtin util-linux runtime, runc through conmon) takes the same bundle
 * and behaves the same way; `testsuite.ts` pins that.
 *
 * Operations follow runtime-spec runtime.md: `create` builds the environment and leaves the
 * process waiting (status `created`); `start` runs it (`running`); the process exits
 * (`stopped`); `delete` removes everything `create` made. `pause`/`resume`/`exec` are the
 * usual extensions (`paused` is runc's extra status).
 *
 * ## Exit status and the monitor
 *
 * The container's first process is never a child of the caller: `create` spawns a small
 * *keeper* process (builtin: a busybox shell around `unshare --fork`; oci: `conmon --sync`),
 * which is the parent (or subreaper) of the container's init, exits with the container's exit
 * status and writes it to an exit file in the runtime's state directory. So:
 *
 * - The process that calls `create` (the monitor, which outlives the CLI) gets the status from
 *   `wait(id)` as soon as the keeper exits, and should then read `oomKilled` from the same
 *   result before calling `delete` (the cgroup is gone afterwards).
 * - Any other process (a later CLI) can call `wait(id)` too: it polls the keeper pid (with its
 *   start time, so a reused pid is not mistaken for it) and reads the exit file.
 * - If the keeper was killed, the status is lost: `wait` resolves with `exitCode: -1`
 *   (docker reports such a container as exited with 255 / "unknown").
 *
 * stdio: `create` hands the given fds to the container (with `process.terminal`, the builtin
 * runtime relays them to a pty through util-linux `script`; see `features.terminal`). A monitor
 * passes pipes or log files; the container keeps them after `create` returns.
 */
import type { Process, RuntimeState, RuntimeStatus } from '@lab/oci';

export type { RuntimeState, RuntimeStatus } from '@lab/oci';

/** An fd number the child gets, or `inherit`/`ignore` (as Node's spawn understands them). */
export type StdioTarget = number | 'inherit' | 'ignore';

/** The three standard streams of a process. */
export type Stdio = readonly [StdioTarget, StdioTarget, StdioTarget];

/** How a container process ended. */
export interface ExitStatus {
  /** The shell-style exit code: the exit status, or 128 + signal number; -1 when unknown. */
  exitCode: number;
  /** The signal that killed the process, when it was killed by one. */
  signal?: NodeJS.Signals;
  /** The memory cgroup recorded an OOM kill (the monitor sets docker's `OOMKilled` from it). */
  oomKilled: boolean;
  /** RFC 3339 time the runtime noticed the exit. */
  finishedAt: string;
}

/** Options of {@link Runtime.create}. */
export interface CreateOptions {
  /** stdin, stdout, stderr of the container process; default all `ignore`. */
  stdio?: Stdio;
  /** Write the host pid of the container process here too. */
  pidFile?: string;
  signal?: AbortSignal;
}

/** Options of {@link Runtime.exec}. */
export interface ExecOptions {
  stdio?: Stdio;
  signal?: AbortSignal;
}

/** A process started by `exec`. */
export interface ExecProcess {
  /** Host pid of the process that represents it (its exit is the exec's exit). */
  readonly pid: number;
  /** Resolves when it exits. */
  wait(): Promise<ExitStatus>;
  /** Signals the process inside the container (what `docker exec` forwards on ^C). */
  kill(signal: NodeJS.Signals | number): Promise<void>;
}

/** What a runtime can do. */
export interface RuntimeFeatures {
  /** `pause`/`resume` work (needs the freezer). */
  pause: boolean;
  /** `process.terminal: true` is supported. */
  terminal: boolean;
  /** cgroup limits are enforced. */
  cgroups: boolean;
}

/** A container runtime: the OCI operations plus pause/resume/exec/wait/list. */
export interface Runtime {
  /** `builtin`, `runc`, … */
  readonly name: string;
  readonly features: RuntimeFeatures;
  /**
   * Builds the container from `<bundleDir>/config.json`; returns when it is `created`
   * (the process is waiting for `start`). Fails with already-exists for a used id,
   * invalid-argument for a config it cannot apply; nothing is left behind on failure.
   */
  create(id: string, bundleDir: string, options?: CreateOptions): Promise<RuntimeState>;
  /** Runs the process of a `created` container; failed-precondition otherwise. */
  start(id: string): Promise<void>;
  /** The state object; not-found for an unknown id. */
  state(id: string): Promise<RuntimeState>;
  /** The containers under this runtime's root. */
  list(): Promise<RuntimeState[]>;
  /** Sends `signal` to the container process (`all`: to every process in its cgroup). */
  kill(id: string, signal: NodeJS.Signals | number, options?: { all?: boolean }): Promise<void>;
  /** Resolves with the exit status once the container process has exited. */
  wait(id: string, options?: { signal?: AbortSignal }): Promise<ExitStatus>;
  /** Removes what `create` made; failed-precondition unless stopped (or `force`, which kills first). */
  delete(id: string, options?: { force?: boolean }): Promise<void>;
  /** Freezes every process of a running container. */
  pause(id: string): Promise<void>;
  /** Thaws a paused container. */
  resume(id: string): Promise<void>;
  /** Runs `process` inside a running container (same namespaces and cgroup). */
  exec(id: string, process: Process, options?: ExecOptions): Promise<ExecProcess>;
  /** Resizes the terminal of a container created with `process.terminal` (SIGWINCH follows). */
  resize(id: string, size: { rows: number; cols: number }): Promise<void>;
  /** The path of the container's network namespace (to configure with `ip`), if it has its own. */
  netnsPath(id: string): Promise<string | undefined>;
}

/** OCI status transitions (runc/youki): which operations each status admits. */
export const ALLOWED: Record<
  'start' | 'kill' | 'delete' | 'pause' | 'resume' | 'exec',
  readonly RuntimeStatus[]
> = {
  start: ['created'],
  kill: ['created', 'running', 'paused'],
  delete: ['stopped'],
  pause: ['running'],
  resume: ['paused'],
  exec: ['running'],
};
