import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from './json-file.js';
import { LineSplitter, nowRfc3339Nano, openLogWriter, readLogs } from './json-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lab-logs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(gen: AsyncGenerator<LogEntry>): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of gen) out.push(e);
  return out;
}

describe('json-file logs', () => {
  it('splits chunks into lines, keeping a partial line for the flush', () => {
    const got: LogEntry[] = [];
    const s = new LineSplitter('stdout', (e) => got.push(e));
    s.push('a\nb');
    s.push('c\nd');
    s.flush();
    expect(got.map((e) => e.log)).toEqual(['a\n', 'bc\n', 'd']);
    expect(got.every((e) => e.stream === 'stdout')).toBe(true);
  });

  it('writes docker json-file lines that readLogs reads back with tail and since', async () => {
    const file = join(dir, 'a.log');
    const w = await openLogWriter(file);
    w.write({ log: 'old\n', stream: 'stdout', time: '2020-01-01T00:00:00.000000000Z' });
    w.write({ log: 'he said "hi"\t\\\n', stream: 'stderr', time: nowRfc3339Nano() });
    w.write({ log: 'last\n', stream: 'stdout', time: nowRfc3339Nano() });
    await w.close();
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(JSON.parse(lines[1]!)).toMatchObject({ log: 'he said "hi"\t\\\n', stream: 'stderr' });
    expect(lines[0]).toBe(
      '{"log":"old\\n","stream":"stdout","time":"2020-01-01T00:00:00.000000000Z"}',
    );
    expect((await collect(readLogs(file))).map((e) => e.log)).toHaveLength(3);
    expect((await collect(readLogs(file, { tail: 1 }))).map((e) => e.log)).toEqual(['last\n']);
    const since = await collect(readLogs(file, { since: Date.parse('2021-01-01T00:00:00Z') }));
    expect(since.map((e) => e.log)).toEqual(['he said "hi"\t\\\n', 'last\n']);
  });

  it('follows appended lines until the writer is done', async () => {
    const file = join(dir, 'f.log');
    await writeFile(file, '');
    let done = false;
    const seen: string[] = [];
    const reader = (async () => {
      for await (const e of readLogs(file, { follow: true, done: () => Promise.resolve(done) }))
        seen.push(e.log);
    })();
    const w = await openLogWriter(file);
    w.write({ log: 'one\n', stream: 'stdout', time: nowRfc3339Nano() });
    await new Promise((r) => setTimeout(r, 100));
    w.write({ log: 'two\n', stream: 'stdout', time: nowRfc3339Nano() });
    await w.close();
    done = true;
    await reader;
    expect(seen).toEqual(['one\n', 'two\n']);
  });

  it('timestamps are RFC 3339 with nine fractional digits', () => {
    expect(nowRfc3339Nano()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  });
});
