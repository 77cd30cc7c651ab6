/**
 * Starting the restart manager ({@link monitorMain}): a detached Node process (own session,
 * so it outlives `lab`) that records an exit, waits docker's back-off and starts the
 * container again. The bash log monitor execs it at exit ({@link monitorCommand}); lab spawns
 * it directly when it finds a container that must restart.
 *
 * From the built package it imports `dist/index.js`; from source (tests) it runs
 * `src/index.ts` through tsx with the `@lab/source` condition.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** What the restart manager is told. */
export interface MonitorArgs {
  root: string;
  id: string;
}

function entry(): { url: string; nodeArgs: string[] } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const require = createRequire(here);
    return {
      url: new URL('../index.ts', here).href,
      nodeArgs: [
        '--import',
        pathToFileURL(require.resolve('tsx')).href,
        '--conditions=@lab/source',
      ],
    };
  }
  return { url: here, nodeArgs: [] };
}

/** Small heaps: the manager needs little memory. */
const NODE_FLAGS = ['--max-old-space-size=32', '--max-semi-space-size=1'];

/** The argv that runs the restart manager for `args`. */
export function monitorCommand(args: MonitorArgs): string[] {
  const { url, nodeArgs } = entry();
  const script = `const m = await import(${JSON.stringify(url)}); await m.monitorMain(process.argv[1]);`;
  return [
    process.execPath,
    ...nodeArgs,
    ...NODE_FLAGS,
    '--input-type=module',
    '-e',
    script,
    JSON.stringify(args),
  ];
}

/** Spawns the restart manager, detached. */
export function spawnMonitor(args: MonitorArgs): ChildProcess {
  const [cmd, ...rest] = monitorCommand(args) as [string, ...string[]];
  return spawn(cmd, rest, {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
}
