import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container } from '@lab/lifecycle';
import { openVolumeProvider } from '@lab/lifecycle';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runLab, type LabResult as Result } from '../../../test/harness.js';
import { registerVolume } from './index.js';

describe('lab volume', () => {
  let root = '';

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lab-volcli-'));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  function lab(args: string[], stdin = ''): Promise<Result> {
    return runLab(args, {
      root,
      stdin: stdin === '' ? undefined : stdin,
      cwd: root,
      groups: [registerVolume],
    });
  }

  it('creates volumes and lists them as docker does', async () => {
    expect(await lab(['volume', 'create', 'web-data'])).toEqual({
      code: 0,
      stdout: 'web-data\n',
      stderr: '',
    });
    expect(
      (await lab(['volume', 'create', '--name', 'pg-store', '--label', 'tier=backend'])).stdout,
    ).toBe('pg-store\n');
    const anon = await lab(['volume', 'create']);
    expect(anon.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const id = anon.stdout.trim();

    const ls = await lab(['volume', 'ls']);
    expect(ls.stdout).toBe(
      [
        'DRIVER    VOLUME NAME',
        `local     ${id}`,
        'local     pg-store',
        'local     web-data',
        '',
      ].join('\n'),
    );
    expect(
      (await lab(['volume', 'ls', '-q', '-f', 'name=web', '-f', 'name=pg-store'])).stdout,
    ).toBe('pg-store\nweb-data\n');
    expect((await lab(['volume', 'ls', '-q', '--filter', 'label=tier=backend'])).stdout).toBe(
      'pg-store\n',
    );
    expect((await lab(['volume', 'ls', '-q', '-f', 'dangling=false'])).stdout).toBe('');
    expect(
      (await lab(['volume', 'ls', '--format', '{{.Name}} {{.Labels}}', '-f', 'name=pg-store']))
        .stdout,
    ).toBe('pg-store tier=backend\n');
    const json = (await lab(['volume', 'ls', '--format', 'json', '-f', 'name=web'])).stdout;
    expect(JSON.parse(json)).toEqual({
      Availability: 'N/A',
      Driver: 'local',
      Group: 'N/A',
      Labels: '',
      Links: 'N/A',
      Mountpoint: join(root, 'volumes', 'web-data', '_data'),
      Name: 'web-data',
      Scope: 'local',
      Size: 'N/A',
      Status: 'N/A',
    });
    const bad = await lab(['volume', 'ls', '-f', 'color=red']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain("invalid filter 'color'");
  });

  it('inspects volumes as a JSON array with 4-space indentation', async () => {
    await lab(['volume', 'create', '--label', 'a=b', 'v1']);
    const r = await lab(['volume', 'inspect', 'v1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\[\n {4}\{\n {8}"CreatedAt": "/);
    const [v] = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(Object.keys(v ?? {})).toEqual([
      'CreatedAt',
      'Driver',
      'Labels',
      'Mountpoint',
      'Name',
      'Options',
      'Scope',
    ]);
    expect(v).toMatchObject({
      Driver: 'local',
      Labels: { a: 'b' },
      Name: 'v1',
      Options: null,
      Scope: 'local',
    });
    expect((await lab(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'v1'])).stdout).toBe(
      `${join(root, 'volumes', 'v1', '_data')}\n`,
    );
    const missing = await lab(['volume', 'inspect', 'v1', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('Error: get nope: no such volume\n');
    expect(JSON.parse(missing.stdout)).toHaveLength(1);
  });

  it("refuses bad names and option conflicts in docker's words (exit 125)", async () => {
    const bad = await lab(['volume', 'create', 'a/b']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain(
      'Error: create a/b: "a/b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path',
    );
    const both = await lab(['volume', 'create', '--name', 'x1', 'x2']);
    expect(both.code).toBe(125);
    expect(both.stderr).toContain(
      'conflicting options: either specify --name or provide positional arg, not both',
    );
    const driver = await lab(['volume', 'create', '-d', 'nfs', 'x3']);
    expect(driver.code).toBe(125);
  });

  it('removes volumes, refusing one a container uses', async () => {
    await lab(['volume', 'create', 'free']);
    // a container (its directory and the provider's record of its mounts) holds "held"
    const id = randomBytes(32).toString('hex');
    const dir = join(root, 'containers', id);
    await mkdir(join(dir, 'rootfs'), { recursive: true });
    const container = { id, name: 'c', dir, config: { Volumes: [] } } as unknown as Container;
    await openVolumeProvider({ root }).mount(
      { name: 'held', destination: '/data', readonly: false },
      container,
    );

    const r = await lab(['volume', 'rm', 'free', 'held', 'ghost']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('free\n');
    expect(r.stderr).toBe(
      `Error: remove held: volume is in use - [${id}]\nError: get ghost: no such volume\n`,
    );
    expect((await lab(['volume', 'rm', '-f', 'ghost'])).code).toBe(0);
    expect((await lab(['volume', 'ls', '-q', '-f', 'dangling=false'])).stdout).toBe('held\n');
    expect((await lab(['volume', 'rm', '-f', 'held'])).code).toBe(1);
  });

  it('prunes unused anonymous volumes, all unused ones with -a, after a prompt', async () => {
    await lab(['volume', 'create', 'named']);
    const provider = openVolumeProvider({ root });
    const id = randomBytes(32).toString('hex');
    const dir = join(root, 'containers', id);
    await mkdir(join(dir, 'rootfs'), { recursive: true });
    const container = { id, name: 'c', dir, config: { Volumes: [] } } as unknown as Container;
    const anon = await provider.mount(
      { name: '', destination: '/cache', readonly: false },
      container,
    );
    await writeFile(join(anon.source, 'blob'), 'x'.repeat(2000));
    await provider.release(container, false);
    await rm(dir, { recursive: true });

    const declined = await lab(['volume', 'prune'], 'n\n');
    expect(declined.stdout).toBe(
      'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ',
    );
    expect((await lab(['volume', 'ls', '-q'])).stdout.split('\n')).toHaveLength(3);

    const pruned = await lab(['volume', 'prune'], 'y\n');
    expect(pruned.stdout).toContain(
      `Deleted Volumes:\n${anon.point.Name ?? ''}\n\nTotal reclaimed space: 2kB\n`,
    );
    const all = await lab(['volume', 'prune', '-a', '-f']);
    expect(all.stdout).toBe('Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B\n');
    expect((await lab(['volume', 'ls', '-q'])).stdout).toBe('');
  });
});
