/**
 * `lab container …` end to end, as root, on real containers of the busybox image built by
 * scripts/busybox-image.sh (the same fixture as the image command tests), in a temp root.
 * Most commands run in-process through `run()`; crash tests run the CLI as a child process
 * that kills itself at `LAB_TEST_CRASH_POINT`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  busyboxRootfs,
  isRoot,
  PATH_ENV,
  REPO,
  runLab,
  until,
  type LabResult as Result,
} from '../../../test/harness.js';

if (!isRoot) console.warn('lab container CLI tests skipped: containers need root');
const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    console.warn('lab run -it test skipped: tmux is not installed (apt-get install tmux)');
    return false;
  }
})();

let root = '';

function lab(args: string[], opts: { stdin?: string } = {}): Promise<Result> {
  return runLab(args, { root, stdin: opts.stdin });
}

/** The CLI as a separate process (from source through tsx). */
function labProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<Result & { signal: string | null }> {
  return new Promise((resolveRun) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@lab/source',
        join(REPO, 'apps/lab/src/main.ts'),
        '--root',
        root,
        ...args,
      ],
      { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => {
      resolveRun({ code: code ?? -1, signal, stdout, stderr });
    });
  });
}

interface Inspected {
  Id: string;
  RestartCount: number;
  State: { Status: string; ExitCode: number };
  [key: string]: unknown;
}

async function inspect(ref: string): Promise<Inspected> {
  const r = await lab(['inspect', ref]);
  expect(r.stderr).toBe('');
  return (JSON.parse(r.stdout) as Inspected[])[0]!;
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(dir));
}

function treeDigest(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      h.update(`${p.slice(dir.length)} ${st?.mode ?? 'x'} ${st?.size ?? 0} ${st?.mtimeMs ?? 0}\n`);
      if (st?.isDirectory() === true) walk(p);
    }
  };
  walk(dir);
  return h.digest('hex');
}

