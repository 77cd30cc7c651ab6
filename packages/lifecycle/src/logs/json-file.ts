/**
 * Container logs in docker's `json-file` format: one JSON object per line,
 * `{"log":"hello\n","stream":"stdout","time":"2026-11-30T12:00:00.123456789Z"}`, appended to
 * `<container dir>/json.log`. A line without its newline (a partial line at exit, or more
 * than 16 KiB without one) is written without the `\n`, as docker does. Chosen over a compact
 * format so docker's tooling reads the file as is.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { watch } from 'node:fs';

export type LogStream = 'stdout' | 'stderr';

/** One log record. */
export interface LogEntry {
  log: string;
  stream: LogStream;
  /** RFC 3339 with nanoseconds. */
  time: string;
}

const MAX_LINE = 16 * 1024;

/** Now as RFC 3339 with 9 fractional digits (microsecond precision from the performance clock). */
export function nowRfc3339Nano(): string {
  const t = performance.timeOrigin + performance.now();
  const ms = Math.floor(t);
  const micros = Math.floor((t - ms) * 1000);
  return `${new Date(ms).toISOString().slice(0, 23)}${micros.toString().padStart(3, '0')}000Z`;
}

/** Splits a stream's chunks into log lines and appends them to a file handle. */
export class LineSplitter {
  #pending = '';
  constructor(
    private readonly stream: LogStream,
    private readonly emit: (entry: LogEntry) => void,
  ) {}

  push(chunk: string): void {
    let text = this.#pending + chunk;
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      this.emit({ log: text.slice(0, nl + 1), stream: this.stream, time: nowRfc3339Nano() });
      text = text.slice(nl + 1);
    }
    while (text.length > MAX_LINE) {
      this.emit({ log: text.slice(0, MAX_LINE), stream: this.stream, time: nowRfc3339Nano() });
      text = text.slice(MAX_LINE);
    }
    this.#pending = text;
  }

  flush(): void {
    if (this.#pending !== '') {
      this.emit({ log: this.#pending, stream: this.stream, time: nowRfc3339Nano() });
      this.#pending = '';
    }
  }
}

/** Serialises an entry as one json-file line. */
export function formatLogEntry(entry: LogEntry): string {
  return `${JSON.stringify({ log: entry.log, stream: entry.stream, time: entry.time })}\n`;
}

/** An append-only writer of json-file lines (synchronous appends keep the order of both streams). */
export interface LogWriter {
  write(entry: LogEntry): void;
  close(): Promise<void>;
}

/** Opens `file` for appending. */
export async function openLogWriter(file: string): Promise<LogWriter> {
  const handle: FileHandle = await open(file, 'a', 0o640);
  let chain: Promise<unknown> = Promise.resolve();
  return {
    write(entry) {
      const line = formatLogEntry(entry);
      chain = chain.then(() => handle.appendFile(line));
    },
    async close() {
      await chain;
      await handle.close();
    },
  };
}

/** Options of {@link readLogs}. */
export interface ReadLogsOptions {
  /** Only the last N lines (of what `since`/`until` leave). */
  tail?: number;
  /** Only entries at or after this time (ms since the epoch). */
  since?: number;
  /** Only entries before this time (ms since the epoch). */
  until?: number;
  /** Start at this byte offset (e.g. the size before a run started: only that run's output). */
  from?: number;
  /** Keep reading appended entries until `done()` says the writer is finished. */
  follow?: boolean;
  /** For `follow`: how often to look again without a change notification (ms, default 250). */
  pollMs?: number;
  /** For `follow`: resolves true once nothing more will be written. */
  done?: () => Promise<boolean>;
  signal?: AbortSignal;
}

function parseLine(line: string): LogEntry | undefined {
  try {
    const value = JSON.parse(line) as Partial<LogEntry>;
    if (typeof value.log !== 'string' || typeof value.time !== 'string') return undefined;
    return {
      log: value.log,
      stream: value.stream === 'stderr' ? 'stderr' : 'stdout',
      time: value.time,
    };
  } catch {
    return undefined;
  }
}

function inRange(entry: LogEntry, options: ReadLogsOptions): boolean {
  if (options.since === undefined && options.until === undefined) return true;
  const t = Date.parse(entry.time);
  if (options.since !== undefined && t < options.since) return false;
  if (options.until !== undefined && t >= options.until) return false;
  return true;
}

/** Reads the entries of a json-file log, then (with `follow`) the ones appended later. */
export async function* readLogs(
  file: string,
  options: ReadLogsOptions = {},
): AsyncGenerator<LogEntry> {
  let size = 0;
  try {
    size = (await stat(file)).size;
  } catch {
    if (options.follow !== true) return;
  }
  const first: LogEntry[] = [];
  let offset = 0;
  if (size > 0) {
    let rest = '';
    for await (const chunk of createReadStream(file, {
      start: 0,
      end: size - 1,
      encoding: 'utf8',
    })) {
      const text = rest + (chunk as string);
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const entry = parseLine(line);
        if (entry !== undefined && inRange(entry, options)) first.push(entry);
      }
    }
    offset = size - Buffer.byteLength(rest);
  }
  const start =
    options.tail === undefined || options.tail < 0 ? 0 : Math.max(0, first.length - options.tail);
  for (let i = start; i < first.length; i++) yield first[i]!;
  if (options.follow !== true) return;

  // follow: inotify wakes us; a poll (default every 250 ms) covers missed events and `done`
  let wake: (() => void) | undefined;
  let watcher: ReturnType<typeof watch> | undefined;
  try {
    watcher = watch(file, () => wake?.());
  } catch {
    watcher = undefined;
  }
  let rest = '';
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      let current = 0;
      try {
        current = (await stat(file)).size;
      } catch {
        current = 0;
      }
      if (current > offset) {
        const handle = await open(file, 'r');
        try {
          const buf = Buffer.alloc(current - offset);
          await handle.read(buf, 0, buf.length, offset);
          offset = current;
          const lines = (rest + buf.toString('utf8')).split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines) {
            const entry = parseLine(line);
            if (entry !== undefined && inRange(entry, options)) yield entry;
          }
        } finally {
          await handle.close();
        }
        continue;
      }
      if (options.done !== undefined && (await options.done())) {
        // one last look: the writer may have appended between the size check and done()
        const last = await stat(file)
          .then((s) => s.size)
          .catch(() => offset);
        if (last <= offset) return;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollMs ?? 250);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    watcher?.close();
  }
}
