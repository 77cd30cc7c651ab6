/**
 * Starting a container and (for `run` without -d, `start -a`) staying attached: output is
 * copied from the log monitor's pipes; with `-t` on a real terminal the container gets the
 * terminal's fds directly and Ctrl-C/Ctrl-\ reach its processes through lab (the terminal
 * sends the signal to lab's process group; lab forwards it to every process of the container).
 */
import { createWriteStream } from 'node:fs';
import type { Containers } from '@lab/lifecycle';
import { startErrorExitCode } from '@lab/lifecycle';
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
  const outputs: Promise<void>[] = [];
  const pump = handle.pump;
  if (pump !== undefined) {
    for (const [src, dst] of [
      [pump.stdout, ctx.stdout],
      [pump.stderr, ctx.stderr],
    ] as const) {
      if (src === null) continue;
      outputs.push(
        new Promise<void>((resolve) => {
          src.on('data', (chunk: Buffer) => dst.write(chunk));
          src.once('end', resolve);
          src.once('close', resolve);
        }),
      );
    }
  }
  if (handle.stdinFd !== undefined) {
    const w = createWriteStream('', { fd: handle.stdinFd });
    w.on('error', () => undefined);
    ctx.stdin.pipe(w);
  }
  const forward = (sig: NodeJS.Signals) => () => {
    void containers
      .runtimeOf(c)
      .kill(c.id, sig, { all: true })
      .catch(() => undefined);
  };
  const handlers = ttyMode
    ? ([
        ['SIGINT', forward('SIGINT')],
        ['SIGQUIT', forward('SIGQUIT')],
      ] as const)
    : ([] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    await handle.exit();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(outputs),
      new Promise((r) => {
        timer = setTimeout(r, 2000);
      }),
    ]);
    clearTimeout(timer);
    const { container, restart } = await containers.recordExit(c.id);
    await containers.afterExit(c.id, restart);
    return { id: c.id, exitCode: container.state.ExitCode };
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    ctx.stdin.unpipe();
    pump?.stdout?.destroy();
    pump?.stderr?.destroy();
    pump?.unref();
  }
}
