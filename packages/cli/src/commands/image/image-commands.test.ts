import { mkdtempSync, readdirSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../index.js';
import {
  busyboxRootfs,
  isRoot,
  PATH_ENV,
  runLab,
  sink,
  type LabResult as Result,
} from '../../../test/harness.js';

if (!isRoot)
  console.warn('lab image CLI tests skipped: building the busybox rootfs needs root (chroot)');

let lastBytes = Buffer.alloc(0);
/** A stdout that keeps the bytes written (in `lastBytes`). */
function bytesSink(): Writable {
  const chunks: Buffer[] = [];
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(Buffer.from(chunk));
      lastBytes = Buffer.concat(chunks);
      done();
    },
  });
}

function lab(
  root: string,
  args: string[],
  opts: { stdin?: Buffer; env?: Record<string, string> } = {},
): Promise<Result> {
  return runLab(args, { root, stdin: opts.stdin, env: opts.env });
}

describe.skipIf(!isRoot)('lab image commands', () => {
  let tmp: string;
  let rootfs: string;
  let root: string;
  let id: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lab-cli-image-'));
    rootfs = busyboxRootfs(tmp);
    root = join(tmp, 'root');
    const r = await lab(
      root,
      [
        'import',
        '--change',
        'CMD ["sh"]',
        '--change',
        `ENV ${PATH_ENV}`,
        '-m',
        'busybox-static rootfs',
        rootfs,
        'busybox',
      ],
      { env: { SOURCE_DATE_EPOCH: '946684800' } },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    id = r.stdout.trim();
  });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('import prints the image ID, the same one on every run with SOURCE_DATE_EPOCH', async () => {
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const again = await lab(
      join(tmp, 'root-again'),
      [
        'image',
        'import',
        '-c',
        'CMD ["sh"]',
        '-c',
        `ENV ${PATH_ENV}`,
        '-m',
        'busybox-static rootfs',
        rootfs,
        'busybox',
      ],
      {
        env: { SOURCE_DATE_EPOCH: '946684800' },
      },
    );
    expect(again.stdout.trim()).toBe(id);
  });

  it('images lists it in docker columns, and as json, IDs and filtered', async () => {
    const table = await lab(root, ['images']);
    const [header, row, ...rest] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^REPOSITORY\s{3,}TAG\s{3,}IMAGE ID\s{3,}CREATED\s{3,}SIZE$/);
    expect(row).toMatch(
      new RegExp(`^busybox\\s+latest\\s+${id.slice(7, 19)}\\s+2\\d years ago\\s+2\\.1\\dMB$`),
    );
    expect(rest).toEqual([]);
    const json = JSON.parse(
      (await lab(root, ['image', 'ls', '--format', 'json'])).stdout,
    ) as Record<string, string>;
    expect(json).toMatchObject({ Repository: 'busybox', Tag: 'latest', ID: id.slice(7, 19) });
    expect((await lab(root, ['image', 'list', '-q', '--no-trunc'])).stdout).toBe(`${id}\n`);
    expect((await lab(root, ['images', '-f', 'dangling=true'])).stdout.split('\n')).toHaveLength(2);
    expect(
      (await lab(root, ['images', '--format', '{{.Repository}}:{{.Tag}}', 'busy*'])).stdout,
    ).toBe('busybox:latest\n');
    const digests = await lab(root, ['images', '--digests']);
    expect(digests.stdout.split('\n')[0]).toMatch(/TAG\s+DIGEST\s+IMAGE ID/);
  });

  it('inspect shows docker-style JSON with the config from --change', async () => {
    const r = await lab(root, ['image', 'inspect', 'busybox']);
    const [info] = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(info).toMatchObject({
      Id: id,
      RepoTags: ['busybox:latest'],
      Created: '2000-01-01T00:00:00Z',
      Os: 'linux',
      Config: { Cmd: ['sh'], Env: [PATH_ENV] },
      RootFS: { Type: 'layers' },
      Comment: 'busybox-static rootfs',
    });
    expect(
      (await lab(root, ['image', 'inspect', '-f', '{{json .Config.Cmd}}', 'busybox'])).stdout,
    ).toBe('["sh"]\n');
    const missing = await lab(root, ['image', 'inspect', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^Error: no such image: nope/);
  });

  it('history shows one row per history entry', async () => {
    const r = await lab(root, ['history', 'busybox']);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${id.slice(7, 19)}\\s+2\\d years ago\\s+2\\.1\\dMB\\s+busybox-static rootfs$`),
    );
  });

  it('tag adds a name, rmi of one of two names only untags', async () => {
    expect((await lab(root, ['tag', 'busybox', 'mybox:1'])).code).toBe(0);
    expect(
      (await lab(root, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout
        .split('\n')
        .sort(),
    ).toEqual(['', 'busybox:latest', 'mybox:1']);
    const r = await lab(root, ['rmi', 'mybox:1']);
    expect(r.stdout).toBe('Untagged: mybox:1\n');
  });

  it('save and load round-trip in both formats, keeping the image ID', async () => {
    for (const format of ['docker-archive', 'oci-archive']) {
      const file = join(tmp, `${format}.tar`);
      const saved = await lab(root, ['save', '--format', format, '-o', file, 'busybox']);
      expect(saved.stderr).toBe('');
      const other = join(tmp, `load-${format}`);
      const loaded = await lab(other, ['load', '-i', file]);
      expect(loaded.stdout).toBe('Loaded image: busybox:latest\n');
      expect((await lab(other, ['images', '-q', '--no-trunc'])).stdout).toBe(`${id}\n`);
      const piped = await lab(join(tmp, `stdin-${format}`), ['image', 'load', '-q'], {
        stdin: readFileSync(file),
      });
      expect(piped.stdout).toBe('Loaded image: busybox:latest\n');
    }
  });

  it('save writes to stdout when it is not a terminal; an image saved by ID loads as an ID', async () => {
    const out = await run(['--root', root, 'save', id.slice(7, 19)], {
      stdin: Readable.from([]),
      stdout: Object.assign(bytesSink(), { isTTY: false }),
      stderr: sink(),
      env: {},
      cwd: tmp,
      version: 'test',
    });
    expect(out).toBe(0);
    const loaded = await lab(join(tmp, 'root-by-id'), ['load'], { stdin: lastBytes });
    expect(loaded.stdout).toBe(`Loaded image ID: ${id}\n`);
    expect(
      (
        await lab(join(tmp, 'root-by-id'), [
          'images',
          '--format',
          '{{.Repository}}:{{.Tag}} {{.ID}}',
        ])
      ).stdout,
    ).toBe(`<none>:<none> ${id.slice(7, 19)}\n`);
  });

  it('save refuses a terminal, load refuses a missing file, with exit 125', async () => {
    const tty = Object.assign(sink(), { isTTY: true });
    const code = await run(['--root', root, 'save', 'busybox'], {
      stdin: Readable.from([]),
      stdout: tty,
      stderr: sink(),
      env: {},
      cwd: tmp,
      version: 'test',
    });
    expect(code).toBe(125);
    const r = await lab(root, ['load', '-i', join(tmp, 'missing.tar')]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^Error: .*missing\.tar/);
  });

  it('rmi refuses an image a container uses unless forced', async () => {
    const r2 = join(tmp, 'root-inuse');
    const file = join(tmp, 'docker-archive.tar');
    await lab(r2, ['load', '-i', file]);
    const created = await lab(r2, [
      'create',
      '--network',
      'none',
      '--name',
      'c1',
      'busybox',
      'true',
    ]);
    expect(created.code).toBe(0);
    try {
      const refused = await lab(r2, ['rmi', 'busybox']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/in use by a container/);
      const forced = await lab(r2, ['rmi', '-f', 'busybox']);
      expect(forced.stdout).toBe('Untagged: busybox:latest\n');
      // the container still holds the image: gc kept its config blob
      expect(readdirSync(join(r2, 'blobs', 'sha256'))).toContain(id.slice('sha256:'.length));
    } finally {
      expect((await lab(r2, ['rm', '-f', 'c1'])).code).toBe(0);
    }
  });

  it('top-level inspect falls back to images, as docker inspect does', async () => {
    const r4 = join(tmp, 'root-inspect');
    await lab(r4, ['load', '-i', join(tmp, 'docker-archive.tar')]);
    const r = await lab(r4, ['inspect', '-f', '{{.Id}}', 'busybox']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${id}\n`);
    const missing = await lab(r4, ['inspect', 'nosuch']);
    expect(missing.code).toBe(1);
  });

  it('rmi deletes the image and its blobs; prune removes dangling images', async () => {
    const r3 = join(tmp, 'root-rm');
    await lab(r3, ['load', '-i', join(tmp, 'oci-archive.tar')]);
    const removed = await lab(r3, ['rmi', 'busybox']);
    expect(removed.stdout).toBe(`Untagged: busybox:latest\nDeleted: ${id}\n`);
    expect(readdirSync(join(r3, 'blobs', 'sha256'))).toEqual([]);

    await lab(r3, ['import', rootfs]);
    expect((await lab(r3, ['images', '--format', '{{.Repository}}'])).stdout).toBe('<none>\n');
    const pruned = await lab(r3, ['image', 'prune', '-f']);
    expect(pruned.stdout).toMatch(
      /^Deleted Images:\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: 2\.1\dMB\n$/,
    );
  });
});
