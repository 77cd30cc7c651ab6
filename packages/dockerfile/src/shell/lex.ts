/**
 * BuildKit's shell lexer (`frontend/dockerfile/shell/lex.go`): variable expansion with
 * `$v`, `${v}`, `${v:-w}`, `${v-w}`, `${v:+w}`, `${v+w}`, `${v:?w}`, `${v?w}`, `${v#p}`,
 * `${v##p}`, `${v%p}`, `${v%%p}`, `${v/p/r}`, `${v//p/r}`, quote removal, escapes and word
 * splitting. Pure: the environment is passed in, nothing is read from the process.
 */
import { ShellError } from './error.js';
import { goQuote, isGoDigit, isGoLetter, isGoSpace } from './go-text.js';
import { replacePattern, trimPrefix, trimSuffix } from './pattern.js';
import { envFromList } from './env.js';
import type { EscapeToken } from '../ast.js';

/** How the lexer treats quotes, escapes and unset variables (BuildKit `shell.Lex` fields). */
export interface LexerOptions {
  /** The escape character: `\` (default) or `` ` `` (from the `# escape=` directive). */
  readonly escapeToken?: EscapeToken;
  /** Keep quote characters in the result (used for heredoc detection). */
  readonly rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  readonly rawEscapes?: boolean;
  /** Treat `'` and `"` as ordinary characters (COPY/ADD heredoc bodies). */
  readonly skipProcessQuotes?: boolean;
  /** Reproduce references to unset variables literally instead of expanding them to empty. */
  readonly skipUnsetEnv?: boolean;
}

/**
 * The variables an expansion can see: a name→value map or record, or a `KEY=VALUE` list
 * (an entry without `=` defines KEY as empty; the last duplicate wins). Names are
 * case-sensitive, as on Linux.
 */
export type ShellEnvironment =
  ReadonlyMap<string, string> | Readonly<Record<string, string>> | readonly string[];

/** The outcome of one expansion. */
export interface ExpansionResult {
  /** The expanded word (BuildKit `ProcessWord`). */
  readonly result: string;
  /** The expanded text split into words (BuildKit `ProcessWords`). */
  readonly words: readonly string[];
  /** Names that were looked up and found. */
  readonly matched: ReadonlySet<string>;
  /** Names that were looked up and not found. */
  readonly unmatched: ReadonlySet<string>;
}

/** A lexer bound to one set of options. */
export interface ShellLexer {
  readonly escapeToken: EscapeToken;
  processWord(word: string, env: ShellEnvironment): string;
  processWords(word: string, env: ShellEnvironment): string[];
  processWordWithMatches(word: string, env: ShellEnvironment): ExpansionResult;
}

function toMap(env: ShellEnvironment): ReadonlyMap<string, string> {
  if (env instanceof Map) return env as ReadonlyMap<string, string>;
  if (Array.isArray(env)) return envFromList(env as readonly string[]);
  return new Map(Object.entries(env as Readonly<Record<string, string>>));
}

class Words {
  private word = '';
  private inWord = false;
  private readonly words: string[] = [];

