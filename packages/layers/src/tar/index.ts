/**
 * The tar codec: `readTar` (streaming reader) and `TarWriter` (deterministic writer).
 *
 * ```ts
 * for await (const entry of readTar(stream)) {
 *   if (entry.header.type === 'file') await pipeline(entry.body, createWriteStream(dest));
 * }
 * const w = new TarWriter();
 * const done = pipeline(w.readable, createWriteStream('out.tar'));
 * await w.addEntry({ name: 'etc/', type: 'dir', mode: 0o755 });
 * await w.addEntry({ name: 'etc/hosts', type: 'file', mode: 0o644 }, Buffer.from('127.0.0.1 localhost\n'));
 * await w.finish();
 * await done;
 * ```
 */
export type { TarEntryType, TarHeader, TarHeaderInput, TarTime } from './header.js';
export { readTar, collectBody, type ReadTarOptions, type TarEntry } from './read-tar.js';
export { TarWriter, type TarBody, type TarWriterOptions } from './tar-writer.js';
