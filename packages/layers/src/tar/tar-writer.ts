/**
 * A deterministic tar writer. Entries are POSIX ustar headers; a PAX extended header (`x`)
 * precedes an entry only when a field cannot be expressed in ustar: a name or link target longer
 * than 100 bytes or not ASCII, user/group names longer than 32 bytes or not ASCII, ids, sizes or
 * device numbers too large for their octal field, sub-second or negative mtimes, atime/ctime,
 * xattrs (`SCHILY.xattr.<name>`, byte-exact) and any vendor PAX records passed through.
 * PAX records are written sorted by key. Output is the `readable` stream, with backpressure:
 * `addEntry` resolves once the consumer has room for more.
 */
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { invalidArgument } from '@lab/oci';
import {
  BLOCK_SIZE,
  TYPEFLAG,
  TYPEFLAG_PAX_LOCAL,
  encodeHeader,
  octalLimit,
  type EncodableHeader,
  type TarHeaderInput,
} from './header.js';
import { encodePaxRecord, formatPaxTime } from './pax.js';

/** A body: bytes in memory, or a stream/iterable of chunks (chunks must not be mutated later). */
export type TarBody = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** PAX keys the writer derives from header fields; other keys in `header.pax` pass through. */
const DERIVED_KEYS = new Set([
  'path',
  'linkpath',
  'uid',
  'gid',
  'uname',
  'gname',
  'size',
  'mtime',
  'atime',
  'ctime',
  'SCHILY.devmajor',
  'SCHILY.devminor',
]);

/** Output is gathered into chunks of this size: fewer, larger pushes downstream. */
const BATCH_SIZE = 512 * 1024;
const ZERO_BLOCK = Buffer.alloc(BLOCK_SIZE);
const END_OF_ARCHIVE = Buffer.alloc(BLOCK_SIZE * 2);

// eslint-disable-next-line no-control-regex -- the ustar fields take 7-bit ASCII
const ASCII = /^[\x00-\x7f]*$/;

function fits(value: string, max: number): boolean {
  return value.length <= max && ASCII.test(value) && Buffer.byteLength(value) <= max;
}

/** A placeholder for a ustar field whose real value is in a PAX record. */
function placeholder(value: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[^\x00-\x7f]/g, '_').slice(0, max);
}

export interface TarWriterOptions {
  /** Bytes the readable side buffers before `addEntry` waits (default 1 MiB). */
  highWaterMark?: number;
}

export class TarWriter {
  /** The tar byte stream. Consume it (pipe it somewhere) or `addEntry` never resolves. */
  readonly readable: Readable;
  #batch = Buffer.allocUnsafe(BATCH_SIZE);
  #batchLen = 0;
  #wake: (() => void) | undefined;
  #busy = false;
  #finished = false;
  #error: Error | undefined;
  /** Bytes written so far. */
  size = 0;

  constructor(options: TarWriterOptions = {}) {
    this.readable = new Readable({
      highWaterMark: options.highWaterMark ?? 1024 * 1024,
      read: () => {
        const wake = this.#wake;
        this.#wake = undefined;
        wake?.();
      },
      destroy: (err, cb) => {
        this.#error ??= err ?? new Error('tar output stream was destroyed');
        const wake = this.#wake;
        this.#wake = undefined;
        wake?.();
        cb(err);
      },
    });
  }

