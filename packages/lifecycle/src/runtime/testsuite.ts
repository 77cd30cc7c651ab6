/**
 * The shared behaviour every `Runtime` must have, run against each implementation (builtin,
 * runc) by its own test file — podman's `runForAllStates` / containerd's snapshotter suite
 * pattern. Real containers, as root, from a busybox-static rootfs built here (not from
 * @lab/layers): `/bin/busybox` copied in, `busybox --install -s` in a chroot, /etc/passwd
 * with root and nobody.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageConfig, Process, RuntimeSpec } from '@lab/oci';
import { DEFAULT_CAPABILITIES, isFailedPrecondition, isNotFound } from '@lab/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunOptions } from '../bundle/create-spec.js';
import { createSpec } from '../bundle/create-spec.js';
import { writeEtcFiles } from '../bundle/etc-files.js';
import { writeBundle } from '../bundle/write-bundle.js';
import { capMask } from './builtin/capabilities.js';
import type { Runtime } from './runtime.js';

/** Builds a busybox-static root filesystem in `dir` (which must not exist yet or be empty). */
export async function makeBusyboxRootfs(dir: string, busybox = '/bin/busybox'): Promise<void> {
  for (const d of [
    'bin',
    'sbin',
    'usr/bin',
    'usr/sbin',
    'etc',
    'tmp',
    'root',
    'proc',
    'sys',
    'dev',
  ]) {
    await mkdir(join(dir, d), { recursive: true });
  }
  await copyFile(busybox, join(dir, 'bin/busybox'));
  await chmod(join(dir, 'bin/busybox'), 0o755);
  execFileSync('chroot', [dir, '/bin/busybox', '--install', '-s']);
  await chmod(join(dir, 'tmp'), 0o1777);
  await writeFile(
    join(dir, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  await writeFile(join(dir, 'etc/group'), 'root:x:0:\nnobody:x:65534:\n');
}

const IMAGE: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: [] },
  config: {
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    Cmd: ['sh'],
  },
};

/** A static init for `--init` (Debian's `tini` package). */
const TINI = '/usr/bin/tini-static';

/** docker's default capability set as /proc/<pid>/status prints it. */
export const DOCKER_DEFAULT_CAPEFF = '00000000a80425fb';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  limitMs = 15000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(25);
  }
}

/** What a suite needs from an implementation. */
export interface RuntimeSuiteOptions {
  /** Builds the runtime over a fresh state directory. */
  make(root: string): Runtime;
  /** When set, every test is skipped and the reason printed. */
  skipReason?: string | undefined;
}

