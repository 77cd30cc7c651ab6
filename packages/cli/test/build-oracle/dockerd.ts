/**
 * A private dockerd for the build oracle: its own data root, exec root, pidfile and socket, no
 * bridge and no iptables (as in /work/shared/reference-tools/BASELINES.md), driven with the
 * Debian 20.10 client at /usr/bin/docker with `DOCKER_BUILDKIT=1` (the daemon's built-in
 * BuildKit; no buildx needed).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const DOCKER_CLIENT = '/usr/bin/docker';

export interface Dockerd {
  /** Runs the docker client against this daemon; rejects with stderr on a non-zero exit. */
  docker(args: readonly string[], options?: { cwd?: string }): Promise<string>;
  /** Same, resolving with both streams (BuildKit's plain progress goes to stderr). */
  dockerOutput(args: readonly string[]): Promise<{ stdout: string; stderr: string }>;
  /** Stops the daemon, unmounts leftovers under its data root and removes its directories. */
  stop(): Promise<void>;
  readonly log: string;
}

export type StartResult = { ok: true; dockerd: Dockerd } | { ok: false; reason: string };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Unmounts every mount at or below `dir`, deepest first (overlay2 merged dirs, shm, netns). */
function unmountBelow(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

/**
 * Starts dockerd with state under `dir` (created). Resolves `{ ok: false, reason }` when the
 * binaries are missing or the daemon does not answer within 30 s (its log's last error line is
 * in the reason).
 */
export async function startDockerd(dir: string): Promise<StartResult> {
  if (!existsSync('/usr/sbin/dockerd') && !existsSync('/usr/bin/dockerd')) {
    return { ok: false, reason: 'dockerd is not installed (apt-get install docker.io)' };
  }
  if (!existsSync(DOCKER_CLIENT)) {
    return { ok: false, reason: `${DOCKER_CLIENT} is not installed (apt-get install docker.io)` };
  }
  const tag = `lab-oracle-${process.pid}`;
  const dataRoot = join(dir, 'data');
  const execRoot = `/run/${tag}`;
  const pidfile = `/run/${tag}.pid`;
  const socket = `/run/${tag}.sock`;
  const config = join(dir, 'client');
  const log = join(dir, 'dockerd.log');
  mkdirSync(dataRoot, { recursive: true });
  mkdirSync(config, { recursive: true });
  const out = openSync(log, 'a');
  const child = spawn(
    'dockerd',
    [
      '--data-root',
      dataRoot,
      '--exec-root',
      execRoot,
      '--pidfile',
      pidfile,
      '-H',
      `unix://${socket}`,
      '--iptables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--bridge=none',
      '--storage-driver=overlay2',
    ],
    { stdio: ['ignore', out, out], detached: true },
  );
  child.unref();
  const pid = child.pid;
  const env = {
    ...process.env,
    DOCKER_HOST: `unix://${socket}`,
    DOCKER_BUILDKIT: '1',
    DOCKER_CONFIG: config,
  };
  const dockerOutput = async (args: readonly string[], options: { cwd?: string } = {}) => {
    try {
      const r = await execFileP(DOCKER_CLIENT, [...args], {
        env,
        cwd: options.cwd ?? dir,
        maxBuffer: 64 * 1024 * 1024,
      });
      return { stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`docker ${args.join(' ')} failed: ${e.stderr ?? e.message}`, { cause: err });
    }
  };
  const docker = async (args: readonly string[], options: { cwd?: string } = {}) =>
    (await dockerOutput(args, options)).stdout;
  const stop = async () => {
    if (pid !== undefined && alive(pid)) {
      try {
        const ids = (await docker(['ps', '-aq'])).split('\n').filter(Boolean);
        if (ids.length > 0) await docker(['rm', '-f', ...ids]);
      } catch {
        // the daemon is going away anyway
      }
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 60 && alive(pid); i++) await sleep(250);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 20 && alive(pid); i++) await sleep(100);
    }
    unmountBelow(dataRoot);
    unmountBelow(execRoot);
    await sleep(200);
    rmSync(execRoot, { recursive: true, force: true });
    rmSync(pidfile, { force: true });
    rmSync(socket, { force: true });
    rmSync(dataRoot, { recursive: true, force: true });
  };
  for (let i = 0; i < 120; i++) {
    if (pid === undefined || !alive(pid)) break;
    try {
      await docker(['version']);
      return { ok: true, dockerd: { docker, dockerOutput, stop, log } };
    } catch {
      await sleep(250);
    }
  }
  await stop();
  const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n') : [];
  const last = lines.filter((l) => /level=(fatal|error)|failed/i.test(l)).pop() ?? lines.pop();
  return { ok: false, reason: `dockerd did not start: ${last ?? 'no log'}` };
}
