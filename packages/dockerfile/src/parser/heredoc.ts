import { ShellError } from '../shell/error.js';
import { processWords } from '../shell/lex.js';

const NO_ENV: readonly string[] = [];

// BuildKit's heredoc lexing: escape `\`, empty environment, unset variables kept as
// written. Option objects are constants so the hot path allocates nothing for them.
const LINE = { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true } as const;
const NAME = { rawQuotes: false, rawEscapes: false, skipUnsetEnv: true } as const;
const NAME_RAW_QUOTES = { rawQuotes: true, rawEscapes: false, skipUnsetEnv: true } as const;

/** A heredoc opener found on an instruction line (body not read yet). */
export interface HeredocOpener {
  readonly name: string;
  readonly fileDescriptor: number;
  readonly expand: boolean;
  readonly chomp: boolean;
}

/** An opener word whose delimiter cannot be lexed (e.g. an unterminated quote). */
export class HeredocWordError extends Error {}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x27 || c === 0x22) n++;
  }
  return n;
}

/**
 * Classifies one shell word as a heredoc opener: `[fd]<<[-]NAME` where NAME is one
 * shell word without `<`. Returns undefined when the word is not an opener, and throws
 * {@link HeredocWordError} when NAME cannot be lexed. Mirrors BuildKit's `ParseHeredoc`.
 */
export function parseHeredocWord(word: string): HeredocOpener | undefined {
  let i = 0;
  while (i < word.length && word.charCodeAt(i) >= 0x30 && word.charCodeAt(i) <= 0x39) i++;
  if (word.charCodeAt(i) !== 0x3c || word.charCodeAt(i + 1) !== 0x3c) return undefined;
  const digits = word.slice(0, i);
  i += 2;
  const chomp = word.charCodeAt(i) === 0x2d;
  if (chomp) i++;
  const rest = word.slice(i);
  if (rest.includes('<') || rest.length === 0) return undefined;
  let words: string[];
  let raw: string[];
  try {
    words = processWords(rest, NO_ENV, NAME);
    if (words.length !== 1) return undefined;
    raw = processWords(rest, NO_ENV, NAME_RAW_QUOTES);
  } catch (err) {
    if (err instanceof ShellError) {
      // The shell lexer's message already reads `failed to process "<rest>": …`.
      throw new HeredocWordError(err.message);
    }
    throw err;
  }
  if (raw.length !== 1) {
    throw new HeredocWordError(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  }
  const name = words[0] ?? '';
  const fd = digits === '' ? 0 : Math.min(Number(digits), 2 ** 64 - 1);
  return {
    name,
    fileDescriptor: fd,
    expand: countQuotes(name) === countQuotes(raw[0] ?? ''),
    chomp,
  };
}

/**
 * The heredoc openers of a whole instruction line (keyword and flags included), in
 * order. A line the shell lexer cannot split has none.
 */
export function heredocsFromLine(line: string): HeredocOpener[] {
  let words: string[];
  try {
    words = processWords(line, NO_ENV, LINE);
  } catch (err) {
    if (err instanceof ShellError) return [];
    throw err;
  }
  const docs: HeredocOpener[] = [];
  for (const word of words) {
    if (!word.includes('<<')) continue;
    const doc = parseHeredocWord(word);
    if (doc !== undefined) docs.push(doc);
  }
  return docs;
}

/** Removes leading tabs from every line of a `<<-` heredoc body (BuildKit's `ChompHeredocContent`). */
export function chompHeredocContent(content: string): string {
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] ?? '';
    let k = 0;
    while (k < l.length && l.charCodeAt(k) === 0x09) k++;
    if (k > 0) lines[i] = l.slice(k);
  }
  return lines.join('\n');
}