/** Registers the shared runtime tests under `describe(name)`. */
export function describeRuntime(name: string, options: RuntimeSuiteOptions): void {
  const skip = options.skipReason !== undefined;
  if (skip) console.warn(`[${name} runtime suite] skipped: ${options.skipReason ?? ''}`);

  describe.skipIf(skip)(`${name} runtime`, () => {
    let tmp = '';
    let rootfs = '';
    let runtime: Runtime;
    let stateRoot = '';
    let counter = 0;
    const created: string[] = [];

    beforeAll(async () => {
      tmp = await mkdtemp(join(tmpdir(), `lab-rt-${name}-`));
      rootfs = join(tmp, 'rootfs');
      await makeBusyboxRootfs(rootfs);
      stateRoot = join(tmp, 'state');
      runtime = options.make(stateRoot);
    });

    afterAll(async () => {
      for (const id of created) await runtime.delete(id, { force: true }).catch(() => undefined);
      if (tmp !== '') await rm(tmp, { recursive: true, force: true });
    });

    interface Started {
      id: string;
      spec: RuntimeSpec;
      out(): string;
      err(): string;
    }

    async function prepare(
      cmd: string[],
      run: Partial<RunOptions> = {},
    ): Promise<{ id: string; bundle: string; spec: RuntimeSpec }> {
      const id = `${name}-${process.pid}-${counter++}-${Date.now().toString(16)}`;
      const bundle = join(tmp, 'bundles', id);
      const spec = await createSpec(IMAGE, { id, rootfs, cmd, ...run });
      await writeBundle(bundle, spec);
      return { id, bundle, spec };
    }

    async function create(cmd: string[], run: Partial<RunOptions> = {}): Promise<Started> {
      const { id, bundle, spec } = await prepare(cmd, run);
      const outFile = join(tmp, `${id}.out`);
      const errFile = join(tmp, `${id}.err`);
      const out = openSync(outFile, 'w');
      const err = openSync(errFile, 'w');
      try {
        await runtime.create(id, bundle, { stdio: ['ignore', out, err] });
      } finally {
        closeSync(out);
        closeSync(err);
      }
      created.push(id);
      return {
        id,
        spec,
        out: () => readFileSync(outFile, 'utf8'),
        err: () => readFileSync(errFile, 'utf8'),
      };
    }

    async function runToEnd(
      cmd: string[],
      run: Partial<RunOptions> = {},
    ): Promise<Started & { exitCode: number }> {
      const c = await create(cmd, run);
      await runtime.start(c.id);
      const status = await runtime.wait(c.id);
      return { ...c, exitCode: status.exitCode };
    }

    function lines(text: string): Map<string, string> {
      const out = new Map<string, string>();
      for (const line of text.split('\n')) {
        const eq = line.indexOf('=');
        if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
      }
      return out;
    }

    it('keeps the process waiting after create and runs it on start', async () => {
      const marker = `/tmp/started-${counter}`;
      const c = await create(['sh', '-c', `echo yes > ${marker}; exec sleep 1000`]);
      const created1 = await runtime.state(c.id);
      expect(created1.status).toBe('created');
      expect(created1.pid).toBeGreaterThan(0);
      expect(existsSync(join(rootfs, marker))).toBe(false);
      await sleep(200);
      expect(existsSync(join(rootfs, marker))).toBe(false);
      await expect(runtime.pause(c.id)).rejects.toSatisfy(isFailedPrecondition);

      await runtime.start(c.id);
      await until(() => existsSync(join(rootfs, marker)) || undefined, 'the marker file');
      expect((await runtime.state(c.id)).status).toBe('running');
      await expect(runtime.start(c.id)).rejects.toSatisfy(isFailedPrecondition);
      await expect(runtime.delete(c.id)).rejects.toSatisfy(isFailedPrecondition);

      await runtime.kill(c.id, 'SIGKILL');
      const status = await runtime.wait(c.id);
      expect(status.exitCode).toBe(137);
      expect(status.signal).toBe('SIGKILL');
      expect(status.oomKilled).toBe(false);
      expect((await runtime.state(c.id)).status).toBe('stopped');
    });

    it('isolates pids, hostname, network and capabilities', async () => {
      const c = await runToEnd([
        'sh',
        '-c',
        'echo pid=$$; echo procs=$(ls /proc | grep -c "^[0-9]"); echo host=$(hostname); echo links=$(ip -o link | cut -d: -f2 | tr -d " " | tr "\\n" ,); echo lo=$(ip -o link show lo | grep -c UP); grep -E "CapEff|NoNewPrivs" /proc/self/status | tr -d "\\t" | tr : =; echo uid=$(id -u)',
      ]);
      expect(c.exitCode).toBe(0);
      const v = lines(c.out());
      expect(v.get('pid')).toBe('1');
      // sh, the $(ls) subshell, ls and grep: none of the host's processes
      expect(Number(v.get('procs'))).toBeLessThanOrEqual(5);
      expect(v.get('host')).toBe(c.id.slice(0, 12));
      expect(v.get('links')).toBe('lo,');
      expect(v.get('lo')).toBe('1');
      expect(v.get('CapEff')).toBe(DOCKER_DEFAULT_CAPEFF);
      expect(capMask(DEFAULT_CAPABILITIES)).toBe(DOCKER_DEFAULT_CAPEFF);
      expect(v.get('uid')).toBe('0');
      expect(v.get('NoNewPrivs')).toBe('0');
    });

    it('hands the program only stdio (no runtime pipes, FIFOs or leaked fds)', async () => {
      const c = await runToEnd(['ls', '/proc/self/fd']);
      // 3 is ls's own directory handle
      expect(c.out().trim().split('\n')).toEqual(['0', '1', '2', '3']);
    });

    it('lets the container write only its rootfs', async () => {
      const written = `written-${counter}`;
      const c = await runToEnd([
        'sh',
        '-c',
        [
          `touch /${written} && echo rootfs=ok`,
          '(echo x > /proc/sys/kernel/domainname) 2>/dev/null && echo procsys=writable || echo procsys=ro',
          '(touch /sys/kernel/x) 2>/dev/null && echo sys=writable || echo sys=ro',
          `[ -e ${tmp} ] && echo host=visible || echo host=hidden`,
          '(mount -o remount,rw /sys) 2>/dev/null && echo remount=ok || echo remount=denied',
          '(mknod /tmp/disk b 254 0 && head -c1 /tmp/disk >/dev/null) 2>/dev/null && echo disk=readable || echo disk=denied',
          'rm -f /tmp/disk',
        ].join('; '),
      ]);
      const v = lines(c.out());
      expect(v.get('rootfs')).toBe('ok');
      expect(existsSync(join(rootfs, written))).toBe(true);
      expect(v.get('procsys')).toBe('ro');
      expect(v.get('sys')).toBe('ro');
      expect(v.get('host')).toBe('hidden');
      expect(v.get('remount')).toBe('denied');
      expect(v.get('disk')).toBe('denied');

      const ro = await runToEnd(
        [
          'sh',
          '-c',
          '(touch /ro-test) 2>/dev/null && echo root=writable || echo root=ro; (touch /dev/shm/x) && echo shm=ok',
        ],
        {
          readonlyRootfs: true,
        },
      );
      expect(lines(ro.out()).get('root')).toBe('ro');
      expect(lines(ro.out()).get('shm')).toBe('ok');
      expect(existsSync(join(rootfs, 'ro-test'))).toBe(false);
    });

    it('switches user, environment and working directory', async () => {
      const c = await runToEnd(
        [
          'sh',
          '-c',
          'echo uid=$(id -u); echo gid=$(id -g); echo groups=$(id -G); grep -E "CapEff|NoNewPrivs" /proc/self/status | tr -d "\\t" | tr : =; echo cwd=$(pwd); echo foo=$FOO; echo hostname=$HOSTNAME; echo home=$HOME',
        ],
        {
          user: 'nobody',
          groupAdd: ['root'],
          noNewPrivileges: true,
          env: ['FOO=bar baz'],
          workdir: '/tmp',
        },
      );
      const v = lines(c.out());
      expect(v.get('uid')).toBe('65534');
      expect(v.get('gid')).toBe('65534');
      expect(v.get('groups')).toBe('65534 0');
      expect(v.get('CapEff')).toBe('0000000000000000');
      expect(v.get('cwd')).toBe('/tmp');
      expect(v.get('foo')).toBe('bar baz');
      expect(v.get('hostname')).toBe(c.id.slice(0, 12));
      expect(v.get('home')).toBe('/nonexistent');
      expect(v.get('NoNewPrivs')).toBe('1');
    });

    it('ends in an OOM kill at the memory limit, and reports it', async () => {
      const c = await runToEnd(['tail', '/dev/zero'], {
        memory: 16 * 1024 * 1024,
        memorySwap: 16 * 1024 * 1024,
      });
      expect(c.exitCode).toBe(137);
      const status = await runtime.wait(c.id);
      expect(status.signal).toBe('SIGKILL');
      expect(status.oomKilled).toBe(true);
    });

    it('holds the pids limit', async () => {
      // the inner shell dies at the first failed fork ("can't fork"); the outer one carries on
      const c = await create(
        [
          'sh',
          '-c',
          "sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do sleep 1000 & done'; echo spawned; exec sleep 1000",
        ],
        {
          pidsLimit: 6,
        },
      );
      await runtime.start(c.id);
      await until(() => c.out().includes('spawned') || undefined, 'the fork loop');
      expect(c.err()).toMatch(/fork|Resource temporarily unavailable/);
      const procs = readFileSync(`/sys/fs/cgroup/pids/lab/${c.id}/cgroup.procs`, 'utf8')
        .trim()
        .split('\n');
      expect(procs.length).toBeLessThanOrEqual(6);
      await runtime.kill(c.id, 'SIGKILL', { all: true });
      await runtime.wait(c.id);
    });

    it('freezes on pause and continues on resume', async () => {
      const file = `/tmp/counter-${counter}`;
      const c = await create([
        'sh',
        '-c',
        `i=0; while :; do i=$((i+1)); echo $i > ${file}; sleep 0.02; done`,
      ]);
      await runtime.start(c.id);
      const read = async () =>
        Number((await readFile(join(rootfs, file), 'utf8').catch(() => '0')).trim() || '0');
      await until(async () => ((await read()) > 2 ? true : undefined), 'the counter to move');
      await runtime.pause(c.id);
      expect((await runtime.state(c.id)).status).toBe('paused');
      const frozen = await read();
      await sleep(300);
      expect(await read()).toBe(frozen);
      await expect(runtime.pause(c.id)).rejects.toSatisfy(isFailedPrecondition);
      await runtime.resume(c.id);
      expect((await runtime.state(c.id)).status).toBe('running');
      await until(
        async () => ((await read()) > frozen ? true : undefined),
        'the counter to move again',
      );
      await runtime.kill(c.id, 'SIGKILL');
      await runtime.wait(c.id);
    });

    it('delivers SIGTERM to a process that handles it, with its exit status', async () => {
      const c = await create([
        'sh',
        '-c',
        'trap "exit 42" TERM; echo ready; while :; do sleep 0.05; done',
      ]);
      await runtime.start(c.id);
      await until(() => c.out().includes('ready') || undefined, 'the trap to be set');
      await runtime.kill(c.id, 'SIGTERM');
      const status = await runtime.wait(c.id);
      expect(status.exitCode).toBe(42);
      expect(status.signal).toBeUndefined();
    });

    it('runs exec inside the same namespaces and reports its exit code', async () => {
      const c = await create(['sleep', '1000'], { hostname: 'exec-box' });
      await runtime.start(c.id);
      const outFile = join(tmp, `${c.id}.exec`);
      const out = openSync(outFile, 'w');
      const proc: Process = {
        ...c.spec.process!,
        args: [
          'sh',
          '-c',
          'echo host=$(hostname); echo init=$(cat /proc/1/cmdline | tr "\\0" " "); echo pid=$(ls /proc | grep -c "^[0-9]"); echo uid=$(id -u); exit 7',
        ],
      };
      const exec = await runtime.exec(c.id, proc, { stdio: ['ignore', out, out] });
      closeSync(out);
      expect((await exec.wait()).exitCode).toBe(7);
      const v = lines(readFileSync(outFile, 'utf8'));
      expect(v.get('host')).toBe('exec-box');
      expect(v.get('init')).toMatch(/sleep 1000/);
      expect(Number(v.get('pid'))).toBeLessThanOrEqual(6);
      expect(v.get('uid')).toBe('0');

      const trapFile = join(tmp, `${c.id}.trap`);
      const trapOut = openSync(trapFile, 'w');
      const sleeper = await runtime.exec(
        c.id,
        {
          ...proc,
          args: ['sh', '-c', 'trap "exit 9" TERM; echo ready; while :; do sleep 0.05; done'],
        },
        { stdio: ['ignore', trapOut, trapOut] },
      );
      closeSync(trapOut);
      await until(
        () => readFileSync(trapFile, 'utf8').includes('ready') || undefined,
        'the exec trap',
      );
      await sleeper.kill('SIGTERM');
      expect((await sleeper.wait()).exitCode).toBe(9);

      const asNobody = await runtime.exec(c.id, {
        ...proc,
        user: { uid: 65534, gid: 65534 },
        args: ['sh', '-c', 'exit $(id -u | cut -c1-2)'],
      });
      expect((await asNobody.wait()).exitCode).toBe(65);
      await runtime.kill(c.id, 'SIGKILL');
      await runtime.wait(c.id);
    });

    it('lets another process wait for the exit through the state directory', async () => {
      const c = await create(['sh', '-c', 'sleep 0.3; exit 5']);
      await runtime.start(c.id);
      const other = options.make(stateRoot);
      expect((await other.wait(c.id)).exitCode).toBe(5);
    });

    it('pins the network namespace for ip to configure', async () => {
      const c = await create(['sleep', '1000']);
      const netns = await runtime.netnsPath(c.id);
      expect(netns).toBeDefined();
      const links = execFileSync('nsenter', [`--net=${netns ?? ''}`, 'ip', '-o', 'link'], {
        encoding: 'utf8',
      });
      expect(
        links
          .trim()
          .split('\n')
          .map((l) => l.split(':')[1]?.trim()),
      ).toEqual(['lo']);
      await runtime.delete(c.id, { force: true });
      expect(existsSync(netns ?? '')).toBe(false);
    });

    it('removes cgroups, state and mounts on delete', async () => {
      const c = await runToEnd(['true'], { memory: 32 * 1024 * 1024, pidsLimit: 10 });
      expect(c.exitCode).toBe(0);
      const cgroupDirs = ['memory', 'pids', 'freezer', 'cpu'].map(
        (ctrl) => `/sys/fs/cgroup/${ctrl}/lab/${c.id}`,
      );
      expect(cgroupDirs.filter((d) => existsSync(d))).not.toEqual([]);
      await runtime.delete(c.id);
      expect(cgroupDirs.filter((d) => existsSync(d))).toEqual([]);
      expect(existsSync(join(stateRoot, c.id))).toBe(false);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(c.id);
      await expect(runtime.state(c.id)).rejects.toSatisfy(isNotFound);
    });

    it('fails create for a missing program and leaves nothing behind', async () => {
      const { id, bundle } = await prepare(['/no/such/program']);
      const failure = await runtime.create(id, bundle).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String(failure)).toMatch(/no such file|not found|executable/i);
      expect(failure).toSatisfy(isNotFound);
      expect(existsSync(join(stateRoot, id))).toBe(false);
      expect(existsSync(`/sys/fs/cgroup/memory/lab/${id}`)).toBe(false);
      await expect(runtime.state(id)).rejects.toSatisfy(isNotFound);
    });

    it.skipIf(!existsSync(TINI))('runs --init as PID 1 in front of the process', async () => {
      const c = await runToEnd(
        ['sh', '-c', 'echo init=$(cat /proc/1/cmdline | tr "\\0" " "); echo me=$$; exit 4'],
        {
          init: TINI,
        },
      );
      const v = lines(c.out());
      expect(v.get('init')).toMatch(/^\/sbin\/docker-init -- /);
      expect(v.get('me')).not.toBe('1');
      expect(c.exitCode).toBe(4);
    });

    it('mounts binds (read-only too), tmpfs and the etc files', async () => {
      const data = join(tmp, `data dir ${counter}`);
      await mkdir(data);
      await writeFile(join(data, 'hello'), 'from the host\n');
      const etc = await writeEtcFiles(join(tmp, `etc-${counter}`), {
        hostname: 'web',
        hosts: [{ address: '10.1.2.3', names: ['db'] }],
        resolv: { nameservers: ['10.0.0.53'] },
      });
      const c = await runToEnd(
        [
          'sh',
          '-c',
          [
            'echo hello=$(cat "/data dir/hello")',
            '(touch "/data dir/x") 2>/dev/null && echo bind=rw || echo bind=ro',
            'touch /scratch/y && echo tmpfs=$(grep " /scratch " /proc/mounts | cut -d" " -f3)',
            'echo etchostname=$(cat /etc/hostname)',
            'echo db=$(grep db /etc/hosts | cut -f1)',
            'echo ns=$(grep nameserver /etc/resolv.conf | cut -d" " -f2)',
          ].join('; '),
        ],
        {
          binds: [{ source: data, destination: '/data dir', readonly: true }],
          tmpfs: [{ destination: '/scratch', options: ['size=1m'] }],
          etcFiles: etc,
        },
      );
      const v = lines(c.out());
      expect(v.get('hello')).toBe('from the host');
      expect(v.get('bind')).toBe('ro');
      expect(existsSync(join(data, 'x'))).toBe(false);
      expect(v.get('tmpfs')).toBe('tmpfs');
      expect(existsSync(join(rootfs, 'scratch', 'y'))).toBe(false);
      expect(v.get('etchostname')).toBe('web');
      expect(v.get('db')).toBe('10.1.2.3');
      expect(v.get('ns')).toBe('10.0.0.53');
    });

    it('roots a private cgroup namespace at the container cgroup', async () => {
      const c = await runToEnd(['sh', '-c', 'grep -E ":(memory|pids):" /proc/self/cgroup'], {
        cgroupns: 'private',
      });
      expect(c.exitCode).toBe(0);
      expect(
        c
          .out()
          .trim()
          .split('\n')
          .map((l) => l.split(':')[2]),
      ).toEqual(['/', '/']);
      const host = await runToEnd(['sh', '-c', 'grep -E ":memory:" /proc/self/cgroup']);
      expect(host.out()).toContain(`/lab/${host.id}`);
    });

    it('joins an existing network namespace by path, and sets the domain name', async () => {
      const owner = await create(['sleep', '1000']);
      const netns = await runtime.netnsPath(owner.id);
      const inode = execFileSync('stat', ['-L', '-c', '%i', netns ?? ''], {
        encoding: 'utf8',
      }).trim();
      const guest = await runToEnd(
        [
          'sh',
          '-c',
          'echo ns=$(readlink /proc/self/ns/net); echo domain=$(cat /proc/sys/kernel/domainname)',
        ],
        {
          network: { mode: 'path', path: netns ?? '' },
          domainname: 'lab.test',
        },
      );
      expect(lines(guest.out()).get('ns')).toBe(`net:[${inode}]`);
      // runc 1.1.5 (Debian 12) ignores config.json's domainname
      if (runtime.name !== 'runc') expect(lines(guest.out()).get('domain')).toBe('lab.test');
      await runtime.delete(owner.id, { force: true });
    });

    it('undoes an aborted create', async () => {
      const { id, bundle } = await prepare(['true']);
      const controller = new AbortController();
      controller.abort();
      await expect(runtime.create(id, bundle, { signal: controller.signal })).rejects.toThrow();
      expect(existsSync(join(stateRoot, id))).toBe(false);
      expect(existsSync(`/sys/fs/cgroup/memory/lab/${id}`)).toBe(false);
    });

    it('refuses a second container with the same id', async () => {
      const c = await create(['true']);
      const bundle = join(tmp, 'bundles', c.id);
      await expect(runtime.create(c.id, bundle)).rejects.toThrow(/already exists/);
    });
  });
}
