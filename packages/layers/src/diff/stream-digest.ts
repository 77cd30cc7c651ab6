/**
 * A sha256 of a stream that, once the stream is big, is computed beside the work instead of on
 * the main thread: by a worker thread (default), or by an `openssl dgst -sha256` child process.
 * sha256 is the largest CPU cost of applying or creating a layer. Small streams are hashed inline
 * at the end: starting a helper costs more than hashing a few MB.
 *
 * Why a worker by default: messages to a worker are processed on its own thread even while the
 * main thread runs a long chain of synchronous file writes, so hashing truly overlaps. Writes to
 * a child's stdin pipe (64 KiB) only progress when the main event loop turns, so during such a
 * chain the data queues up and openssl hashes it at the end, serially (measured here). openssl is
 * ~5x cheaper in CPU on this machine (Node's bundled OpenSSL does not use the SHA extensions),
 * which pays off when the caller's loop turns often.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { internal, type Digest } from '@lab/oci';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const hash = require('node:crypto').createHash('sha256');
parentPort.on('message', (m) => {
  if (m === null) { parentPort.postMessage(hash.digest('hex')); parentPort.close(); }
  else hash.update(m);
});
`;

/** Bytes hashed inline before a helper takes over. */
const DEFAULT_THRESHOLD = 8 << 20;

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

interface Helper {
  update(chunk: Uint8Array): void;
  digest(): Promise<string>;
  close(): Promise<void>;
}

function opensslHelper(binary: string): Helper {
  const child: ChildProcessWithoutNullStreams = spawn(binary, ['dgst', '-sha256', '-r'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let failure: Error | undefined;
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdin.on('error', (e) => (failure ??= e));
  const exited = new Promise<number>((resolve) => {
    child.on('error', (e) => {
      failure ??= e;
      resolve(-1);
    });
    child.on('close', (code) => {
      resolve(code ?? -1);
    });
  });
  return {
    update(chunk) {
      if (failure === undefined) child.stdin.write(chunk);
    },
    async digest() {
      child.stdin.end();
      const code = await exited;
      const hex = /^[0-9a-f]{64}/.exec(out)?.[0];
      if (failure !== undefined || code !== 0 || hex === undefined) {
        throw internal(
          `sha256 helper "${binary} dgst" failed (exit ${code}): ${failure?.message ?? err.trim()}`,
        );
      }
      return hex;
    },
    async close() {
      child.kill();
      await exited;
    },
  };
}

function workerHelper(): Helper {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  let failure: Error | undefined;
  worker.on('error', (e) => (failure ??= e));
  return {
    update(chunk) {
      // a copy the worker owns (transferring the original would detach the caller's buffer)
      const copy = new Uint8Array(chunk);
      worker.postMessage(copy, [copy.buffer]);
    },
    digest() {
      return new Promise<string>((resolve, reject) => {
        if (failure !== undefined) {
          reject(failure);
          return;
        }
        worker.once('message', (m: string) => {
          resolve(m);
        });
        worker.once('error', reject);
        worker.postMessage(null);
      });
    },
    async close() {
      await worker.terminate();
    },
  };
}

export interface StreamDigestOptions {
  /** Bytes hashed inline before a helper takes over (default 8 MiB). */
  threshold?: number;
  /** Which helper hashes big streams (default `worker`; `openssl` falls back to a worker when absent). */
  helper?: 'openssl' | 'worker';
}

export class StreamDigest {
  readonly #threshold: number;
  readonly #helperKind: 'openssl' | 'worker' | undefined;
  #held: Uint8Array[] = [];
  #heldBytes = 0;
  #helper: Helper | undefined;
  size = 0;

  constructor(options: StreamDigestOptions = {}) {
    this.#threshold = options.threshold ?? DEFAULT_THRESHOLD;
    this.#helperKind = options.helper;
  }

  /**
   * Adds bytes. As with any Node stream chunk, the caller must not modify `chunk` afterwards:
   * it is hashed later (held, or queued to the helper) without a copy.
   */
  update(chunk: Uint8Array): void {
    this.size += chunk.length;
    if (this.#helper !== undefined) {
      this.#helper.update(chunk);
      return;
    }
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    if (this.#heldBytes >= this.#threshold) {
      const openssl = this.#helperKind === 'openssl' ? findOnPath('openssl') : undefined;
      const helper = openssl !== undefined ? opensslHelper(openssl) : workerHelper();
      for (const held of this.#held) helper.update(held);
      this.#held = [];
      this.#helper = helper;
    }
  }

  async digest(): Promise<Digest> {
    const helper = this.#helper;
    if (helper === undefined) {
      const hash = createHash('sha256');
      for (const held of this.#held) hash.update(held);
      this.#held = [];
      return `sha256:${hash.digest('hex')}`;
    }
    this.#helper = undefined;
    return `sha256:${await helper.digest()}`;
  }

  /** Stops the helper without a result (after a failure). */
  async close(): Promise<void> {
    const helper = this.#helper;
    this.#helper = undefined;
    this.#held = [];
    if (helper !== undefined) await helper.close();
  }
}