describe.skipIf(!isRoot)('lab container commands', () => {
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lab-cli-container-'));
    const rootfs = busyboxRootfs(tmp);
    root = join(tmp, 'root');
    const r = await lab([
      'import',
      '--change',
      'CMD ["sh"]',
      '--change',
      `ENV ${PATH_ENV}`,
      rootfs,
      'busybox',
    ]);
    expect(r.code).toBe(0);
  });

  afterAll(async () => {
    if (root !== '') {
      const ids = (await lab(['ps', '-aq', '--no-trunc'])).stdout
        .split('\n')
        .filter((l) => l !== '');
      if (ids.length > 0) await lab(['rm', '-f', ...ids]);
      expect(mountsUnder(root)).toEqual([]);
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it('run attaches stdout/stderr and exits with the container status; --rm removes it', async () => {
    const r = await lab([
      'run',
      '--rm',
      '--name',
      'hello',
      'busybox',
      'sh',
      '-c',
      'echo out; echo err >&2; exit 3',
    ]);
    expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect((await lab(['ps', '-a', '--format', '{{.Names}}'])).stdout).not.toContain('hello');
    const ok = await lab(['run', '--rm', 'busybox', 'echo', '-n', 'x']);
    expect(ok).toEqual({ code: 0, stdout: 'x', stderr: '' });
  });

  it('the log keeps every byte of text output: quotes, backslashes, tabs, control characters, a last line without newline', async () => {
    const script = `printf 'a "quoted" \\\\ back\\tslash\\n'; printf 'bell\\007 esc\\033[0m\\r\\n' >&2; printf 'no newline'`;
    const r = await lab(['run', '--name', 'bytes', 'busybox', 'sh', '-c', script]);
    expect(r.stdout).toBe('a "quoted" \\ back\tslash\nno newline');
    expect(r.stderr).toBe('bell\u0007 esc\u001b[0m\r\n');
    const logs = await lab(['logs', 'bytes']);
    expect(logs.stdout).toBe(r.stdout);
    expect(logs.stderr).toBe(r.stderr);
    await lab(['rm', 'bytes']);
  });

  it('125 for lab failures, 126 when the command cannot be run, 127 when it is not found', async () => {
    const noImage = await lab(['run', '--rm', 'no-such-image']);
    expect(noImage.code).toBe(125);
    const notFound = await lab(['run', '--rm', 'busybox', 'no-such-command']);
    expect(notFound.code).toBe(127);
    expect(notFound.stderr).toContain('executable file not found in $PATH');
    const notExec = await lab(['run', '--rm', 'busybox', '/etc/passwd']);
    expect([126, 127]).toContain(notExec.code);
  });

  it('-i passes stdin; -e, -w, -u, -h and --entrypoint shape the process', async () => {
    expect((await lab(['run', '--rm', '-i', 'busybox', 'cat'], { stdin: 'piped\n' })).stdout).toBe(
      'piped\n',
    );
    const r = await lab([
      'run',
      '--rm',
      '-e',
      'A=1',
      '-w',
      '/tmp',
      '-u',
      'nobody',
      '-h',
      'box',
      'busybox',
      'sh',
      '-c',
      'echo $A $(pwd) $(id -un) $(hostname)',
    ]);
    expect(r.stdout).toBe('1 /tmp nobody box\n');
    const ep = await lab(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'via', 'entrypoint']);
    expect(ep.stdout).toBe('via entrypoint\n');
  });

  it('isolation: PID 1, its own hostname, no network but loopback', async () => {
    const r = await lab([
      'run',
      '--rm',
      '--network',
      'none',
      'busybox',
      'sh',
      '-c',
      'echo $$; hostname; ls /sys/class/net',
    ]);
    const [pid, host, net] = r.stdout.trim().split('\n');
    expect(pid).toBe('1');
    expect(host).toMatch(/^[0-9a-f]{12}$/);
    expect(net).toBe('lo');
  });

  it('runs on the bridge network by default, as docker does', async () => {
    const r = await lab([
      'run',
      '--rm',
      'busybox',
      'sh',
      '-c',
      'ls /sys/class/net; ip -4 -o addr show eth0',
    ]);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual(['eth0', 'lo']);
    expect(lines[2]).toMatch(/inet \d+\.\d+\.\d+\.\d+\/\d+/);
  });

  it('kill of a paused container ends it with 137, as docker does', async () => {
    expect((await lab(['run', '-d', '--name', 'frozen', 'busybox', 'sleep', '1000'])).code).toBe(0);
    const status = async () =>
      (
        await lab(['ps', '-a', '--filter', 'name=^frozen$', '--format', '{{.Status}}'])
      ).stdout.trim();
    try {
      expect((await lab(['pause', 'frozen'])).code).toBe(0);
      expect(await status()).toMatch(/\(Paused\)$/);
      expect((await lab(['kill', 'frozen'])).code).toBe(0);
      await until(
        async () => ((await status()).startsWith('Exited (137)') ? true : undefined),
        'exit 137 after kill of a paused container',
      );
    } finally {
      await lab(['rm', '-f', 'frozen']);
    }
  });

  it('walks the lifecycle: create, start, pause, unpause, kill, start, stop, rm — with docker statuses and errors', async () => {
    const created = await lab([
      'create',
      '--name',
      'web',
      'busybox',
      'sh',
      '-c',
      'trap "exit 143" TERM; echo up; while :; do sleep 0.1; done',
    ]);
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const dup = await lab(['create', '--name', 'web', 'busybox']);
    expect(dup.code).toBe(125);
    expect(dup.stderr).toContain(
      `Conflict. The container name "/web" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
    expect((await lab(['create', '--name', 'bad name', 'busybox'])).stderr).toContain(
      'Invalid container name (bad name)',
    );

    const ps = async () =>
      (await lab(['ps', '-a', '--filter', 'name=^web$', '--format', '{{.Status}}'])).stdout.trim();
    expect(await ps()).toBe('Created');
    expect((await lab(['pause', 'web'])).stderr).toContain(
      'cannot pause container "web": container is not running',
    );

    expect((await lab(['start', 'web'])).code).toBe(0);
    expect(await ps()).toMatch(/^Up (Less than a second|\d+ seconds?)$/);
    const header = (await lab(['ps'])).stdout.split('\n')[0]!;
    expect(header.split(/ {2,}/)).toEqual([
      'CONTAINER ID',
      'IMAGE',
      'COMMAND',
      'CREATED',
      'STATUS',
      'PORTS',
      'NAMES',
    ]);

    expect((await lab(['pause', 'web'])).code).toBe(0);
    expect(await ps()).toMatch(/^Up .* \(Paused\)$/);
    expect((await lab(['pause', 'web'])).stderr).toContain(
      'cannot pause container "web": container is already paused',
    );
    const rmPaused = await lab(['rm', 'web']);
    expect(rmPaused.code).toBe(1);
    expect((await lab(['unpause', 'web'])).code).toBe(0);
    const rmRunning = await lab(['rm', 'web']);
    expect(rmRunning.stderr).toContain(
      'cannot remove container "web": container is running: stop the container before removing or force remove',
    );

    const top = await lab(['top', 'web']);
    expect(top.stdout).toContain('while :');
    const ex = await lab([
      'exec',
      '-e',
      'X=1',
      '-w',
      '/tmp',
      '-u',
      'nobody',
      'web',
      'sh',
      '-c',
      'echo $X $(pwd) $(id -un) $(hostname)',
    ]);
    expect(ex.stdout).toBe(`1 /tmp nobody ${id.slice(0, 12)}\n`);
    expect(ex.code).toBe(0);

    expect((await lab(['kill', 'web'])).code).toBe(0);
    await until(
      async () => ((await ps()).startsWith('Exited (137)') ? true : undefined),
      'exit 137',
    );
    let info = await inspect('web');
    expect(info.State).toMatchObject({ Status: 'exited', Running: false, ExitCode: 137, Pid: 0 });

    expect((await lab(['start', 'web'])).code).toBe(0);
    await until(
      async () => ((await lab(['logs', 'web'])).stdout === 'up\nup\n' ? true : undefined),
      'second start logged',
    );
    expect((await lab(['stop', '-t', '5', 'web'])).code).toBe(0);
    expect(await ps()).toMatch(/^Exited \(143\) /);
    expect((await lab(['wait', 'web'])).stdout).toBe('143\n');

    info = await inspect(id.slice(0, 8));
    expect(info).toMatchObject({
      Id: id,
      Name: '/web',
      Path: 'sh',
      Platform: 'linux',
      RestartCount: 0,
    });
    expect(info.Args).toEqual(['-c', 'trap "exit 143" TERM; echo up; while :; do sleep 0.1; done']);
    for (const key of [
      'Status',
      'Running',
      'Paused',
      'Restarting',
      'OOMKilled',
      'Dead',
      'Pid',
      'ExitCode',
      'Error',
      'StartedAt',
      'FinishedAt',
    ]) {
      expect(info.State).toHaveProperty(key);
    }
    for (const key of [
      'Image',
      'Config',
      'HostConfig',
      'Mounts',
      'NetworkSettings',
      'Driver',
      'Created',
    ])
      expect(info).toHaveProperty(key);
    expect(info.Image).toMatch(/^sha256:/);

    const logs = await lab(['logs', '-t', '--tail', '1', 'web']);
    expect(logs.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z up\n$/);
    expect((await lab(['rm', 'web'])).stdout).toBe('web\n');
    expect((await lab(['inspect', 'web'])).code).toBe(1);
  });

  it('a log monitor killed with SIGKILL loses nothing: the next command records the exit from the runtime', async () => {
    const id = (await lab(['run', '-d', 'busybox', 'sh', '-c', 'sleep 1; exit 7'])).stdout.trim();
    const state = JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8')) as {
      MonitorPid: number;
    };
    expect(state.MonitorPid).toBeGreaterThan(0);
    process.kill(state.MonitorPid, 'SIGKILL');
    expect((await lab(['wait', id])).stdout).toBe('7\n');
    expect((await inspect(id)).State).toMatchObject({ Status: 'exited', ExitCode: 7 });
    expect((await lab(['rm', id])).code).toBe(0);
  });

  it('rm of a container that exited with nobody watching records the exit and removes it', async () => {
    const id = (await lab(['run', '-d', 'busybox', 'true'])).stdout.trim();
    await until(() => {
      const state = JSON.parse(
        readFileSync(join(root, 'containers', id, 'state.json'), 'utf8'),
      ) as {
        MonitorPid: number;
      };
      try {
        process.kill(state.MonitorPid, 0);
        return undefined;
      } catch {
        return true;
      }
    }, 'the log monitor to finish');
    const r = await lab(['rm', id]);
    expect(r).toEqual({ code: 0, stdout: `${id}\n`, stderr: '' });
  });

  it('logs -f follows until the exit; stats --no-stream, cp in and out, ps filters and formats, prune', async () => {
    const id = (
      await lab([
        'run',
        '-d',
        '--name',
        'tick',
        'busybox',
        'sh',
        '-c',
        'for i in 1 2 3; do echo $i; sleep 0.3; done; sleep 30',
      ])
    ).stdout.trim();
    const stats = await lab(['stats', '--no-stream', 'tick']);
    expect(stats.stdout.split('\n')[0]).toMatch(
      /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/,
    );
    expect(stats.stdout.split('\n')[1]).toMatch(new RegExp(`^${id.slice(0, 12)}\\s+tick\\s+`));

    const host = join(tmp, 'cp');
    execFileSync('mkdir', ['-p', host]);
    execFileSync('sh', ['-c', `echo from-host > ${host}/in.txt`]);
    expect((await lab(['cp', join(host, 'in.txt'), 'tick:/tmp/in.txt'])).code).toBe(0);
    expect((await lab(['exec', 'tick', 'cat', '/tmp/in.txt'])).stdout).toBe('from-host\n');
    expect((await lab(['cp', 'tick:/etc/group', join(host, 'group')])).code).toBe(0);
    expect(readFileSync(join(host, 'group'), 'utf8')).toBe('root:x:0:\nnobody:x:65534:\n');

    expect((await lab(['ps', '-q'])).stdout).toBe(`${id.slice(0, 12)}\n`);
    expect((await lab(['ps', '-q', '--no-trunc', '--filter', 'status=running'])).stdout).toBe(
      `${id}\n`,
    );
    expect(
      (await lab(['ps', '-aq', '--filter', 'ancestor=busybox', '--filter', 'name=tick'])).stdout,
    ).toBe(`${id.slice(0, 12)}\n`);
    const json = JSON.parse((await lab(['ps', '-l', '--format', 'json'])).stdout) as Record<
      string,
      string
    >;
    expect(json).toMatchObject({
      ID: id.slice(0, 12),
      Names: 'tick',
      Image: 'busybox',
      State: 'running',
    });

    const follow = lab(['logs', '-f', 'tick']);
    await new Promise((r) => setTimeout(r, 1500));
    await lab(['stop', '-t', '0', 'tick']);
    expect((await follow).stdout).toBe('1\n2\n3\n');

    const pruned = await lab(['container', 'prune', '-f']);
    expect(pruned.stdout).toContain(id);
    expect((await lab(['ps', '-aq'])).stdout).toBe('');
  });

  it('on-failure:2 restarts twice, then stays exited with RestartCount 2', async () => {
    const r = await lab([
      'run',
      '-d',
      '--name',
      'flaky',
      '--restart',
      'on-failure:2',
      'busybox',
      'sh',
      '-c',
      'echo try; exit 3',
    ]);
    expect(r.code).toBe(0);
    const info = await until(
      async () => {
        const i = await inspect('flaky');
        return i.State.Status === 'exited' && i.RestartCount === 2 ? i : undefined;
      },
      'two restarts',
      60_000,
    );
    expect(info.State.ExitCode).toBe(3);
    expect((await lab(['logs', 'flaky'])).stdout).toBe('try\ntry\ntry\n');
    await new Promise((r2) => setTimeout(r2, 500));
    expect((await inspect('flaky')).RestartCount).toBe(2);
    await lab(['rm', 'flaky']);
  });

  it('stop escalates to SIGKILL after -t seconds; a stopped `always` container stays stopped', async () => {
    const stubborn = (
      await lab(['run', '-d', 'busybox', 'sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done'])
    ).stdout.trim();
    expect((await lab(['stop', '-t', '1', stubborn])).code).toBe(0);
    expect((await inspect(stubborn)).State.ExitCode).toBe(137);
    await lab(['rm', stubborn]);

    const looping = (
      await lab(['run', '-d', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2; exit 1'])
    ).stdout.trim();
    await until(
      async () => ((await inspect(looping)).RestartCount >= 1 ? true : undefined),
      'a restart',
    );
    const stopLoop = await lab(['stop', '-t', '1', looping]);
    expect(stopLoop.stderr).toBe('');
    expect(stopLoop.code).toBe(0);
    const stopped = await inspect(looping);
    expect(stopped.State.Status).toBe('exited');
    await new Promise((r) => setTimeout(r, 1500));
    const later = await inspect(looping);
    expect(later.State.Status).toBe('exited');
    expect(later.RestartCount).toBe(stopped.RestartCount);
    await lab(['rm', looping]);
  });

  it('copy-on-write: changes stay in the container, the image layer and a second container see the originals', async () => {
    const layers = join(root, 'snapshots');
    const snapDirs = readdirSync(join(layers, 'overlay', 'snapshots')).map((d) =>
      join(layers, 'overlay', 'snapshots', d, 'fs'),
    );
    const before = snapDirs.map(treeDigest);
    const r = await lab([
      'run',
      '--name',
      'cow',
      'busybox',
      'sh',
      '-c',
      'rm /bin/ls && echo changed > /etc/passwd && /bin/ls',
    ]);
    expect(r.code).toBe(127);
    expect(snapDirs.map(treeDigest)).toEqual(before);
    const second = await lab([
      'run',
      '--rm',
      'busybox',
      'sh',
      '-c',
      'ls /bin/ls && head -1 /etc/passwd',
    ]);
    expect(second.stdout).toBe('/bin/ls\nroot:x:0:0:root:/root:/bin/sh\n');
    await lab(['rm', 'cow']);
  });

  it('20 concurrent `run --rm busybox true` all succeed', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => lab(['run', '--rm', 'busybox', 'true'])),
    );
    expect(results.filter((r) => r.code !== 0)).toEqual([]);
    expect((await lab(['ps', '-aq'])).stdout).toBe('');
  });

  it.skipIf(!hasTmux)(
    'run -it: a real terminal with line editing, Ctrl-C reaching the container, its exit status',
    async () => {
      const session = `lab-it-${process.pid}`;
      const cmd = [
        process.execPath,
        '--import',
        'tsx',
        '--conditions=@lab/source',
        join(REPO, 'apps/lab/src/main.ts'),
        '--root',
        root,
        'run',
        '-it',
        '--rm',
        'busybox',
        'sh',
      ]
        .map((a) => `'${a}'`)
        .join(' ');
      const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
      tmux(
        'new-session',
        '-d',
        '-s',
        session,
        '-x',
        '120',
        '-y',
        '30',
        '-c',
        REPO,
        `${cmd}; echo EXITED=$?; sleep 60`,
      );
      const screen = () => tmux('capture-pane', '-p', '-t', session);
      try {
        await until(() => (/^\/ #/m.test(screen()) ? true : undefined), 'the shell prompt');
        tmux('send-keys', '-t', session, 'echo hello $((6*7))', 'Enter');
        await until(() => (screen().includes('hello 42') ? true : undefined), 'echo output');
        // a terminal of its own: the session's size, and a controlling terminal (job control)
        tmux(
          'send-keys',
          '-t',
          session,
          'stty size; echo ctty=$(cut -d" " -f7 /proc/self/stat)',
          'Enter',
        );
        await until(() => (/ctty=\d+/.test(screen()) ? true : undefined), 'stty output');
        expect(screen()).toMatch(/^30 120$/m);
        expect(screen()).toMatch(/ctty=[1-9]\d*/);
        tmux('send-keys', '-t', session, 'sleep 30', 'Enter');
        await new Promise((r) => setTimeout(r, 500));
        tmux('send-keys', '-t', session, 'C-c');
        tmux('send-keys', '-t', session, 'echo after $?', 'Enter');
        await until(
          () => (/after 130/.test(screen()) ? true : undefined),
          'Ctrl-C to interrupt sleep',
          10_000,
        );
        tmux('send-keys', '-t', session, 'exit 5', 'Enter');
        await until(() => (screen().includes('EXITED=5') ? true : undefined), 'the exit status');
      } finally {
        execFileSync('tmux', ['kill-session', '-t', session]);
      }
    },
  );

  it('crash safety: a lab killed at any point of run or rm leaves a state that ps -a and rm -f clean up', async () => {
    const points = [
      ['run', 'create-after-snapshot'],
      ['run', 'start-after-mount'],
      ['run', 'start-after-create'],
      ['run', 'start-after-running'],
      ['rm', 'rm-after-mark'],
      ['rm', 'rm-after-unmount'],
    ] as const;
    for (const [cmd, point] of points) {
      if (cmd === 'run') {
        const r = await labProcess(['run', '-d', 'busybox', 'sleep', '30'], {
          LAB_TEST_CRASH_POINT: point,
        });
        expect(r.signal, point).toBe('SIGKILL');
      } else {
        const id = (await lab(['run', '-d', 'busybox', 'sleep', '30'])).stdout.trim();
        const r = await labProcess(['rm', '-f', id], { LAB_TEST_CRASH_POINT: point });
        expect(r.signal, point).toBe('SIGKILL');
      }
      const ps = await lab(['ps', '-a']);
      expect(ps.code, `${point}: ${ps.stderr}`).toBe(0);
      const ids = (await lab(['ps', '-aq'])).stdout.split('\n').filter((l) => l !== '');
      if (ids.length > 0) {
        const rm = await lab(['rm', '-f', ...ids]);
        expect(rm.code, `${point}: ${rm.stderr}`).toBe(0);
      }
      expect((await lab(['ps', '-aq'])).stdout, point).toBe('');
      expect(mountsUnder(join(root, 'containers')), point).toEqual([]);
    }
  });
});
