import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageConfig } from '@lab/oci';
import { isInvalidArgument } from '@lab/oci';
import { validateAgainstSchema } from '@lab/oci/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capabilitySet, createSpec, processArgs } from './create-spec.js';
import { writeEtcFiles } from './etc-files.js';
import { secureJoin } from './secure-join.js';
import { resolveUser } from './user.js';
import { readBundle, writeBundle } from './write-bundle.js';

const ID = '3f1a9c0d2b7e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c';

function image(config: ImageConfig['config'] = {}): ImageConfig {
  return { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config };
}

let tmp = '';
let rootfs = '';

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lab-bundle-'));
  rootfs = join(tmp, 'rootfs');
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await writeFile(
    join(rootfs, 'etc/passwd'),
    [
      'root:x:0:0:root:/root:/bin/sh',
      'app:x:1000:1000:app:/home/app:/bin/sh',
      'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(rootfs, 'etc/group'),
    [
      'root:x:0:',
      'app:x:1000:',
      'audio:x:29:app,other',
      'video:x:44:app',
      'nogroup:x:65534:',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('processArgs (docker entrypoint/cmd merge)', () => {
  const img = { Entrypoint: ['/entry.sh'], Cmd: ['serve', '--port', '80'] };
  it.each([
    ['image entrypoint + image cmd', undefined, undefined, ['/entry.sh', 'serve', '--port', '80']],
    ['image entrypoint + user args', undefined, ['debug'], ['/entry.sh', 'debug']],
    ['--entrypoint replaces and drops the image cmd', ['/bin/sh'], undefined, ['/bin/sh']],
    ['--entrypoint with args', ['/bin/sh'], ['-c', 'id'], ['/bin/sh', '-c', 'id']],
    ["--entrypoint '' keeps the image cmd", [''], undefined, ['serve', '--port', '80']],
    ["--entrypoint '' with args", [], ['ls'], ['ls']],
  ] as const)('%s', (_, entrypoint, cmd, expected) => {
    expect(processArgs(img, entrypoint, cmd)).toEqual(expected);
  });

  it('fails when nothing is left to run', () => {
    expect(() => processArgs({ Entrypoint: null, Cmd: null }, undefined, undefined)).toThrow(
      /no command specified/,
    );
  });
});

describe('createSpec', () => {
  it('produces a config.json that validates against the runtime-spec schema', async () => {
    const spec = await createSpec(image({ Cmd: ['sh'], Env: ['PATH=/bin'] }), {
      id: ID,
      rootfs,
      memory: 64 << 20,
      cpus: 1.5,
      pidsLimit: 100,
      tmpfs: [{ destination: '/run', options: ['size=1m'] }],
      binds: [{ source: tmp, destination: '/data', readonly: true }],
      init: '/usr/bin/tini-static',
      network: { mode: 'path', path: '/run/netns/x' },
    });
    expect(validateAgainstSchema('runtime-config', spec)).toEqual([]);
    expect(spec.linux?.resources?.memory).toEqual({ limit: 64 << 20, swap: 128 << 20 });
    expect(spec.linux?.resources?.cpu).toEqual({ quota: 150000, period: 100000 });
    expect(spec.linux?.resources?.pids).toEqual({ limit: 100 });
    expect(spec.linux?.namespaces).toContainEqual({ type: 'network', path: '/run/netns/x' });
    expect(spec.process?.args).toEqual(['/sbin/docker-init', '--', 'sh']);
    expect(spec.mounts?.find((m) => m.destination === '/data')?.options).toEqual([
      'rbind',
      'rprivate',
      'ro',
    ]);
    expect(spec.mounts?.find((m) => m.destination === '/sbin/docker-init')?.source).toBe(
      '/usr/bin/tini-static',
    );
  });

  it('uses docker defaults: hostname, env order, cwd, capabilities, mounts, no_new_privs off', async () => {
    const spec = await createSpec(image({ Cmd: ['sh'], Env: ['FOO=image', 'BAR=1'] }), {
      id: ID,
      rootfs,
      env: ['FOO=user'],
      tty: true,
    });
    expect(spec.hostname).toBe('3f1a9c0d2b7e');
    expect(spec.process?.env).toEqual([
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'HOSTNAME=3f1a9c0d2b7e',
      'TERM=xterm',
      'FOO=user',
      'BAR=1',
      'HOME=/root',
    ]);
    expect(spec.process?.cwd).toBe('/');
    expect(spec.process?.terminal).toBe(true);
    expect(spec.process?.noNewPrivileges).toBe(false);
    expect(spec.process?.capabilities?.bounding).toHaveLength(14);
    expect(spec.mounts?.map((m) => m.destination)).toEqual([
      '/proc',
      '/dev',
      '/dev/pts',
      '/sys',
      '/sys/fs/cgroup',
      '/dev/mqueue',
      '/dev/shm',
    ]);
    expect(spec.mounts?.find((m) => m.destination === '/dev/shm')?.options).toContain(
      'size=67108864',
    );
    expect(spec.linux?.namespaces?.map((n) => n.type)).toEqual([
      'pid',
      'ipc',
      'uts',
      'mount',
      'network',
    ]);
    expect(spec.linux?.maskedPaths).toContain('/proc/kcore');
    expect(spec.linux?.readonlyPaths).toContain('/proc/sys');
    expect(spec.linux?.cgroupsPath).toBe(`/lab/${ID}`);
  });

  it('keeps the image PATH, WorkingDir and User, and leaves the network namespace out for host networking', async () => {
    const spec = await createSpec(
      image({ Cmd: ['sh'], Env: ['PATH=/opt/bin'], WorkingDir: '/srv', User: 'app' }),
      {
        id: ID,
        rootfs,
        network: { mode: 'host' },
      },
    );
    expect(spec.process?.env?.[0]).toBe('PATH=/opt/bin');
    expect(spec.process?.cwd).toBe('/srv');
    expect(spec.process?.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [29, 44] });
    expect(spec.process?.capabilities?.effective).toEqual([]);
    expect(spec.linux?.namespaces?.some((n) => n.type === 'network')).toBe(false);
    expect(spec.hostname).toBe(hostname());
  });

  it('sets RLIMIT_NOFILE to what the engine may grant, and lets --ulimit override it', async () => {
    const spec = await createSpec(image({ Cmd: ['sh'] }), {
      id: ID,
      rootfs,
      nofileLimit: 20000,
      rlimits: [{ type: 'RLIMIT_NPROC', soft: 100, hard: 200 }],
    });
    expect(spec.process?.rlimits).toEqual([
      { type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 },
      { type: 'RLIMIT_NPROC', soft: 100, hard: 200 },
    ]);
  });

  it('bind-mounts the etc files the caller wrote', async () => {
    const files = await writeEtcFiles(join(tmp, 'ctr'), {
      hostname: 'web',
      address: '10.0.0.2',
      hosts: [{ address: '10.0.0.3', names: ['db'] }],
      resolv: { nameservers: ['10.0.0.1'], search: ['lab.local'] },
    });
    expect(await readFile(files.hostname, 'utf8')).toBe('web\n');
    expect(await readFile(files.hosts, 'utf8')).toMatch(
      /^127\.0\.0\.1\tlocalhost\n[\s\S]*10\.0\.0\.3\tdb\n10\.0\.0\.2\tweb\n$/,
    );
    expect(await readFile(files.resolvConf, 'utf8')).toBe(
      'nameserver 10.0.0.1\nsearch lab.local\n',
    );
    const spec = await createSpec(image({ Cmd: ['sh'] }), { id: ID, rootfs, etcFiles: files });
    expect(
      spec.mounts
        ?.filter((m) => m.destination.startsWith('/etc/'))
        .map((m) => [m.destination, m.source]),
    ).toEqual([
      ['/etc/resolv.conf', files.resolvConf],
      ['/etc/hostname', files.hostname],
      ['/etc/hosts', files.hosts],
    ]);
  });

  it('round-trips through writeBundle/readBundle', async () => {
    const spec = await createSpec(image({ Cmd: ['sh'] }), { id: ID, rootfs });
    await writeBundle(join(tmp, 'bundle'), spec);
    expect(await readBundle(join(tmp, 'bundle'))).toEqual(spec);
  });

  it('rejects relative paths and unknown capabilities', async () => {
    await expect(
      createSpec(image({ Cmd: ['sh'] }), { id: ID, rootfs, workdir: 'rel' }),
    ).rejects.toSatisfy(isInvalidArgument);
    expect(() => capabilitySet(['NOT_A_CAP'])).toThrow(/unknown capability/);
  });
});

describe('capabilitySet', () => {
  it('applies --cap-add/--cap-drop to the default set', () => {
    expect(capabilitySet(['NET_ADMIN'], ['CAP_MKNOD'])).toContain('CAP_NET_ADMIN');
    expect(capabilitySet(['NET_ADMIN'], ['CAP_MKNOD'])).not.toContain('CAP_MKNOD');
    expect(capabilitySet([], ['ALL'])).toEqual([]);
    expect(capabilitySet(['chown'], ['ALL'])).toEqual(['CAP_CHOWN']);
    expect(capabilitySet(['ALL'])).toHaveLength(41);
  });
});

describe('resolveUser', () => {
  it.each([
    ['', { uid: 0, gid: 0, additionalGids: [], home: '/root', username: 'root' }],
    [
      'nobody',
      { uid: 65534, gid: 65534, additionalGids: [], home: '/nonexistent', username: 'nobody' },
    ],
    ['app', { uid: 1000, gid: 1000, additionalGids: [29, 44], home: '/home/app', username: 'app' }],
    ['app:audio', { uid: 1000, gid: 29, additionalGids: [], home: '/home/app', username: 'app' }],
    ['1000:5', { uid: 1000, gid: 5, additionalGids: [], home: '/home/app', username: 'app' }],
    ['4242', { uid: 4242, gid: 0, additionalGids: [], home: '/' }],
  ] as const)('resolves "%s"', async (user, expected) => {
    expect(await resolveUser(rootfs, user)).toEqual(expected);
  });

  it('adds --group-add groups and rejects unknown names', async () => {
    expect((await resolveUser(rootfs, 'nobody', ['video', '7'])).additionalGids).toEqual([7, 44]);
    await expect(resolveUser(rootfs, 'ghost')).rejects.toThrow(/unable to find user ghost/);
    await expect(resolveUser(rootfs, 'app:ghosts')).rejects.toThrow(/unable to find group ghosts/);
  });
});

describe('secureJoin', () => {
  it('keeps symlinks inside the root', async () => {
    const root = join(tmp, 'sj');
    await mkdir(join(root, 'usr/bin'), { recursive: true });
    await symlink('/etc', join(root, 'escape'));
    await symlink('../../../../..', join(root, 'up'));
    await symlink('usr/bin', join(root, 'bin'));
    expect(await secureJoin(root, '/escape/passwd')).toBe(join(root, 'etc/passwd'));
    expect(await secureJoin(root, '/up/etc')).toBe(join(root, 'etc'));
    expect(await secureJoin(root, '/bin/sh')).toBe(join(root, 'usr/bin/sh'));
    expect(await secureJoin(root, '/../../x/../y')).toBe(join(root, 'y'));
  });
});
