/**
 * The restart manager: runs when a container with a restart policy (or `--rm`, detached)
 * exits. It records the exit, then — as docker's restart manager — waits the back-off
 * (100 ms doubling, reset after 10 s of running), re-checks that nobody stopped the container
 * meanwhile, and starts it again (a new log monitor + runtime create/start); or removes an
 * `--rm` container. It exits as soon as the container runs again: between exits a container
 * only has its bash log monitor (log-pump.ts) and the runtime's keeper.
 */
import { openContainers } from '../containers/engine.js';
import { readContainer, updateContainer } from '../containers/store.js';
import { processStat } from '../runtime/process-info.js';
import { nextBackoff } from './restart-policy.js';
import type { MonitorArgs } from './spawn.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Handles one exit of `args.id`. */
export async function runRestartManager(args: MonitorArgs): Promise<void> {
  const containers = openContainers({ root: args.root });
  const { container, restart } = await containers.recordExit(args.id);
  if (!restart) {
    await containers.afterExit(args.id, false);
    return;
  }
  const me = await processStat(process.pid);
  await updateContainer(args.root, args.id, (cur) =>
    cur.state.Status === 'restarting'
      ? { ...cur.state, MonitorPid: process.pid, MonitorStartTime: me?.startTime ?? 0 }
      : undefined,
  );
  const ran = Date.parse(container.state.FinishedAt) - Date.parse(container.state.StartedAt);
  const backoff = nextBackoff(container.state.BackoffMs, Number.isNaN(ran) ? 0 : ran);
  const until = Date.now() + backoff;
  while (Date.now() < until) {
    await sleep(Math.min(50, Math.max(1, until - Date.now())));
    const cur = await readContainer(args.root, args.id).catch(() => undefined);
    if (cur === undefined) return;
    if (cur.state.ManuallyStopped || cur.state.Status !== 'restarting') break;
  }
  await containers.restartNow(args.id, backoff);
}

/** The restart manager's process entry: `argJson` is the JSON of {@link MonitorArgs}. */
export async function monitorMain(argJson: string): Promise<void> {
  process.on('SIGHUP', () => undefined);
  process.on('SIGINT', () => undefined);
  // the providers lab's CLI uses (bridge network, local volumes), as in a composition root
  const { labProviders } = await import('../network/lab-providers.js');
  const { registerProviders } = await import('../containers/providers.js');
  registerProviders((root) => labProviders(root));
  await runRestartManager(JSON.parse(argJson) as MonitorArgs);
}
