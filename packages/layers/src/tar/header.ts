/**
 * Tar header types and the 512-byte block codec (ustar, old GNU and v7 layouts).
 * PAX records and GNU long names are layered on top by `read-tar.ts` and `tar-writer.ts`.
 */

/** The kinds of entry a layer tar can hold (sockets are never archived). */
export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

/** A point in time with nanosecond precision (PAX times carry up to 9 fractional digits). */
export interface TarTime {
  /** Whole seconds since the Unix epoch (may be negative). */
  sec: number;
  /** Nanoseconds, 0 ≤ nsec < 1e9. */
  nsec: number;
}

export interface TarHeader {
  /** The entry name as stored (PAX `path` or GNU long name wins over the ustar field). */
  name: string;
  type: TarEntryType;
  /** Permission bits including setuid (04000), setgid (02000) and sticky (01000). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Body size in bytes (0 for everything but regular files). */
  size: number;
  mtime: TarTime;
  atime?: TarTime;
  ctime?: TarTime;
  /** Symlink target or hardlink target path ('' otherwise). */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from `SCHILY.xattr.<name>` PAX records, byte-exact. */
  xattrs: Record<string, Buffer>;
  /** Every PAX record that applied to this entry (global then local), values byte-exact. */
  pax: Record<string, Buffer>;
}

/** What a writer needs; everything but name and type has a default. */
export type TarHeaderInput = Pick<TarHeader, 'name' | 'type'> &
  Partial<Omit<TarHeader, 'name' | 'type'>>;

export const BLOCK_SIZE = 512;

export const TYPEFLAG: Record<TarEntryType, number> = {
  file: 0x30, // '0'
  hardlink: 0x31, // '1'
  symlink: 0x32, // '2'
  char: 0x33, // '3'
  block: 0x34, // '4'
  dir: 0x35, // '5'
  fifo: 0x36, // '6'
};

/** Typeflags handled by the codec itself rather than returned as entries. */
export const TYPEFLAG_PAX_LOCAL = 0x78; // 'x'
export const TYPEFLAG_PAX_GLOBAL = 0x67; // 'g'
export const TYPEFLAG_GNU_LONGNAME = 0x4c; // 'L'
export const TYPEFLAG_GNU_LONGLINK = 0x4b; // 'K'

export function entryTypeOf(flag: number): TarEntryType | undefined {
  switch (flag) {
    case 0:
    case 0x30:
    case 0x37: // '7' contiguous file
      return 'file';
    case 0x31:
      return 'hardlink';
    case 0x32:
      return 'symlink';
    case 0x33:
      return 'char';
    case 0x34:
      return 'block';
    case 0x35:
      return 'dir';
    case 0x36:
      return 'fifo';
    default:
      return undefined;
  }
}

/** Field offsets in a ustar header block. */
export const F = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
  // old GNU layout reuses the prefix area:
  gnuAtime: [345, 12],
  gnuCtime: [357, 12],
} as const satisfies Record<string, readonly [number, number]>;

/** The raw fields of one header block, before PAX/GNU overrides. */
export interface RawHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  atime?: number;
  ctime?: number;
  format: 'ustar' | 'gnu' | 'v7';
}

/** A C string field: bytes up to the first NUL, decoded as UTF-8. */
function cstring(block: Uint8Array, [off, len]: readonly [number, number]): string {
  let end = off;
  const stop = off + len;
  while (end < stop && block[end] !== 0) end++;
  return Buffer.from(block.buffer, block.byteOffset + off, end - off).toString('utf8');
}

/**
 * A numeric field: octal text (NUL/space padded), or GNU base-256 when the high bit of the
 * first byte is set. Returns NaN for garbage so the caller can name the entry.
 */
export function parseNumeric(block: Uint8Array, [off, len]: readonly [number, number]): number {
  const first = block[off]!;
  if (first & 0x80) {
    // base-256, two's complement; 0xff marks a negative number
    const negative = first === 0xff;
    let value = negative ? -1 : first & 0x7f;
    for (let i = off + 1; i < off + len; i++) value = value * 256 + block[i]!;
    return value;
  }
  let i = off;
  const end = off + len;
  while (i < end && block[i] === 0x20) i++;
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = block[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) return Number.NaN;
    value = value * 8 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? 0 : value;
}

/** The ustar checksum: the sum of all bytes (unsigned) with the checksum field read as spaces. */
export function checksum(block: Uint8Array): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += block[i]!;
  for (let i = 156; i < BLOCK_SIZE; i++) sum += block[i]!;
  return sum;
}