  /** Appends one entry. `body` is required for files with `size > 0`, forbidden otherwise. */
  async addEntry(input: TarHeaderInput, body?: TarBody): Promise<void> {
    if (this.#busy)
      throw invalidArgument('TarWriter.addEntry called again before the previous call finished');
    if (this.#finished)
      throw invalidArgument(`TarWriter: entry "${input.name}" added after finish()`);
    this.#busy = true;
    try {
      let size = input.size ?? 0;
      if (input.type !== 'file') size = 0;
      if (body !== undefined && input.type !== 'file') {
        throw invalidArgument(`tar entry "${input.name}" of type ${input.type} cannot have a body`);
      }
      if (input.type === 'file' && body instanceof Uint8Array) {
        if (input.size === undefined) size = body.length;
        else if (body.length !== size) {
          throw invalidArgument(
            `tar entry "${input.name}": header size ${size} does not match the ${body.length}-byte body`,
          );
        }
      }
      if (size > 0 && body === undefined) {
        throw invalidArgument(`tar entry "${input.name}" has size ${size} but no body`);
      }
      await this.#writeHeaders(input, size);
      if (body !== undefined) {
        let written = 0;
        if (body instanceof Uint8Array) {
          await this.#write(body);
          written = body.length;
        } else {
          for await (const chunk of body as AsyncIterable<Uint8Array>) {
            written += chunk.length;
            if (written > size) {
              throw invalidArgument(
                `tar entry "${input.name}": the body is longer than the header size ${size}; the file changed while it was archived`,
              );
            }
            await this.#write(chunk);
          }
        }
        if (written !== size) {
          throw invalidArgument(
            `tar entry "${input.name}": the body has ${written} bytes but the header says ${size}; the file changed while it was archived`,
          );
        }
        const pad = size % BLOCK_SIZE === 0 ? 0 : BLOCK_SIZE - (size % BLOCK_SIZE);
        if (pad > 0) await this.#write(ZERO_BLOCK.subarray(0, pad));
      }
    } catch (err) {
      this.abort(err as Error);
      throw err;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Appends a regular file whose body is read from `filePath` straight into the output buffer
   * (no intermediate copy). `input.size` is required; a file that changed size fails the entry.
   */
  async addFileEntry(input: TarHeaderInput & { size: number }, filePath: string): Promise<void> {
    if (this.#busy)
      throw invalidArgument(
        'TarWriter.addFileEntry called again before the previous call finished',
      );
    if (this.#finished)
      throw invalidArgument(`TarWriter: entry "${input.name}" added after finish()`);
    if (input.type !== 'file')
      throw invalidArgument(`tar entry "${input.name}": addFileEntry takes regular files only`);
    this.#busy = true;
    let fd: number | undefined;
    try {
      const size = input.size;
      fd = fs.openSync(filePath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      await this.#writeHeaders(input, size);
      let left = size;
      while (left > 0) {
        if (this.#batchLen === BATCH_SIZE) await this.#flush();
        const n = fs.readSync(
          fd,
          this.#batch,
          this.#batchLen,
          Math.min(left, BATCH_SIZE - this.#batchLen),
          null,
        );
        if (n === 0) {
          throw invalidArgument(
            `tar entry "${input.name}": ${filePath} has ${size - left} bytes but the header says ${size}; the file changed while it was archived`,
          );
        }
        this.#batchLen += n;
        this.size += n;
        left -= n;
      }
      if (fs.readSync(fd, Buffer.alloc(1), 0, 1, null) !== 0) {
        throw invalidArgument(
          `tar entry "${input.name}": ${filePath} grew beyond ${size} bytes; the file changed while it was archived`,
        );
      }
      const pad = size % BLOCK_SIZE === 0 ? 0 : BLOCK_SIZE - (size % BLOCK_SIZE);
      if (pad > 0) await this.#write(ZERO_BLOCK.subarray(0, pad));
    } catch (err) {
      this.abort(err as Error);
      throw err;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
      this.#busy = false;
    }
  }

  /** Writes the end-of-archive blocks and ends the stream. */
  async finish(): Promise<void> {
    if (this.#finished) return;
    await this.#write(END_OF_ARCHIVE);
    this.#finished = true;
    await this.#flush();
    this.readable.push(null);
  }

  /** Fails the output stream (the consumer sees `err`). */
  abort(err: Error): void {
    this.#finished = true;
    if (!this.readable.destroyed) this.readable.destroy(err);
  }

  async #writeHeaders(h: TarHeaderInput, size: number): Promise<void> {
    const records = new Map<string, Buffer>();
    const enc: EncodableHeader = {
      name: h.name,
      mode: (h.mode ?? (h.type === 'dir' ? 0o755 : 0o644)) & 0o7777,
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
      size,
      mtime: h.mtime?.sec ?? 0,
      typeflag: TYPEFLAG[h.type],
      linkname: h.linkname ?? '',
      uname: h.uname ?? '',
      gname: h.gname ?? '',
      devmajor: h.devmajor ?? 0,
      devminor: h.devminor ?? 0,
    };
    if (!fits(enc.name, 100)) {
      records.set('path', Buffer.from(enc.name, 'utf8'));
      enc.name = placeholder(enc.name, 100);
    }
    if (!fits(enc.linkname, 100)) {
      records.set('linkpath', Buffer.from(enc.linkname, 'utf8'));
      enc.linkname = placeholder(enc.linkname, 100);
    }
    for (const key of ['uname', 'gname'] as const) {
      if (!fits(enc[key], 32)) {
        records.set(key, Buffer.from(enc[key], 'utf8'));
        enc[key] = placeholder(enc[key], 32);
      }
    }
    for (const [key, limit] of [
      ['uid', octalLimit(8)],
      ['gid', octalLimit(8)],
      ['size', octalLimit(12)],
    ] as const) {
      const v = enc[key];
      if (!Number.isSafeInteger(v) || v < 0) {
        throw invalidArgument(`tar entry "${h.name}": ${key} ${v} is not a non-negative integer`);
      }
      if (v > limit) {
        records.set(key, Buffer.from(String(v)));
        enc[key] = 0;
      }
    }
    for (const [key, pax] of [
      ['devmajor', 'SCHILY.devmajor'],
      ['devminor', 'SCHILY.devminor'],
    ] as const) {
      if (enc[key] > octalLimit(8)) {
        records.set(pax, Buffer.from(String(enc[key])));
        enc[key] = 0;
      }
    }
    const mtime = h.mtime ?? { sec: 0, nsec: 0 };
    if (mtime.nsec !== 0 || mtime.sec < 0 || mtime.sec > octalLimit(12)) {
      records.set('mtime', Buffer.from(formatPaxTime(mtime)));
      enc.mtime = Math.min(Math.max(mtime.sec, 0), octalLimit(12));
    }
    if (h.atime !== undefined) records.set('atime', Buffer.from(formatPaxTime(h.atime)));
    if (h.ctime !== undefined) records.set('ctime', Buffer.from(formatPaxTime(h.ctime)));
    if (h.pax !== undefined) {
      for (const [key, value] of Object.entries(h.pax)) {
        if (!DERIVED_KEYS.has(key) && !key.startsWith('SCHILY.xattr.')) records.set(key, value);
      }
    }
    if (h.xattrs !== undefined) {
      for (const [key, value] of Object.entries(h.xattrs)) {
        if (key.includes('=')) {
          throw invalidArgument(`tar entry "${h.name}": xattr name "${key}" contains "="`);
        }
        records.set(`SCHILY.xattr.${key}`, Buffer.from(value));
      }
    }
    if (records.size > 0) {
      const keys = [...records.keys()].sort();
      const parts = keys.map((k) => encodePaxRecord(k, records.get(k)!));
      const paxBody = Buffer.concat(parts);
      const slash = h.name.replace(/\/+$/, '').lastIndexOf('/');
      const base = h.name.replace(/\/+$/, '').slice(slash + 1);
      const dir = slash < 0 ? '' : `${h.name.slice(0, slash)}/`;
      const paxName = placeholder(`${dir}PaxHeaders.0/${base}`, 100);
      await this.#write(
        encodeHeader({
          name: paxName,
          mode: 0o644,
          uid: 0,
          gid: 0,
          size: paxBody.length,
          mtime: 0,
          typeflag: TYPEFLAG_PAX_LOCAL,
          linkname: '',
          uname: '',
          gname: '',
          devmajor: 0,
          devminor: 0,
        }),
      );
      await this.#write(paxBody);
      const pad = paxBody.length % BLOCK_SIZE;
      if (pad !== 0) await this.#write(ZERO_BLOCK.subarray(0, BLOCK_SIZE - pad));
    }
    await this.#write(encodeHeader(enc));
  }

  async #write(chunk: Uint8Array): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    this.size += chunk.length;
    if (chunk.length <= BATCH_SIZE - this.#batchLen && chunk.length < BATCH_SIZE / 4) {
      this.#batch.set(chunk, this.#batchLen);
      this.#batchLen += chunk.length;
      if (this.#batchLen === BATCH_SIZE) await this.#flush();
      return;
    }
    await this.#flush();
    if (chunk.length < BATCH_SIZE / 4) {
      this.#batch.set(chunk, 0);
      this.#batchLen = chunk.length;
      return;
    }
    await this.#push(
      Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length),
    );
  }

  async #flush(): Promise<void> {
    if (this.#batchLen === 0) return;
    const out = this.#batch.subarray(0, this.#batchLen);
    this.#batch = Buffer.allocUnsafe(BATCH_SIZE);
    this.#batchLen = 0;
    await this.#push(out);
  }

  async #push(chunk: Buffer): Promise<void> {
    this.#throwIfFailed();
    if (!this.readable.push(chunk)) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#throwIfFailed();
    }
  }

  #throwIfFailed(): void {
    if (this.#error !== undefined) throw this.#error;
  }
}
