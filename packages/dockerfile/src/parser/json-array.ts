/**
 * The exec-form detector: a strict JSON reader for `["a", "b"]` that behaves like Go's
 * `json.Unmarshal` into `[]interface{}` (what BuildKit's `parseJSON` uses): the whole
 * text must be one JSON array followed only by JSON whitespace, an unpaired UTF-16
 * surrogate escape decodes to U+FFFD, and nesting deeper than 10000 is invalid.
 */

/** The outcome of reading an argument text as a JSON array. */
export type JsonArrayResult =
  | {
      readonly kind: 'strings';
      /** The decoded string elements. */
      readonly values: string[];
      /** Offset of each element's opening quote in the text. */
      readonly starts: number[];
      /** Offset just after each element's closing quote. */
      readonly ends: number[];
    }
  /** Valid JSON array with an element that is not a string: a hard parse error. */
  | { readonly kind: 'not-strings' }
  /** Not a JSON array at all: the instruction falls back to shell form. */
  | { readonly kind: 'invalid' };

const MAX_DEPTH = 10000;
const INVALID: JsonArrayResult = { kind: 'invalid' };
const NOT_STRINGS: JsonArrayResult = { kind: 'not-strings' };

class JsonSyntaxError extends Error {}

function fail(): never {
  throw new JsonSyntaxError();
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

class Reader {
  pos: number;
  constructor(
    readonly s: string,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  skipSpace(): void {
    while (this.pos < this.end && isJsonSpace(this.s.charCodeAt(this.pos))) this.pos++;
  }

  peek(): number {
    return this.pos < this.end ? this.s.charCodeAt(this.pos) : -1;
  }

  u4(at: number): number {
    if (at + 4 > this.end) return -1;
    let v = 0;
    for (let i = at; i < at + 4; i++) {
      const h = hexValue(this.s.charCodeAt(i));
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    return v;
  }

  /** Reads a string literal starting at the opening quote; returns the decoded value. */
  string(): string {
    const s = this.s;
    this.pos++; // opening quote
    let chunkStart = this.pos;
    let out = '';
    for (;;) {
      if (this.pos >= this.end) fail();
      const c = s.charCodeAt(this.pos);
      if (c === 0x22) {
        out += s.slice(chunkStart, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) fail();
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += s.slice(chunkStart, this.pos);
      const e = this.pos + 1 < this.end ? s.charCodeAt(this.pos + 1) : -1;
      switch (e) {
        case 0x22:
          out += '"';
          break;
        case 0x5c:
          out += '\\';
          break;
        case 0x2f:
          out += '/';
          break;
        case 0x62:
          out += '\b';
          break;
        case 0x66:
          out += '\f';
          break;
        case 0x6e:
          out += '\n';
          break;
        case 0x72:
          out += '\r';
          break;
        case 0x74:
          out += '\t';
          break;
        case 0x75: {
          const r = this.u4(this.pos + 2);
          if (r < 0) fail();
          if (r >= 0xd800 && r < 0xe000) {
            // Go pairs a high surrogate with a following \u low surrogate; anything
            // else decodes to U+FFFD and the next escape is read on its own.
            if (
              r < 0xdc00 &&
              s.charCodeAt(this.pos + 6) === 0x5c &&
              s.charCodeAt(this.pos + 7) === 0x75
            ) {
              const r2 = this.u4(this.pos + 8);
              if (r2 >= 0xdc00 && r2 < 0xe000 && this.pos + 12 <= this.end) {
                out += String.fromCharCode(r, r2);
                this.pos += 12;
                chunkStart = this.pos;
                continue;
              }
            }
            out += '\ufffd';
          } else {
            out += String.fromCharCode(r);
          }
          this.pos += 6;
          chunkStart = this.pos;
          continue;
        }
        default:
          fail();
      }
      this.pos += 2;
      chunkStart = this.pos;
    }
  }

  digits(): number {
    const start = this.pos;
    while (this.pos < this.end) {
      const c = this.s.charCodeAt(this.pos);
      if (c < 0x30 || c > 0x39) break;
      this.pos++;
    }
    return this.pos - start;
  }

  number(): void {
    if (this.peek() === 0x2d) this.pos++;
    const c = this.peek();
    if (c === 0x30) this.pos++;
    else if (c >= 0x31 && c <= 0x39) this.digits();
    else fail();
    if (this.peek() === 0x2e) {
      this.pos++;
      if (this.digits() === 0) fail();
    }
    const e = this.peek();
    if (e === 0x65 || e === 0x45) {
      this.pos++;
      const sign = this.peek();
      if (sign === 0x2b || sign === 0x2d) this.pos++;
      if (this.digits() === 0) fail();
    }
  }

  literal(word: string): void {
    if (this.s.startsWith(word, this.pos) && this.pos + word.length <= this.end) {
      this.pos += word.length;
    } else {
      fail();
    }
  }

  /** Reads any JSON value; returns true when it was a string. */
  value(depth: number): boolean {
    const c = this.peek();
    switch (c) {
      case 0x22:
        this.string();
        return true;
      case 0x5b:
        this.array(depth + 1, undefined);
        return false;
      case 0x7b:
        this.object(depth + 1);
        return false;
      case 0x74:
        this.literal('true');
        return false;
      case 0x66:
        this.literal('false');
        return false;
      case 0x6e:
        this.literal('null');
        return false;
      default:
        this.number();
        return false;
    }
  }

  object(depth: number): void {
    if (depth > MAX_DEPTH) fail();
    this.pos++;
    this.skipSpace();
    if (this.peek() === 0x7d) {
      this.pos++;
      return;
    }
    for (;;) {
      if (this.peek() !== 0x22) fail();
      this.string();
      this.skipSpace();
      if (this.peek() !== 0x3a) fail();
      this.pos++;
      this.skipSpace();
      this.value(depth);
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c === 0x7d) return;
      if (c !== 0x2c) fail();
      this.skipSpace();
    }
  }

  /**
   * Reads an array. With `top` set, records string elements and whether every element
   * was a string.
   */
  array(
    depth: number,
    top: { values: string[]; starts: number[]; ends: number[]; allStrings: boolean } | undefined,
  ): void {
    if (depth > MAX_DEPTH) fail();
    this.pos++;
    this.skipSpace();
    if (this.peek() === 0x5d) {
      this.pos++;
      return;
    }
    for (;;) {
      if (top !== undefined && this.peek() === 0x22) {
        const start = this.pos;
        top.values.push(this.string());
        top.starts.push(start);
        top.ends.push(this.pos);
      } else if (!this.value(depth) && top !== undefined) {
        top.allStrings = false;
      }
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c === 0x5d) return;
      if (c !== 0x2c) fail();
      this.skipSpace();
    }
  }
}

/**
 * Reads `text[start, end)` as a JSON array of strings. The caller has already checked
 * that the text (after leading whitespace) starts with `[`.
 */
export function readJsonArray(text: string, start: number, end: number): JsonArrayResult {
  const reader = new Reader(text, start, end);
  const top = {
    values: [] as string[],
    starts: [] as number[],
    ends: [] as number[],
    allStrings: true,
  };
  try {
    reader.skipSpace();
    if (reader.peek() !== 0x5b) return INVALID;
    reader.array(1, top);
    reader.skipSpace();
    if (reader.pos < end) return INVALID;
  } catch (err) {
    if (err instanceof JsonSyntaxError) return INVALID;
    if (err instanceof RangeError) return INVALID; // stack exhausted: treat as not JSON
    throw err;
  }
  if (!top.allStrings) return NOT_STRINGS;
  return { kind: 'strings', values: top.values, starts: top.starts, ends: top.ends };
}
