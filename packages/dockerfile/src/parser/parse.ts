/**
 * BuildKit's Dockerfile parser (`frontend/dockerfile/parser/parser.go`): bytes to
 * instructions, with parser directives, line continuation, comments, heredocs and
 * empty-continuation warnings. Pure: no I/O, no dependencies.
 */

import type {
  Directive,
  Directives,
  EscapeToken,
  Heredoc,
  InstructionNode,
  ParseResult,
  ParseWarning,
  SourceRange,
} from '../ast.js';
import { matchDirective, isDirectiveName } from './directives.js';
import { DockerfileParseError } from './errors.js';
import { HeredocWordError, heredocsFromLine } from './heredoc.js';
import { InstructionError, NodeBuilder, SourceMap } from './line-parsers.js';
import { goTrimSpace, skipGoSpace } from './whitespace.js';

/** BuildKit's limit on one physical line, in bytes (bufio.MaxScanTokenSize - 1). */
export const MAX_LINE_BYTES = 65535;

const HEREDOC_KEYWORDS = new Set(['run', 'copy', 'add']);

function utf8LengthExceeds(s: string, from: number, to: number, limit: number): boolean {
  if ((to - from) * 3 <= limit) return false;
  if (to - from > limit) return true;
  let bytes = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    // A surrogate pair is 4 bytes over 2 units: 2 per unit.
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xe000 ? 2 : 3;
    if (bytes > limit) return true;
  }
  return false;
}

/** The physical-line reader and parser state. */
class Parser {
  private readonly src: string;
  private pos = 0;
  /** 1-based number of the last line read. */
  line = 0;
  /** Line number of a line that was too long (0: none). */
  tooLongLine = 0;
  // The current physical line: [ls, le) is its content without `\n`, te the end after
  // trimming trailing `\r`/`\n`, next the start of the following line.
  ls = 0;
  le = 0;
  te = 0;
  next = 0;

  escape = 0x5c;
  private prologueOpen = true;
  private readonly directives: Directive[] = [];
  private readonly instructions: InstructionNode[] = [];
  private readonly warnings: ParseWarning[] = [];
  private comments: string[] = [];

  constructor(text: string) {
    this.src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }

  private readLine(): boolean {
    const src = this.src;
    if (this.pos >= src.length || this.tooLongLine !== 0) return false;
    const nl = src.indexOf('\n', this.pos);
    const ls = this.pos;
    const le = nl < 0 ? src.length : nl;
    if (utf8LengthExceeds(src, ls, le, MAX_LINE_BYTES)) {
      // bufio.Scanner stops here; everything before still counts.
      this.tooLongLine = this.line + 1;
      return false;
    }
    let te = le;
    while (te > ls && src.charCodeAt(te - 1) === 0x0d) te--;
    this.ls = ls;
    this.le = le;
    this.te = te;
    this.next = nl < 0 ? src.length : nl + 1;
    this.pos = this.next;
    this.line++;
    return true;
  }

  private error(message: string, range: SourceRange): DockerfileParseError {
    return new DockerfileParseError(message, {
      line: range.start.line,
      column: range.start.column,
      endLine: range.end.line,
      endColumn: range.end.column,
    });
  }

  /** Offers a first line (from its first non-space character) to the directive reader. */
  private directive(fs: number): void {
    if (!this.prologueOpen) return;
    const m = matchDirective(this.src, fs, this.te, '#');
    if (m === undefined || !isDirectiveName(m.name)) {
      this.prologueOpen = false;
      return;
    }
    const name = m.name;
    const range: SourceRange = {
      start: { line: this.line, column: fs - this.ls + 1 },
      end: { line: this.line, column: this.te - this.ls + 1 },
    };
    if (this.directives.some((d) => d.name === name)) {
      throw this.error(`only one ${name} parser directive can be used`, range);
    }
    if (name === 'escape') {
      if (m.value !== '\\' && m.value !== '`') {
        throw this.error(`invalid escape token '${m.value}' does not match \` or \\`, range);
      }
      this.escape = m.value.charCodeAt(0);
    }
    this.directives.push({ name, value: m.value, range });
  }

  /**
   * BuildKit's continuation test on `src[from, to)`: returns the end of the kept text
   * and whether the line continues.
   */
  private continuation(from: number, to: number): { end: number; continues: boolean } {
    const src = this.src;
    let j = to - 1;
    while (j >= from && (src.charCodeAt(j) === 0x20 || src.charCodeAt(j) === 0x09)) j--;
    if (j < from || src.charCodeAt(j) !== this.escape) return { end: to, continues: false };
    if (j > from && src.charCodeAt(j - 1) === this.escape) return { end: to, continues: false };
    return { end: j, continues: true };
  }

