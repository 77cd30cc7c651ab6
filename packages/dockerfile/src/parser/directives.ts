/**
 * Parser directives (`# syntax=…`, `# escape=…`, `# check=…`) and BuildKit's
 * frontend-selection lookups (`DetectSyntax`, `ParseDirective`,
 * `frontend/dockerfile/parser/directives.go`).
 */

import type { DirectiveName } from '../ast.js';

/** A `name=value` pair matched by the directive grammar (name lower-cased). */
export interface DirectiveMatch {
  readonly name: string;
  readonly value: string;
  /** Offset of the value in the line. */
  readonly valueStart: number;
  /** Offset just past the value. */
  readonly valueEnd: number;
}

/** Go regexp `\s`: `[\t\n\f\r ]` (no vertical tab). */
function isReSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isAsciiAlnum(c: number): boolean {
  return isAsciiLetter(c) || (c >= 0x30 && c <= 0x39);
}

/**
 * Matches `^<prefix>\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` against `line[from, to)`,
 * exactly as Go's regexp would (including its choice of submatch when the value is
 * only whitespace). The line must not contain `\n`.
 */
export function matchDirective(
  line: string,
  from: number,
  to: number,
  prefix: '#' | '//',
): DirectiveMatch | undefined {
  if (!line.startsWith(prefix, from)) return undefined;
  let i = from + prefix.length;
  while (i < to && isReSpace(line.charCodeAt(i))) i++;
  const keyStart = i;
  if (i >= to || !isAsciiLetter(line.charCodeAt(i))) return undefined;
  i++;
  while (i < to && isAsciiAlnum(line.charCodeAt(i))) i++;
  const keyEnd = i;
  while (i < to && isReSpace(line.charCodeAt(i))) i++;
  if (i >= to || line.charCodeAt(i) !== 0x3d) return undefined;
  i++;
  const restStart = i;
  if (restStart >= to) return undefined;
  while (i < to && isReSpace(line.charCodeAt(i))) i++;
  let valueStart: number;
  let valueEnd: number;
  if (i === to) {
    // Only whitespace after `=`: the lazy `.+?` takes the last character.
    valueStart = to - 1;
    valueEnd = to;
  } else {
    valueStart = i;
    valueEnd = to;
    while (valueEnd > valueStart + 1 && isReSpace(line.charCodeAt(valueEnd - 1))) valueEnd--;
  }
  return {
    name: line.slice(keyStart, keyEnd).toLowerCase(),
    value: line.slice(valueStart, valueEnd),
    valueStart,
    valueEnd,
  };
}

const VALID = new Set<string>(['syntax', 'escape', 'check']);

/** True for a directive name BuildKit recognises. */
export function isDirectiveName(name: string): name is DirectiveName {
  return VALID.has(name);
}

/** A directive found by {@link parseDirectives}. */
export interface FoundDirective {
  readonly name: DirectiveName;
  readonly value: string;
  /** 1-based line. */
  readonly line: number;
}

/** Thrown by {@link parseDirectives} for a repeated directive. */
export class DirectiveError extends Error {}

function splitScannerLines(text: string): string[] {
  // bufio.ScanLines: split at \n, drop one trailing \r, no empty last line.
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

function parseAllLines(
  lines: readonly string[],
  firstLine: number,
  prefix: '#' | '//',
): { directives: FoundDirective[]; error?: string } {
  const seen = new Set<string>();
  const directives: FoundDirective[] = [];
  let line = firstLine;
  for (const text of lines) {
    line++;
    const m = matchDirective(text, 0, text.length, prefix);
    if (m === undefined || !isDirectiveName(m.name)) break;
    if (seen.has(m.name)) {
      return { directives, error: `only one ${m.name} parser directive can be used` };
    }
    seen.add(m.name);
    directives.push({ name: m.name, value: m.value, line });
  }
  return { directives };
}

/**
 * BuildKit's `DirectiveParser.ParseAll` with the `#` grammar: the directives at the top
 * of `text`, stopping at the first line that is not one. Throws {@link DirectiveError}
 * when a directive is repeated.
 */
export function parseDirectives(text: string): FoundDirective[] {
  const { directives, error } = parseAllLines(splitScannerLines(text), 0, '#');
  if (error !== undefined) throw new DirectiveError(error);
  return directives;
}

/** The result of {@link detectSyntax} / {@link findDirective}. */
export interface DirectiveLookup {
  /** The value up to the first space (e.g. the frontend image reference). */
  readonly ref: string;
  /** The whole value. */
  readonly cmdline: string;
  /** 1-based line of the directive (0 for the JSON form without a shebang). */
  readonly line: number;
}

function lookup(key: DirectiveName, text: string, anyFormat: boolean): DirectiveLookup | undefined {
  let dt = text.startsWith('\ufeff') ? text.slice(1) : text;
  let line = 0;
  const nl = dt.indexOf('\n');
  const first = nl < 0 ? dt : dt.slice(0, nl);
  if (first.startsWith('#!')) {
    dt = nl < 0 ? '' : dt.slice(nl + 1);
    line = 1;
  }
  const lines = splitScannerLines(dt);
  const prefixes: ('#' | '//')[] = anyFormat ? ['#', '//'] : ['#'];
  for (const prefix of prefixes) {
    const found = parseAllLines(lines, line, prefix).directives.find((d) => d.name === key);
    if (found !== undefined) {
      const space = found.value.indexOf(' ');
      return {
        ref: space < 0 ? found.value : found.value.slice(0, space),
        cmdline: found.value,
        line: found.line,
      };
    }
  }
  if (!anyFormat) return undefined;
  try {
    const parsed: unknown = JSON.parse(dt);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      const v = (parsed as Record<string, unknown>)[key];
      if (typeof v === 'string') return { ref: v, cmdline: v, line };
    }
  } catch {
    // not JSON
  }
  return undefined;
}

/**
 * BuildKit's `DetectSyntax`: the `syntax` directive, also accepting `//syntax=` lines
 * and a whole-file JSON object `{"syntax": …}`, after skipping a leading `#!` line.
 */
export function detectSyntax(text: string): DirectiveLookup | undefined {
  return lookup('syntax', text, true);
}

/** BuildKit's `ParseDirective`: one named directive, `#` grammar only (a `#!` line is skipped). */
export function findDirective(name: DirectiveName, text: string): DirectiveLookup | undefined {
  return lookup(name, text, false);
}
