/**
 * Starting a container and (for `run` without -d, `start -a`) staying attached: output is
 * read from the container's log as the monitor appends it. With `-t` on a real terminal the
 * container gets the terminal's fds: a runtime with terminal support (builtin) gives the
 * container a pty of its own (its controlling terminal) and relays it in raw mode, so Ctrl-C
 * is a byte the container's terminal turns into SIGINT; with one that has none (runc here),
 * the container uses lab's terminal directly and Ctrl-C/Ctrl-\ reach its processes through
 * lab (the terminal signals lab's process group; lab forwards it to the container).
 */
import { createWriteStream } from 'node:fs';
import type { Containers } from '@lab/lifecycle';
import { readLogs, startErrorExitCode } from '@lab/lifecycle';
import { isLabError } from '@lab/oci';
import type { CliContext } from '../../context.js';

/** The outcome: the container's id and, when attached, its exit code; 125–127 on failure. */
export interface StartResult {
  id: string;
  exitCode?: number;
  error?: string;
}

function fdOf(stream: unknown): number | undefined {
  const fd = (stream as { fd?: unknown }).fd;
  return typeof fd === 'number' ? fd : undefined;
}

export async function startContainer(
  containers: Containers,
  ref: string,
  ctx: CliContext,
  opts: { attach: boolean; stdin: boolean; tty: boolean },
): Promise<StartResult> {
  const c = await containers.get(ref);
  const stdinFd = fdOf(ctx.stdin);
  const ttyMode = opts.attach && opts.tty && ctx.stdin.isTTY === true && stdinFd !== undefined;
  let handle;
  try {
    if (!opts.attach) {
      handle = await containers.start(c.id);
    } else if (ttyMode) {
      handle = await containers.start(c.id, {
        attach: { mode: 'tty', fds: [stdinFd, fdOf(ctx.stdout) ?? 1, fdOf(ctx.stderr) ?? 2] },
      });
    } else {
      handle = await containers.start(c.id, {
        attach: { mode: 'pipes', ...(opts.stdin ? { stdin: stdinFd ?? 'pipe' } : {}) },
      });
    }
  } catch (err) {
    if (!isLabError(err)) throw err;
    return { id: c.id, exitCode: startErrorExitCode(err), error: err.message };
  }
  if (handle === undefined || !opts.attach) return { id: c.id };
  const h = handle;
  // the output of this run, from the log the monitor writes (complete and in order)
  const output = (async () => {
    for await (const e of readLogs(containers.logPath(h.container), {
      from: h.logOffset,
      follow: true,
      pollMs: 20,
      done: () => h.finished(),
    })) {
      (e.stream === 'stderr' ? ctx.stderr : ctx.stdout).write(e.log);
    }
  })();
  if (handle.stdinFd !== undefined) {
    const w = createWriteStream('', { fd: handle.stdinFd });
    w.on('error', () => undefined);
    ctx.stdin.pipe(w);
  }
  // -t without a pty of the container's own: the terminal's Ctrl-C/Ctrl-\ reach lab's process
  // group; pass them to every process of the container. Otherwise docker's sig-proxy:
  // signals lab receives go to the container's main process. Only when lab runs as a process
  // (its stdin has an fd), not when embedded.
  const forward = (sig: NodeJS.Signals, all: boolean) => () => {
    void containers
      .runtimeOf(c)
      .kill(c.id, sig, { all })
      .catch(() => undefined);
  };
  const handlers: (readonly [NodeJS.Signals, () => void])[] = ttyMode
    ? [
        ['SIGINT', forward('SIGINT', true)],
        ['SIGQUIT', forward('SIGQUIT', true)],
      ]
    : stdinFd === undefined
      ? []
      : (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const).map(
          (sig) => [sig, forward(sig, false)] as const,
        );
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    await handle.exit();
    await output;
    const { container, restart } = await containers.recordExit(c.id);
    await containers.afterExit(c.id, restart);
    return { id: c.id, exitCode: container.state.ExitCode };
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    ctx.stdin.unpipe();
  }
}
