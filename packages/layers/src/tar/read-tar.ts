/**
 * A streaming tar reader: ustar, PAX (local `x` and global `g`), GNU long names (`L`/`K`),
 * old GNU and v7 headers. Header checksums are verified; a truncated archive or a corrupt
 * header throws invalid-argument naming the entry and its byte offset.
 */
import type { Readable } from 'node:stream';
import { invalidArgument } from '@lab/oci';
import { ByteSource } from './byte-source.js';
import {
  BLOCK_SIZE,
  TYPEFLAG_GNU_LONGLINK,
  TYPEFLAG_GNU_LONGNAME,
  TYPEFLAG_PAX_GLOBAL,
  TYPEFLAG_PAX_LOCAL,
  decodeHeader,
  entryTypeOf,
  isZeroBlock,
  type RawHeader,
  type TarHeader,
  type TarTime,
} from './header.js';
import { parsePaxRecords, parsePaxTime } from './pax.js';

export interface TarEntry {
  header: TarHeader;
  /** Byte offset in the (uncompressed) archive of the entry's first header block. */
  offset: number;
  /**
   * The entry's body (size `header.size`). Read it before asking for the next entry, or leave
   * it: the reader skips whatever is unread. Iterating it after moving on throws.
   */
  body: AsyncIterable<Buffer>;
  /** The whole body as one Buffer (no copy when it sits in one input chunk). */
  readBody(): Promise<Buffer>;
}

export interface ReadTarOptions {
  signal?: AbortSignal;
  /**
   * Keep reading the input after the end-of-archive blocks until it ends (default true), so that
   * a digest computed over the stream covers every byte, as a DiffID must.
   */
  drainTrailer?: boolean;
}

/** Largest metadata body (PAX or GNU long name) accepted, as GNU tar and Go limit it. */
const MAX_META_SIZE = 1 << 20;

function padding(size: number): number {
  const rem = size % BLOCK_SIZE;
  return rem === 0 ? 0 : BLOCK_SIZE - rem;
}

function truncated(what: string, name: string, offset: number): Error {
  return invalidArgument(
    `tar archive is truncated: ${what} of entry "${name}" (header at byte ${offset}) ends early; the layer blob is incomplete, download or export it again`,
    { details: { entry: name, offset } },
  );
}

function corrupt(reason: string, name: string, offset: number): Error {
  return invalidArgument(
    `tar archive is corrupt at byte ${offset}${name === '' ? '' : ` (entry "${name}")`}: ${reason}; this is not a valid tar stream, or it is still compressed with an unknown method`,
    { details: { entry: name, offset } },
  );
}

function timeFrom(seconds: number): TarTime {
  return { sec: seconds, nsec: 0 };
}

function paxNumber(records: Map<string, Buffer>, key: string): number | undefined {
  const v = records.get(key);
  if (v === undefined) return undefined;
  const text = v.toString('latin1');
  if (!/^[0-9]+$/.test(text)) return Number.NaN;
  return Number(text);
}

function paxTime(records: Map<string, Buffer>, key: string): TarTime | undefined | null {
  const v = records.get(key);
  if (v === undefined) return undefined;
  return parsePaxTime(v.toString('latin1')) ?? null;
}

