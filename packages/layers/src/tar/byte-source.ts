/**
 * Pulls exact byte counts out of a chunked async source without copying when a request
 * falls inside one chunk. Tracks the absolute offset for error messages.
 */

const EMPTY = Buffer.alloc(0);

export class ByteSource {
  readonly #it: AsyncIterator<Uint8Array>;
  #buf: Buffer = EMPTY;
  #pos = 0;
  #ended = false;
  /** Bytes consumed so far. */
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    if (Symbol.asyncIterator in source) {
      this.#it = source[Symbol.asyncIterator]();
    } else {
      const it = source[Symbol.iterator]();
      this.#it = {
        next: () => Promise.resolve(it.next()),
        return: (v?: unknown) =>
          Promise.resolve(it.return?.(v) ?? { done: true, value: undefined }),
      };
    }
  }

  /** Bytes available without waiting. */
  get buffered(): number {
    return this.#buf.length - this.#pos;
  }

  /** Ensures at least one unread byte is buffered; false at end of input. */
  async fill(): Promise<boolean> {
    while (this.#pos >= this.#buf.length) {
      if (this.#ended) return false;
      const next = await this.#it.next();
      if (next.done === true) {
        this.#ended = true;
        return false;
      }
      const v = next.value;
      this.#buf = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      this.#pos = 0;
    }
    return true;
  }

  /** Takes up to `max` bytes from the current chunk (call `fill` first). */
  take(max: number): Buffer {
    const n = Math.min(max, this.#buf.length - this.#pos);
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    this.offset += n;
    return out;
  }

  /** Reads exactly n bytes; returns fewer only at end of input. */
  async read(n: number): Promise<Buffer> {
    if (this.#buf.length - this.#pos >= n) return this.take(n);
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n && (await this.fill())) {
      const part = this.take(n - got);
      parts.push(part);
      got += part.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, got);
  }

  /** Skips n bytes; returns how many were actually skipped. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0 && (await this.fill())) left -= this.take(left).length;
    return n - left;
  }

  /** Consumes everything left (so that wrappers hashing the stream see all of it). */
  async drain(): Promise<void> {
    while (await this.fill()) this.take(Number.MAX_SAFE_INTEGER);
  }

  /** Stops pulling from the underlying source. */
  async close(): Promise<void> {
    if (!this.#ended) {
      this.#ended = true;
      await this.#it.return?.();
    }
  }
}
