/**
 * Turning one logical instruction (continuation lines already joined) into an
 * {@link InstructionNode}: keyword, builder flags, and BuildKit's per-keyword argument
 * rules (`frontend/dockerfile/parser/line_parsers.go`, `split_command.go`).
 */

import type { ArgumentNode, InstructionNode, Position, SourceRange } from '../ast.js';
import { goQuote, goToLower } from '../dump.js';
import { extractFlags } from './flags.js';
import { readJsonArray } from './json-array.js';
import { isBlank, skipGoSpace, trimGoSpaceEnd } from './whitespace.js';
import { splitWords } from './words.js';

/** A failure inside one instruction; the caller adds the location. */
export class InstructionError extends Error {}

/**
 * Maps offsets of the joined instruction text back to source positions. Each physical
 * line contributes a contiguous prefix of itself, so a segment is (text offset, line,
 * column of that offset).
 */
export class SourceMap {
  readonly offsets: number[] = [];
  readonly lines: number[] = [];
  readonly columns: number[] = [];

  add(offset: number, line: number, column: number): void {
    this.offsets.push(offset);
    this.lines.push(line);
    this.columns.push(column);
  }

  /** The last segment starting at or before `offset` (binary search). */
  private segment(offset: number): number {
    const offsets = this.offsets;
    let lo = 0;
    let hi = offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((offsets[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  position(offset: number): Position {
    const i = this.segment(offset);
    return {
      line: this.lines[i] ?? 1,
      column: (this.columns[i] ?? 1) + offset - (this.offsets[i] ?? 0),
    };
  }

  range(from: number, to: number): SourceRange {
    const start = this.position(from);
    if (to <= from) return { start, end: start };
    const last = this.position(to - 1);
    return { start, end: { line: last.line, column: last.column + 1 } };
  }
}

interface Args {
  readonly args: ArgumentNode[];
  readonly json: boolean;
}

const NONE: Args = { args: [], json: false };
const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

type LineParser = (b: NodeBuilder, from: number, to: number) => Args;

/** Builds nodes over one joined instruction text. */
export class NodeBuilder {
  constructor(
    readonly text: string,
    readonly map: SourceMap,
    readonly escape: number,
  ) {}

  node(from: number, to: number): ArgumentNode {
    return { value: this.text.slice(from, to), range: this.map.range(from, to) };
  }

  synthetic(value: string, at: number, to = at): ArgumentNode {
    return { value, range: this.map.range(at, to) };
  }

  /**
   * Parses `text[from, to)` as one instruction. ONBUILD triggers are parsed in a loop
   * (not recursively) so that pathological `ONBUILD ONBUILD …` chains cannot exhaust
   * the stack.
   */
  instruction(
    from: number,
    to: number,
    prevComments: readonly string[],
    range: SourceRange,
  ): InstructionNode {
    interface Head {
      rawKeyword: string;
      keyword: string;
      flags: readonly string[];
      original: string;
      args: Args;
      range: SourceRange;
      prevComments: readonly string[];
    }
    const heads: Head[] = [];
    let comments = prevComments;
    let nodeRange = range;
    for (;;) {
      const t = this.text;
      const start = skipGoSpace(t, from, to);
      const end = trimGoSpaceEnd(t, start, to);
      let k = start;
      while (k < end && !isBlank(t.charCodeAt(k))) k++;
      const rawKeyword = t.slice(start, k);
      const keyword = goToLower(rawKeyword);
      let flags: readonly string[] = [];
      let argsFrom = end;
      if (k < end) {
        let r = k;
        while (r < end && isBlank(t.charCodeAt(r))) r++;
        const extracted = extractFlags(t, r, end);
        flags = extracted.flags;
        argsFrom = skipGoSpace(t, extracted.argsStart, end);
      }
      const argsTo = argsFrom < end ? trimGoSpaceEnd(t, argsFrom, end) : argsFrom;
      const original = from === 0 && to === t.length ? t : t.slice(from, to);
      if (keyword === 'onbuild' && argsFrom < argsTo) {
        heads.push({
          rawKeyword,
          keyword,
          flags,
          original,
          args: NONE,
          range: nodeRange,
          prevComments: comments,
        });
        from = argsFrom;
        to = argsTo;
        comments = [];
        nodeRange = {
          start: this.map.position(argsFrom),
          end: this.map.range(argsFrom, argsTo).end,
        };
        continue;
      }
      const parser = DISPATCH.get(keyword) ?? parseIgnore;
      heads.push({
        rawKeyword,
        keyword,
        flags,
        original,
        args: parser(this, argsFrom, argsTo),
        range: nodeRange,
        prevComments: comments,
      });
      break;
    }
    let node: InstructionNode | undefined;
    for (let i = heads.length - 1; i >= 0; i--) {
      const h = heads[i];
      if (h === undefined) continue;
      const built: InstructionNode = {
        keyword: h.keyword,
        rawKeyword: h.rawKeyword,
        flags: h.flags,
        args: h.args.args,
        json: h.args.json,
        heredocs: [],
        original: h.original,
        prevComments: h.prevComments,
        range: h.range,
      };
      node = node === undefined ? built : { ...built, onbuild: node };
    }
    if (node === undefined) throw new Error('unreachable: no instruction head');
    return node;
  }
}

function parseIgnore(b: NodeBuilder, from: number, to: number): Args {
  return { args: [b.synthetic('', from, to)], json: false };
}

/** `parseJSON`: undefined when the text is not a JSON array (shell form). */
function parseJson(b: NodeBuilder, from: number, to: number): Args | undefined {
  const t = b.text;
  const start = skipGoSpace(t, from, to);
  if (start >= to || t.charCodeAt(start) !== 0x5b) return undefined;
  const r = readJsonArray(t, start, to);
  if (r.kind === 'invalid') return undefined;
  if (r.kind === 'not-strings') throw new InstructionError(NOT_STRING_ARRAY);
  const args: ArgumentNode[] = [];
  for (let i = 0; i < r.values.length; i++) {
    args.push({
      value: r.values[i] ?? '',
      range: b.map.range(r.starts[i] ?? from, r.ends[i] ?? to),
    });
  }
  return { args, json: true };
}

function parseMaybeJson(b: NodeBuilder, from: number, to: number): Args {
  if (from >= to) return NONE;
  return parseJson(b, from, to) ?? { args: [b.node(from, to)], json: false };
}

function parseStringsWhitespaceDelimited(b: NodeBuilder, from: number, to: number): Args {
  if (from >= to) return NONE;
  const t = b.text;
  const args: ArgumentNode[] = [];
  let wordStart = from;
  let i = from;
  while (i < to) {
    if (isBlank(t.charCodeAt(i))) {
      args.push(b.node(wordStart, i));
      while (i < to && isBlank(t.charCodeAt(i))) i++;
      wordStart = i;
    } else {
      i++;
    }
  }
  args.push(b.node(wordStart, to));
  return { args, json: false };
}

function parseMaybeJsonToList(b: NodeBuilder, from: number, to: number): Args {
  return parseJson(b, from, to) ?? parseStringsWhitespaceDelimited(b, from, to);
}

function parseString(b: NodeBuilder, from: number, to: number): Args {
  if (from >= to) return NONE;
  return { args: [b.node(from, to)], json: false };
}

function parseNameOrNameVal(b: NodeBuilder, from: number, to: number): Args {
  const words = splitWords(b.text, from, to, b.escape);
  return {
    args: words.map((w) => ({ value: w.text, range: b.map.range(w.start, w.end) })),
    json: false,
  };
}

function parseNameVal(keyword: 'ENV' | 'LABEL'): LineParser {
  return (b, from, to) => {
    const t = b.text;
    const words = splitWords(t, from, to, b.escape);
    const first = words[0];
    if (first === undefined) return NONE;
    if (!first.text.includes('=')) {
      // Legacy `KEY name value`: split the raw text at its first blank run.
      let i = from;
      while (i < to && !isBlank(t.charCodeAt(i))) i++;
      if (i >= to) throw new InstructionError(`${keyword} must have two arguments`);
      let v = i;
      while (v < to && isBlank(t.charCodeAt(v))) v++;
      return { args: [b.node(from, i), b.node(v, to), b.synthetic('', to)], json: false };
    }
    const args: ArgumentNode[] = [];
    for (const w of words) {
      const eq = w.text.indexOf('=');
      if (eq < 0) {
        throw new InstructionError(
          `Syntax error - can't find = in ${goQuote(w.text)}. Must be of the form: name=value`,
        );
      }
      const at = w.start + eq;
      args.push(
        { value: w.text.slice(0, eq), range: b.map.range(w.start, at) },
        { value: w.text.slice(eq + 1), range: b.map.range(at + 1, w.end) },
        b.synthetic('=', at, at + 1),
      );
    }
    return { args, json: false };
  };
}

function isHealthSpace(c: number): boolean {
  // Upstream tests single bytes; only ASCII bytes can be whitespace here in practice.
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function parseHealthConfig(b: NodeBuilder, from: number, to: number): Args {
  const t = b.text;
  let sep = from;
  while (sep < to && !isHealthSpace(t.charCodeAt(sep))) sep++;
  let next = sep;
  while (next < to && isHealthSpace(t.charCodeAt(next))) next++;
  if (sep === from) return NONE;
  const cmd = parseMaybeJson(b, next, to);
  return { args: [b.node(from, sep), ...cmd.args], json: cmd.json };
}

const DISPATCH = new Map<string, LineParser>([
  ['add', parseMaybeJsonToList],
  ['arg', parseNameOrNameVal],
  ['cmd', parseMaybeJson],
  ['copy', parseMaybeJsonToList],
  ['entrypoint', parseMaybeJson],
  ['env', parseNameVal('ENV')],
  ['expose', parseStringsWhitespaceDelimited],
  ['from', parseStringsWhitespaceDelimited],
  ['healthcheck', parseHealthConfig],
  ['label', parseNameVal('LABEL')],
  ['maintainer', parseString],
  ['run', parseMaybeJson],
  ['shell', parseMaybeJson],
  ['stopsignal', parseString],
  ['user', parseString],
  ['volume', parseMaybeJsonToList],
  ['workdir', parseString],
]);