  addChar(ch: string): void {
    const space = isGoSpace(ch);
    if (space && this.inWord) {
      if (this.word.length !== 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else if (!space) {
      this.addRawChar(ch);
    }
  }

  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRawString(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  get(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}

const EOF = '';
const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

class ShellWord {
  private pos = 0;
  private readonly chars: string[];
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    word: string,
    private readonly env: ReadonlyMap<string, string>,
    private readonly opts: Required<LexerOptions>,
  ) {
    this.chars = Array.from(word);
    this.rawEscapes = opts.rawEscapes;
  }

  private peek(): string {
    return this.chars[this.pos] ?? EOF;
  }

  private next(): string {
    const ch = this.chars[this.pos] ?? EOF;
    if (ch !== EOF) this.pos++;
    return ch;
  }

  private getEnv(name: string): string | undefined {
    const value = this.env.get(name);
    if (value === undefined) this.unmatched.add(name);
    else this.matched.add(name);
    return value;
  }

  /** Expands up to `stop` (consumed) or the end of input when `stop` is EOF. */
  processStopOn(stop: string, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.scan(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private scan(stop: string): { result: string; words: string[] } {
    const esc = this.opts.escapeToken;
    const quotes = !this.opts.skipProcessQuotes;
    let result = '';
    const words = new Words();
    while (this.peek() !== EOF) {
      let ch = this.peek();
      if (stop !== EOF && ch === stop) {
        this.next();
        return { result, words: words.get() };
      }
      if (ch === '$') {
        const value = this.processDollar();
        result += value;
        words.addString(value);
      } else if (quotes && ch === "'") {
        const value = this.processSingleQuote();
        result += value;
        words.addRawString(value);
      } else if (quotes && ch === '"') {
        const value = this.processDoubleQuote();
        result += value;
        words.addRawString(value);
      } else if (ch === '<' && this.chars[this.pos + 1] === '<') {
        // A heredoc operator stays glued to the blanks after it: `<<  EOF` is one word.
        let op = this.next() + this.next();
        while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r') {
          op += this.next();
        }
        result += op;
        words.addRawString(op);
      } else {
        ch = this.next();
        if (ch === esc) {
          if (this.rawEscapes) {
            words.addRawChar(ch);
            result += ch;
          }
          ch = this.next();
          if (ch === EOF) break;
          words.addRawChar(ch);
        } else {
          words.addChar(ch);
        }
        result += ch;
      }
    }
    if (stop !== EOF) {
      throw new ShellError(`unexpected end of statement while looking for matching ${stop}`);
    }
    return { result, words: words.get() };
  }

  private processSingleQuote(): string {
    let result = '';
    let ch = this.next();
    if (this.opts.rawQuotes) result += ch;
    for (;;) {
      ch = this.next();
      if (ch === EOF) {
        throw new ShellError('unexpected end of statement while looking for matching single-quote');
      }
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    const esc = this.opts.escapeToken;
    let result = '';
    const open = this.next();
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const peek = this.peek();
      if (peek === EOF) {
        throw new ShellError('unexpected end of statement while looking for matching double-quote');
      }
      if (peek === '"') {
        const close = this.next();
        if (this.opts.rawQuotes) result += close;
        return result;
      }
      if (peek === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next();
      if (ch === esc) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === EOF) continue;
        if (after === '"' || after === '$' || after === esc) ch = this.next();
      }
      result += ch;
    }
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name.length === 0 && isGoDigit(ch)) {
        while (this.peek() !== EOF && isGoDigit(this.peek())) name += this.next();
        return name;
      }
      if (name.length === 0 && SPECIAL_PARAMS.has(ch)) return this.next();
      if (!isGoLetter(ch) && !isGoDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.getEnv(name);
      if (value === undefined && this.opts.skipUnsetEnv) return `$${name}`;
      return value ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new ShellError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') {
      throw new ShellError('syntax error: bad substitution');
    }
    const name = this.processName();
    let ch = this.next();
    // Go prints the scanner's EOF (-1) as U+FFFD: `${x` fails as an unsupported modifier.
    let modifier = ch === EOF ? '\uFFFD' : ch;
    let nullIsUnset = false;
    switch (ch) {
      case '}': {
        const value = this.getEnv(name);
        if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
        return value ?? '';
      }
      case ':':
      case '+':
      case '-':
      case '?':
      case '#':
      case '%': {
        if (ch === ':') {
          nullIsUnset = true;
          ch = this.next();
          modifier += ch;
        }
        if (nullIsUnset && (ch === '#' || ch === '%')) {
          throw new ShellError(`unsupported modifier (${modifier}) in substitution`);
        }
        const rawEscapes = ch === '#' || ch === '%';
        let word: string;
        try {
          word = this.processStopOn('}', rawEscapes).result;
        } catch (err) {
          if (this.peek() === EOF) throw new ShellError("syntax error: missing '}'");
          throw err;
        }
        const value = this.getEnv(name);
        if (this.opts.skipUnsetEnv && value === undefined) return `\${${name}${modifier}${word}}`;
        const unset = value === undefined || (nullIsUnset && value === '');
        switch (ch) {
          case '-':
            return unset ? word : value;
          case '+':
            return unset ? '' : word;
          case '?':
            if (value === undefined) {
              throw new ShellError(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
            }
            if (nullIsUnset && value === '') {
              throw new ShellError(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
            }
            return value;
          case '%':
          case '#': {
            let greedy = false;
            if (word.startsWith(ch)) {
              greedy = true;
              word = word.slice(1);
            }
            return ch === '%'
              ? trimSuffix(word, value ?? '', greedy)
              : trimPrefix(word, value ?? '', greedy);
          }
          default:
            throw new ShellError(`unsupported modifier (${modifier}) in substitution`);
        }
      }
      case '/': {
        const all = this.peek() === '/';
        if (all) this.next();
        let pattern: string;
        try {
          pattern = this.processStopOn('/', true).result;
        } catch (err) {
          if (this.peek() === EOF) throw new ShellError("syntax error: missing '/' in ${}");
          throw err;
        }
        let replacement: string;
        try {
          replacement = this.processStopOn('}', true).result;
        } catch (err) {
          if (this.peek() === EOF) throw new ShellError("syntax error: missing '}'");
          throw err;
        }
        const value = this.getEnv(name);
        if (this.opts.skipUnsetEnv && value === undefined) {
          return `\${${name}/${pattern}/${replacement}}`;
        }
        return replacePattern(pattern, replacement, value ?? '', all);
      }
      default:
        throw new ShellError(`unsupported modifier (${modifier}) in substitution`);
    }
  }
}

function resolveOptions(opts: LexerOptions): Required<LexerOptions> {
  return {
    escapeToken: opts.escapeToken ?? '\\',
    rawQuotes: opts.rawQuotes ?? false,
    rawEscapes: opts.rawEscapes ?? false,
    skipProcessQuotes: opts.skipProcessQuotes ?? false,
    skipUnsetEnv: opts.skipUnsetEnv ?? false,
  };
}

/**
 * Expands `word` and also reports which variables were found and which were not (BuildKit
 * `ProcessWordWithMatches`). Throws {@link ShellError} with BuildKit's message, wrapped as
 * `failed to process "<word>": <reason>`.
 */
export function processWordWithMatches(
  word: string,
  env: ShellEnvironment,
  opts: LexerOptions = {},
): ExpansionResult {
  const resolved = resolveOptions(opts);
  const sw = new ShellWord(word, toMap(env), resolved);
  try {
    const { result, words } = sw.processStopOn(EOF, resolved.rawEscapes);
    return { result, words, matched: sw.matched, unmatched: sw.unmatched };
  } catch (err) {
    if (err instanceof ShellError) {
      throw new ShellError(`failed to process ${goQuote(word)}: ${err.message}`, {
        word,
        reason: err.message,
      });
    }
    throw err;
  }
}

/** Expands variables in one word (BuildKit `ProcessWord`). */
export function processWord(word: string, env: ShellEnvironment, opts: LexerOptions = {}): string {
  return processWordWithMatches(word, env, opts).result;
}

/** Expands variables, then splits the result into words (BuildKit `ProcessWords`). */
export function processWords(
  word: string,
  env: ShellEnvironment,
  opts: LexerOptions = {},
): string[] {
  return [...processWordWithMatches(word, env, opts).words];
}

/** A lexer with fixed options, e.g. `createLexer({ escapeToken: '`' })`. */
export function createLexer(opts: LexerOptions = {}): ShellLexer {
  return {
    escapeToken: opts.escapeToken ?? '\\',
    processWord: (word, env) => processWord(word, env, opts),
    processWords: (word, env) => processWords(word, env, opts),
    processWordWithMatches: (word, env) => processWordWithMatches(word, env, opts),
  };
}