  run(): ParseResult {
    const src = this.src;
    while (this.readLine()) {
      const fs = skipGoSpace(src, this.ls, this.te);
      const isComment = fs < this.te && src.charCodeAt(fs) === 0x23;
      if (isComment) {
        const comment = goTrimSpace(src.slice(this.ls + 1, this.te));
        if (comment === '') this.comments = [];
        else this.comments.push(comment);
      }
      this.directive(fs);
      const startLine = this.line;
      const firstCol = fs - this.ls + 1;
      let { end, continues } = isComment
        ? { end: fs, continues: false }
        : this.continuation(fs, this.te);
      if (!continues && end === fs) continue;

      let text = src.slice(fs, end);
      const map = new SourceMap();
      map.add(0, startLine, firstCol);
      let endCol = this.te - this.ls + 1;
      let hasEmptyContinuation = false;
      while (continues && this.readLine()) {
        endCol = this.te - this.ls + 1;
        const cs = skipGoSpace(src, this.ls, this.te);
        if (cs < this.te && src.charCodeAt(cs) === 0x23) continue;
        if (cs === this.te) {
          hasEmptyContinuation = true;
          continue;
        }
        ({ end, continues } = this.continuation(this.ls, this.te));
        map.add(text.length, this.line, 1);
        text += src.slice(this.ls, end);
      }

      let range: SourceRange = {
        start: { line: startLine, column: firstCol },
        end: { line: this.line, column: endCol },
      };
      if (hasEmptyContinuation) {
        this.warnings.push({
          code: 'empty-continuation-line',
          message: 'Empty continuation line found in: ' + text,
          detail: ['Empty continuation lines will become errors in a future release'],
          url: 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/',
          range,
        });
      }

      const builder = new NodeBuilder(text, map, this.escape);
      let node: InstructionNode;
      try {
        node = builder.instruction(0, text.length, this.comments, range);
      } catch (err) {
        if (err instanceof InstructionError) throw this.error(err.message, range);
        throw err;
      }

      const target = node.keyword === 'onbuild' && node.onbuild !== undefined ? node.onbuild : node;
      if (HEREDOC_KEYWORDS.has(target.keyword) && !target.json && text.includes('<<')) {
        let openers;
        try {
          openers = heredocsFromLine(text);
        } catch (err) {
          if (err instanceof HeredocWordError) throw this.error(err.message, range);
          throw err;
        }
        if (openers.length > 0) {
          const heredocs: Heredoc[] = [];
          for (const opener of openers) {
            const bodyLine = this.line + 1;
            const bodyStart = this.pos;
            let terminated = false;
            let bodyEnd = bodyStart;
            while (this.readLine()) {
              let ts = this.ls;
              if (opener.chomp) while (ts < this.te && src.charCodeAt(ts) === 0x09) ts++;
              if (this.te - ts === opener.name.length && src.startsWith(opener.name, ts)) {
                terminated = true;
                bodyEnd = this.ls;
                break;
              }
            }
            range = { start: range.start, end: { line: this.line, column: this.te - this.ls + 1 } };
            if (!terminated) throw this.error('unterminated heredoc', range);
            heredocs.push({
              name: opener.name,
              content: src.slice(bodyStart, bodyEnd),
              expand: opener.expand,
              chomp: opener.chomp,
              fileDescriptor: opener.fileDescriptor,
              range: { start: { line: bodyLine, column: 1 }, end: range.end },
            });
          }
          // Like BuildKit, an ONBUILD's heredocs belong to the ONBUILD node itself.
          node = { ...node, heredocs, range };
        }
      }
      this.instructions.push(node);
      this.comments = [];
    }

    const first = this.instructions[0];
    const last = this.instructions[this.instructions.length - 1];
    if (first === undefined || last === undefined) {
      const line = Math.max(this.line, 1);
      throw this.error('file with no instructions', {
        start: { line, column: 1 },
        end: { line, column: 1 },
      });
    }
    if (this.tooLongLine !== 0) {
      const line = this.tooLongLine;
      throw this.error(
        `dockerfile line greater than max allowed size of ${String(MAX_LINE_BYTES)}`,
        {
          start: { line, column: 1 },
          end: { line, column: 1 },
        },
      );
    }
    const find = (name: string) => this.directives.find((d) => d.name === name);
    const syntax = find('syntax');
    const escape = find('escape');
    const check = find('check');
    const directives: Directives = {
      ...(syntax === undefined ? {} : { syntax }),
      ...(escape === undefined ? {} : { escape }),
      ...(check === undefined ? {} : { check }),
      all: this.directives,
    };
    return {
      instructions: this.instructions,
      range: { start: first.range.start, end: last.range.end },
      directives,
      escapeToken: String.fromCharCode(this.escape) as EscapeToken,
      warnings: this.warnings,
    };
  }
}

/**
 * Parses a Dockerfile exactly as BuildKit does. Returns the instructions with source
 * positions, the parser directives, the escape character and warnings. Throws
 * {@link DockerfileParseError} (code `invalid-argument`) with BuildKit's message and
 * the location of the problem.
 */
export function parse(text: string): ParseResult {
  return new Parser(text).run();
}
