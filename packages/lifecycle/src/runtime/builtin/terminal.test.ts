import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpec } from '../../bundle/create-spec.js';
import { writeBundle } from '../../bundle/write-bundle.js';
import { makeBusyboxRootfs } from '../testsuite.js';
import { createBuiltinRuntime } from './builtin-runtime.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('[builtin terminal] skipped: needs root');

describe.skipIf(!root)('builtin runtime with a terminal', () => {
  let tmp = '';
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'lab-tty-'));
    await makeBusyboxRootfs(join(tmp, 'rootfs'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('runs the process on a pty with TERM=xterm, the console size, and its exit code', async () => {
    const id = `tty-${process.pid}`;
    const spec = await createSpec(
      { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } },
      {
        id,
        rootfs: join(tmp, 'rootfs'),
        tty: true,
        cmd: [
          'sh',
          '-c',
          '[ -t 0 ] && [ -t 1 ] && echo tty=yes; echo size=$(stty size); echo term=$TERM; exit 6',
        ],
      },
    );
    spec.process = { ...spec.process!, consoleSize: { height: 33, width: 111 } };
    await writeBundle(join(tmp, 'bundle'), spec);
    const runtime = createBuiltinRuntime({ root: join(tmp, 'state') });
    const outFile = join(tmp, 'out');
    const out = openSync(outFile, 'w');
    await runtime.create(id, join(tmp, 'bundle'), { stdio: ['ignore', out, out] });
    closeSync(out);
    await runtime.start(id);
    expect((await runtime.wait(id)).exitCode).toBe(6);
    const text = readFileSync(outFile, 'utf8');
    expect(text).toContain('tty=yes\r\n');
    expect(text).toContain('size=33 111\r\n');
    expect(text).toContain('term=xterm\r\n');
    await runtime.delete(id);
  });

  it('resizes the terminal of a running container and execs with a terminal', async () => {
    const id = `tty-resize-${process.pid}`;
    const spec = await createSpec(
      { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } },
      {
        id,
        rootfs: join(tmp, 'rootfs'),
        tty: true,
        cmd: [
          'sh',
          '-c',
          'trap "echo size=\\$(stty size)" WINCH; echo ready; while :; do sleep 0.05; done',
        ],
      },
    );
    await writeBundle(join(tmp, 'bundle2'), spec);
    const runtime = createBuiltinRuntime({ root: join(tmp, 'state') });
    const outFile = join(tmp, 'out2');
    const out = openSync(outFile, 'w');
    await runtime.create(id, join(tmp, 'bundle2'), { stdio: ['ignore', out, out] });
    closeSync(out);
    await runtime.start(id);
    const until = async (text: string) => {
      for (let i = 0; i < 400 && !readFileSync(outFile, 'utf8').includes(text); i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(readFileSync(outFile, 'utf8')).toContain(text);
    };
    await until('ready');
    await runtime.resize(id, { rows: 40, cols: 120 });
    await until('size=40 120');

    const execFile = join(tmp, 'exec-out');
    const execOut = openSync(execFile, 'w');
    const exec = await runtime.exec(
      id,
      {
        ...spec.process!,
        terminal: true,
        args: ['sh', '-c', '[ -t 0 ] && echo exec-tty=yes; exit 2'],
      },
      { stdio: ['ignore', execOut, execOut] },
    );
    closeSync(execOut);
    expect((await exec.wait()).exitCode).toBe(2);
    expect(readFileSync(execFile, 'utf8')).toContain('exec-tty=yes\r\n');
    await runtime.delete(id, { force: true });
  });
});