/** Reads a tar stream entry by entry. */
export async function* readTar(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Readable,
  options: ReadTarOptions = {},
): AsyncGenerator<TarEntry, void, undefined> {
  const src = new ByteSource(source);
  const globals = new Map<string, Buffer>();
  let lastName = '';
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      // Collect prefix headers (PAX, GNU long name/link) until a real entry.
      let local: Map<string, Buffer> | undefined;
      let longName: string | undefined;
      let longLink: string | undefined;
      let entryOffset = -1;
      let raw: RawHeader | undefined;
      for (;;) {
        const offset = src.offset;
        const block = await src.read(BLOCK_SIZE);
        if (block.length === 0) {
          if (entryOffset >= 0) throw truncated('the header', lastName, entryOffset);
          return; // EOF on an entry boundary without end blocks: accepted, as Go does
        }
        if (block.length < BLOCK_SIZE) throw truncated('a header block', lastName, offset);
        if (isZeroBlock(block)) {
          if (entryOffset >= 0)
            throw corrupt('zero block after an extended header', lastName, offset);
          // end of archive: a second zero block normally follows
          await src.read(BLOCK_SIZE);
          if (options.drainTrailer !== false) await src.drain();
          return;
        }
        if (entryOffset < 0) entryOffset = offset;
        const decoded = decodeHeader(block);
        if (!decoded.ok)
          throw corrupt(decoded.reason, lastName === '' ? '' : `after ${lastName}`, offset);
        const h = decoded.header;
        const flag = h.typeflag;
        if (
          flag === TYPEFLAG_PAX_LOCAL ||
          flag === TYPEFLAG_PAX_GLOBAL ||
          flag === TYPEFLAG_GNU_LONGNAME ||
          flag === TYPEFLAG_GNU_LONGLINK
        ) {
          if (h.size > MAX_META_SIZE) {
            throw corrupt(`extended header of ${h.size} bytes is too large`, h.name, offset);
          }
          const body = await src.read(h.size);
          if (body.length < h.size) throw truncated('the extended header', h.name, offset);
          if ((await src.skip(padding(h.size))) < padding(h.size)) {
            throw truncated('the extended header', h.name, offset);
          }
          if (flag === TYPEFLAG_GNU_LONGNAME || flag === TYPEFLAG_GNU_LONGLINK) {
            const nul = body.indexOf(0);
            const text = body.toString('utf8', 0, nul < 0 ? body.length : nul);
            if (flag === TYPEFLAG_GNU_LONGNAME) longName = text;
            else longLink = text;
            continue;
          }
          const parsed = parsePaxRecords(body);
          if (!parsed.ok) throw corrupt(`bad PAX header: ${parsed.reason}`, h.name, offset);
          if (flag === TYPEFLAG_PAX_GLOBAL) {
            for (const [k, v] of parsed.records) {
              if (v.length === 0) globals.delete(k);
              else globals.set(k, v);
            }
            entryOffset = -1; // a global header is not part of the next entry
          } else {
            local ??= new Map();
            for (const [k, v] of parsed.records) local.set(k, v);
          }
          continue;
        }
        raw = h;
        break;
      }

      const records = new Map(globals);
      if (local !== undefined) {
        for (const [k, v] of local) {
          if (v.length === 0) records.delete(k);
          else records.set(k, v);
        }
      }
      const header = buildHeader(raw, records, longName, longLink, entryOffset);
      lastName = header.name;

      // Only regular files have a body (links, devices, dirs and fifos are header-only, as in
      // Go's archive/tar); a stray size on them is ignored.
      const bodySize = header.type === 'file' ? header.size : 0;
      header.size = bodySize;
      const state = { remaining: bodySize, stale: false };
      const name = header.name;
      const body: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]: async function* () {
          if (state.stale) {
            throw invalidArgument(
              `the body of tar entry "${name}" was read after the reader moved to the next entry`,
            );
          }
          while (state.remaining > 0) {
            if (!(await src.fill())) throw truncated('the body', name, entryOffset);
            const chunk = src.take(state.remaining);
            state.remaining -= chunk.length;
            yield chunk;
          }
        },
      };
      const readBody = async (): Promise<Buffer> => {
        if (state.stale) {
          throw invalidArgument(
            `the body of tar entry "${name}" was read after the reader moved to the next entry`,
          );
        }
        if (state.remaining === 0) return Buffer.alloc(0);
        const want = state.remaining;
        const data = await src.read(want);
        state.remaining = 0;
        if (data.length < want) throw truncated('the body', name, entryOffset);
        return data;
      };
      yield { header, offset: entryOffset, body, readBody };
      state.stale = true;
      const skip = state.remaining + padding(bodySize);
      if ((await src.skip(skip)) < skip) {
        // padding of the very last entry may be cut by sloppy writers; the body may not
        if (state.remaining > 0 || (await src.fill()))
          throw truncated('the body', name, entryOffset);
        throw truncated('the padding', name, entryOffset);
      }
    }
  } finally {
    await src.close();
  }
}

function buildHeader(
  raw: RawHeader,
  records: Map<string, Buffer>,
  longName: string | undefined,
  longLink: string | undefined,
  offset: number,
): TarHeader {
  const pathRecord = records.get('path');
  const name = pathRecord !== undefined ? pathRecord.toString('utf8') : (longName ?? raw.name);
  const type = entryTypeOf(raw.typeflag);
  if (type === undefined) {
    const flag = String.fromCharCode(raw.typeflag);
    const what =
      flag === 'S'
        ? 'GNU sparse files are not supported in layers'
        : flag === 'V'
          ? 'volume headers are not supported'
          : `unsupported entry type "${flag}"`;
    throw corrupt(what, name, offset);
  }
  const linkRecord = records.get('linkpath');
  const header: TarHeader = {
    name,
    type,
    mode: raw.mode & 0o7777,
    uid: raw.uid,
    gid: raw.gid,
    uname: records.get('uname')?.toString('utf8') ?? raw.uname,
    gname: records.get('gname')?.toString('utf8') ?? raw.gname,
    size: raw.size,
    mtime: timeFrom(raw.mtime),
    linkname: linkRecord !== undefined ? linkRecord.toString('utf8') : (longLink ?? raw.linkname),
    devmajor: raw.devmajor,
    devminor: raw.devminor,
    xattrs: {},
    pax: {},
  };
  if (raw.atime !== undefined) header.atime = timeFrom(raw.atime);
  if (raw.ctime !== undefined) header.ctime = timeFrom(raw.ctime);
  if (records.size === 0) return header;

  for (const [key, field] of [
    ['uid', 'uid'],
    ['gid', 'gid'],
    ['size', 'size'],
    ['SCHILY.devmajor', 'devmajor'],
    ['SCHILY.devminor', 'devminor'],
  ] as const) {
    const v = paxNumber(records, key);
    if (v === undefined) continue;
    if (Number.isNaN(v) || !Number.isSafeInteger(v)) {
      throw corrupt(`PAX record ${key} is not a number`, name, offset);
    }
    header[field] = v;
  }
  for (const key of ['mtime', 'atime', 'ctime'] as const) {
    const t = paxTime(records, key);
    if (t === null) throw corrupt(`PAX record ${key} is not a time`, name, offset);
    if (t !== undefined) header[key] = t;
  }
  for (const [key, value] of records) {
    header.pax[key] = value;
    if (key.startsWith('SCHILY.xattr.')) {
      header.xattrs[key.slice('SCHILY.xattr.'.length)] = value;
    } else if (key.startsWith('LIBARCHIVE.xattr.')) {
      // libarchive: name is URL-encoded, value is base64
      const xname = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
      header.xattrs[xname] ??= Buffer.from(value.toString('latin1'), 'base64');
    } else if (key.startsWith('GNU.sparse.')) {
      throw corrupt('GNU sparse files are not supported in layers', name, offset);
    }
  }
  return header;
}

/** Reads a whole body into one Buffer. */
export async function collectBody(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(part);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
