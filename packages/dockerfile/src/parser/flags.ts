/** The builder flags of an instruction and where its arguments start. */
export interface ExtractedFlags {
  readonly flags: string[];
  /** Offset in the text where the arguments start (`to` when there are none). */
  readonly argsStart: number;
}

const NO_FLAGS: string[] = [];

/** Go's per-byte `unicode.IsSpace(rune(b))`. */
function isSpaceByte(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d) || b === 0x85 || b === 0xa0;
}

const encoder = new TextEncoder();

/**
 * BuildKit's `extractBuilderFlags`: reads leading `--name[=value]` words from
 * `s[from, to)`. Works on bytes as upstream does: quotes toggle quoting and are
 * removed, a backslash takes the next byte literally, unquoted whitespace ends a word,
 * a bare `--` ends flag parsing. Non-ASCII bytes land in the flag as Latin-1
 * characters (upstream's mojibake).
 */
export function extractFlags(s: string, from: number, to: number): ExtractedFlags {
  let i = from;
  for (let c = s.charCodeAt(i); i < to && (c === 0x20 || (c >= 0x09 && c <= 0x0d));) {
    i++;
    c = s.charCodeAt(i);
  }
  // Fast exit: most instructions have no flags.
  if (i + 1 >= to || s.charCodeAt(i) !== 0x2d || s.charCodeAt(i + 1) !== 0x2d) {
    return { flags: NO_FLAGS, argsStart: i };
  }
  let ascii = true;
  for (let k = from; k < to; k++) {
    if (s.charCodeAt(k) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii)
    return extractFromUnits(
      from,
      to,
      (k) => s.charCodeAt(k),
      (k) => k,
    );
  // Non-ASCII: run on the UTF-8 bytes and map the byte offset back to the string.
  const bytes = encoder.encode(s.slice(from, to));
  const unitOffsets = byteToUnitOffsets(s, from, to, bytes.length);
  return extractFromUnits(
    0,
    bytes.length,
    (k) => bytes[k] ?? 0,
    (k) => unitOffsets[k] ?? to,
  );
}

/** Maps each UTF-8 byte offset of s[from,to) to the UTF-16 offset of the character it belongs to (rounded up past partial characters). */
function byteToUnitOffsets(s: string, from: number, to: number, byteLength: number): Uint32Array {
  const out = new Uint32Array(byteLength + 1);
  let b = 0;
  for (let u = from; u < to; u++) {
    const c = s.charCodeAt(u);
    let n: number;
    let units = 1;
    if (c < 0x80) n = 1;
    else if (c < 0x800) n = 2;
    else if (c >= 0xd800 && c < 0xdc00 && u + 1 < to) {
      const d = s.charCodeAt(u + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n = 4;
        units = 2;
      } else n = 3;
    } else n = 3;
    out[b] = u;
    // A position inside a multi-byte character maps to the next character.
    for (let k = 1; k < n; k++) out[b + k] = u + units;
    b += n;
    u += units - 1;
  }
  out[byteLength] = to;
  return out;
}

function extractFromUnits(
  from: number,
  to: number,
  at: (k: number) => number,
  offset: (k: number) => number,
): ExtractedFlags {
  const flags: string[] = [];
  let phase = 0; // 0 spaces, 1 word, 2 quote
  let word = '';
  let quote = 0;
  let blankOK = false;
  for (let pos = from; pos <= to; pos++) {
    const ch = pos < to ? at(pos) : 0;
    if (phase === 0) {
      if (pos === to) break;
      if (isSpaceByte(ch)) continue;
      if (ch !== 0x2d || pos + 1 === to || at(pos + 1) !== 0x2d) {
        return { flags, argsStart: offset(pos) };
      }
      phase = 1;
    }
    if (pos === to) {
      if (word !== '--' && (blankOK || word.length > 0)) flags.push(word);
      break;
    }
    if (phase === 1) {
      if (isSpaceByte(ch)) {
        phase = 0;
        if (word === '--') return { flags, argsStart: offset(pos) };
        if (blankOK || word.length > 0) flags.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === 0x27 || ch === 0x22) {
        quote = ch;
        blankOK = true;
        phase = 2;
        continue;
      }
      if (ch === 0x5c) {
        if (pos + 1 === to) continue;
        pos++;
        word += String.fromCharCode(at(pos));
        continue;
      }
      word += String.fromCharCode(ch);
      continue;
    }
    if (ch === quote) {
      phase = 1;
      continue;
    }
    if (ch === 0x5c) {
      if (pos + 1 === to) {
        phase = 1;
        continue;
      }
      pos++;
      word += String.fromCharCode(at(pos));
      continue;
    }
    word += String.fromCharCode(ch);
  }
  return { flags, argsStart: offset(to) };
}