/** The same sum over signed bytes, which some old writers (Sun tar) stored. */
export function signedChecksum(block: Uint8Array): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    if (i >= 148 && i < 156) continue;
    const b = block[i]!;
    sum += b > 127 ? b - 256 : b;
  }
  return sum;
}

export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK_SIZE; i++) if (block[i] !== 0) return false;
  return true;
}

export type DecodeResult = { ok: true; header: RawHeader } | { ok: false; reason: string };

/** Decodes one header block, verifying its checksum. */
export function decodeHeader(block: Uint8Array): DecodeResult {
  const stored = parseNumeric(block, F.chksum);
  const sum = checksum(block);
  if (Number.isNaN(stored) || (stored !== sum && stored !== signedChecksum(block))) {
    return {
      ok: false,
      reason: `header checksum mismatch (stored ${Number.isNaN(stored) ? 'garbage' : stored}, computed ${sum})`,
    };
  }
  const magic = cstring(block, F.magic);
  const version = Buffer.from(block.buffer, block.byteOffset + 263, 2).toString('latin1');
  const format: RawHeader['format'] =
    magic === 'ustar' && version === '00'
      ? 'ustar'
      : magic === 'ustar ' && version === ' \0'
        ? 'gnu'
        : magic.startsWith('ustar')
          ? 'ustar'
          : 'v7';
  let name = cstring(block, F.name);
  if (format === 'ustar') {
    const prefix = cstring(block, F.prefix);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  const numbers = {
    mode: parseNumeric(block, F.mode),
    uid: parseNumeric(block, F.uid),
    gid: parseNumeric(block, F.gid),
    size: parseNumeric(block, F.size),
    mtime: parseNumeric(block, F.mtime),
    devmajor: format === 'v7' ? 0 : parseNumeric(block, F.devmajor),
    devminor: format === 'v7' ? 0 : parseNumeric(block, F.devminor),
  };
  for (const [field, value] of Object.entries(numbers)) {
    if (Number.isNaN(value)) return { ok: false, reason: `field ${field} is not a number` };
  }
  const header: RawHeader = {
    name,
    ...numbers,
    typeflag: block[156]!,
    linkname: cstring(block, F.linkname),
    uname: format === 'v7' ? '' : cstring(block, F.uname),
    gname: format === 'v7' ? '' : cstring(block, F.gname),
    format,
  };
  if (format === 'gnu') {
    const atime = parseNumeric(block, F.gnuAtime);
    const ctime = parseNumeric(block, F.gnuCtime);
    if (!Number.isNaN(atime) && atime !== 0) header.atime = atime;
    if (!Number.isNaN(ctime) && ctime !== 0) header.ctime = ctime;
  }
  return { ok: true, header };
}

/** Largest value an octal field of `len` bytes (with a NUL terminator) can hold. */
export function octalLimit(len: number): number {
  return 8 ** (len - 1) - 1;
}

function writeOctal(block: Buffer, [off, len]: readonly [number, number], value: number): void {
  const text = value.toString(8).padStart(len - 1, '0');
  block.write(text, off, len - 1, 'latin1');
  block[off + len - 1] = 0;
}

function writeString(block: Buffer, [off, len]: readonly [number, number], value: string): void {
  block.write(value, off, len, 'utf8');
}

/** Field values a writer has already made fit (the PAX layer takes what does not). */
export interface EncodableHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

/** Encodes one POSIX ustar header block with its checksum. */
export function encodeHeader(h: EncodableHeader): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  writeString(block, F.name, h.name);
  writeOctal(block, F.mode, h.mode);
  writeOctal(block, F.uid, h.uid);
  writeOctal(block, F.gid, h.gid);
  writeOctal(block, F.size, h.size);
  writeOctal(block, F.mtime, h.mtime);
  block[156] = h.typeflag;
  writeString(block, F.linkname, h.linkname);
  block.write('ustar\u000000', 257, 8, 'latin1');
  writeString(block, F.uname, h.uname);
  writeString(block, F.gname, h.gname);
  writeOctal(block, F.devmajor, h.devmajor);
  writeOctal(block, F.devminor, h.devminor);
  block.write(checksum(block).toString(8).padStart(6, '0'), 148, 6, 'latin1');
  block[154] = 0;
  block[155] = 0x20;
  return block;
}
