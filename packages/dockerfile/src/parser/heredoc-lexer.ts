/**
 * The subset of BuildKit's shell lexer (`frontend/dockerfile/shell/lex.go`) the parser
 * needs to find heredoc openers: word splitting with an empty environment where unset
 * variables are reproduced as written ("skip unset"), escape character `\`, optional
 * raw quotes and raw escapes. Variable expansion proper lives elsewhere.
 */

import { isGoSpace } from './whitespace.js';

/** A lexing failure (unterminated quote, bad `${…}` …), with BuildKit's message. */
export class ShellSyntaxError extends Error {}

const EOF = -1;
const ESCAPE = 0x5c;

interface Options {
  readonly rawQuotes: boolean;
  readonly rawEscapes: boolean;
}

class Words {
  word = '';
  words: string[] = [];
  inWord = false;

  addChar(ch: string): void {
    if (isGoSpace(ch.charCodeAt(0))) {
      if (this.inWord && this.word.length !== 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else {
      this.addRaw(ch);
    }
  }

  addRaw(str: string): void {
    this.word += str;
    this.inWord = true;
  }

  addString(str: string): void {
    for (const ch of str) this.addChar(ch);
  }

  finish(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}

const reLetter = /\p{L}/u;
const reDigit = /\p{Nd}/u;

function isDigit(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x30 && cp <= 0x39;
  return reDigit.test(String.fromCodePoint(cp));
}

function isLetter(cp: number): boolean {
  if (cp < 0x80) return (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
  return reLetter.test(String.fromCodePoint(cp));
}

function isSpecialParam(cp: number): boolean {
  // @ * # ? - $ !
  return (
    cp === 0x40 ||
    cp === 0x2a ||
    cp === 0x23 ||
    cp === 0x3f ||
    cp === 0x2d ||
    cp === 0x24 ||
    cp === 0x21
  );
}

class Lexer {
  private pos = 0;
  private rawEscapes: boolean;

  constructor(
    private readonly s: string,
    private readonly options: Options,
  ) {
    this.rawEscapes = options.rawEscapes;
  }

  private peek(): number {
    return this.pos < this.s.length ? (this.s.codePointAt(this.pos) ?? EOF) : EOF;
  }

  private next(): number {
    if (this.pos >= this.s.length) return EOF;
    const cp = this.s.codePointAt(this.pos) ?? EOF;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  run(): string[] {
    return this.processStopOn(EOF, this.rawEscapes).words;
  }

  private processStopOn(stop: number, rawEscapes: boolean): { result: string; words: string[] } {
    let result = '';
    const words = new Words();
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      while (this.peek() !== EOF) {
        let ch = this.peek();
        if (stop !== EOF && ch === stop) {
          this.next();
          return { result, words: words.finish() };
        }
        if (ch === 0x24) {
          const tmp = this.processDollar();
          result += tmp;
          words.addString(tmp);
          continue;
        }
        if (ch === 0x27 || ch === 0x22) {
          const tmp = ch === 0x27 ? this.processSingleQuote() : this.processDoubleQuote();
          result += tmp;
          words.addRaw(tmp);
          continue;
        }
        ch = this.next();
        if (ch === ESCAPE) {
          if (this.rawEscapes) {
            words.addRaw('\\');
            result += '\\';
          }
          ch = this.next();
          if (ch === EOF) break;
          const str = String.fromCodePoint(ch);
          words.addRaw(str);
          result += str;
          continue;
        }
        if (ch === 0x3c && this.peek() === 0x3c) {
          // `<<` and the blanks right after it stay one unit (heredoc opener).
          this.next();
          let unit = '<<';
          for (let p = this.peek(); p === 0x20 || p === 0x09 || p === 0x0d; p = this.peek()) {
            unit += String.fromCharCode(this.next());
          }
          words.addRaw(unit);
          result += unit;
          continue;
        }
        const str = String.fromCodePoint(ch);
        words.addChar(str);
        result += str;
      }
      if (stop !== EOF) {
        throw new ShellSyntaxError(
          `unexpected end of statement while looking for matching ${String.fromCodePoint(stop)}`,
        );
      }
      return { result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    let result = '';
    this.next();
    if (this.options.rawQuotes) result += "'";
    for (;;) {
      const ch = this.next();
      if (ch === EOF) {
        throw new ShellSyntaxError(
          'unexpected end of statement while looking for matching single-quote',
        );
      }
      if (ch === 0x27) {
        if (this.options.rawQuotes) result += "'";
        return result;
      }
      result += String.fromCodePoint(ch);
    }
  }

  private processDoubleQuote(): string {
    let result = '';
    this.next();
    if (this.options.rawQuotes) result += '"';
    for (;;) {
      const p = this.peek();
      if (p === EOF) {
        throw new ShellSyntaxError(
          'unexpected end of statement while looking for matching double-quote',
        );
      }
      if (p === 0x22) {
        this.next();
        if (this.options.rawQuotes) result += '"';
        return result;
      }
      if (p === 0x24) {
        result += this.processDollar();
        continue;
      }
      let ch = this.next();
      if (ch === ESCAPE) {
        if (this.rawEscapes) result += '\\';
        const q = this.peek();
        if (q === EOF) continue;
        if (q === 0x22 || q === 0x24 || q === ESCAPE) ch = this.next();
      }
      result += String.fromCodePoint(ch);
    }
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name.length === 0 && isDigit(ch)) {
        while (this.peek() !== EOF && isDigit(this.peek()))
          name += String.fromCodePoint(this.next());
        return name;
      }
      if (name.length === 0 && isSpecialParam(ch)) return String.fromCodePoint(this.next());
      if (!isLetter(ch) && !isDigit(ch) && ch !== 0x5f) break;
      name += String.fromCodePoint(this.next());
    }
    return name;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== 0x7b) {
      const name = this.processName();
      return '$' + name;
    }
    this.next();
    const p = this.peek();
    if (p === EOF) throw new ShellSyntaxError("syntax error: missing '}'");
    if (p === 0x7b || p === 0x7d || p === 0x3a)
      throw new ShellSyntaxError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    let chs = ch === EOF ? '\ufffd' : String.fromCodePoint(ch);
    if (ch === 0x7d) return '${' + name + '}';
    if (ch === 0x3a) {
      ch = this.next();
      chs += ch === EOF ? '\ufffd' : String.fromCodePoint(ch);
    } else if (!(ch === 0x2b || ch === 0x2d || ch === 0x3f || ch === 0x23 || ch === 0x25)) {
      if (ch === 0x2f) return this.processReplace(name);
      throw new ShellSyntaxError(`unsupported modifier (${chs}) in substitution`);
    }
    const raw = ch === 0x23 || ch === 0x25;
    let word: string;
    try {
      word = this.processStopOn(0x7d, raw).result;
    } catch (err) {
      if (this.peek() === EOF) throw new ShellSyntaxError("syntax error: missing '}'");
      throw err;
    }
    // The environment is empty and unset variables are kept as written.
    return '${' + name + chs + word + '}';
  }

  private processReplace(name: string): string {
    if (this.peek() === 0x2f) this.next();
    let pattern: string;
    try {
      pattern = this.processStopOn(0x2f, true).result;
    } catch (err) {
      if (this.peek() === EOF) throw new ShellSyntaxError("syntax error: missing '/' in ${}");
      throw err;
    }
    let replacement: string;
    try {
      replacement = this.processStopOn(0x7d, true).result;
    } catch (err) {
      if (this.peek() === EOF) throw new ShellSyntaxError("syntax error: missing '}'");
      throw err;
    }
    return '${' + name + '/' + pattern + '/' + replacement + '}';
  }
}

/**
 * Splits `text` into shell words with an empty environment, unset variables kept as
 * written. Throws {@link ShellSyntaxError} on unterminated quotes or bad `${…}`.
 */
export function lexWords(text: string, options: Options): string[] {
  return new Lexer(text, options).run();
}
