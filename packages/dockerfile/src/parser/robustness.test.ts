import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dump } from '../dump.js';
import { DockerfileParseError } from './errors.js';
import { parse } from './parse.js';

/** Parses and checks the outcome is a well-formed result or a located parse error. */
function parseOrLocatedError(text: string): void {
  const lineCount = text.split('\n').length;
  try {
    const result = parse(text);
    expect(result.instructions.length).toBeGreaterThan(0);
    for (const node of result.instructions) {
      expect(node.range.start.line).toBeGreaterThanOrEqual(1);
      expect(node.range.start.column).toBeGreaterThanOrEqual(1);
      expect(node.range.end.line).toBeGreaterThanOrEqual(node.range.start.line);
      expect(node.range.end.line).toBeLessThanOrEqual(lineCount);
      for (const arg of node.args) {
        expect(arg.range.start.line).toBeGreaterThanOrEqual(node.range.start.line);
        expect(arg.range.start.column).toBeGreaterThanOrEqual(1);
      }
    }
    expect(typeof dump(result)).toBe('string');
    expect(() => JSON.stringify(result)).not.toThrow();
  } catch (err) {
    if (!(err instanceof DockerfileParseError)) throw err;
    expect(err.code).toBe('invalid-argument');
    expect(err.line).toBeGreaterThanOrEqual(1);
    expect(err.line).toBeLessThanOrEqual(lineCount);
    expect(err.column).toBeGreaterThanOrEqual(1);
    expect(err.endLine).toBeGreaterThanOrEqual(err.line);
    expect(err.message.length).toBeGreaterThan(0);
  }
}

const token = fc.constantFrom(
  'FROM ',
  'RUN ',
  'COPY ',
  'ADD ',
  'ENV ',
  'LABEL ',
  'ARG ',
  'CMD ',
  'HEALTHCHECK ',
  'ONBUILD ',
  'SHELL ',
  'EXPOSE ',
  'unknown ',
  '# escape=`\n',
  '# escape=\\\n',
  '# syntax=docker/dockerfile:1\n',
  '# check=skip=all\n',
  '#',
  '\\',
  '`',
  '\\\n',
  '`\n',
  '\n',
  '\r\n',
  '\r',
  ' ',
  '\t',
  '\u00a0',
  '\u0085',
  '\ufeff',
  '<<EOF',
  '<<-EOF',
  "<<'EOF'",
  '<<"EOF"',
  '3<<EOF',
  '<< EOF',
  '\nEOF\n',
  '\n\tEOF\n',
  'EOF',
  '"',
  "'",
  '[',
  ']',
  '[ "a", "b" ]',
  '["a", 1]',
  ',',
  '=',
  'a=b',
  '--flag=x ',
  '--',
  '${a:-b}',
  '${',
  '$a',
  '}',
  'é',
  '☃',
  '😀',
  '\\u0000',
  'x',
);

describe('parse never fails with anything but a located DockerfileParseError', () => {
  it('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        parseOrLocatedError(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('on arbitrary mixtures of Dockerfile tokens', () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), (parts) => {
        parseOrLocatedError(parts.join(''));
      }),
      { numRuns: 3000 },
    );
  });

  it('on valid instructions followed by token noise', () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 30 }), (parts) => {
        parseOrLocatedError('FROM scratch\n' + parts.join(''));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('large inputs parse in bounded time', () => {
  it('parses a 1 MB Dockerfile', () => {
    const lines: string[] = ['FROM alpine:3.20'];
    let size = 0;
    for (let i = 0; size < 1 << 20; i++) {
      const line =
        i % 5 === 0
          ? `RUN echo ${String(i)} && \\\n    apk add --no-cache pkg${String(i)} \\\n    # comment\n    && true`
          : i % 5 === 1
            ? `ENV K${String(i)}="v ${String(i)}" L${String(i)}=x`
            : i % 5 === 2
              ? `COPY --from=build ["/src/${String(i)}", "/dst/"]`
              : i % 5 === 3
                ? `RUN <<EOF\necho ${String(i)}\nEOF`
                : `LABEL a${String(i)}=b`;
      lines.push(line);
      size += line.length + 1;
    }
    const result = parse(lines.join('\n'));
    expect(result.instructions.length).toBeGreaterThan(10000);
  });

  it('parses a 1 MB single instruction joined from continuation lines', () => {
    const text =
      'FROM a\nRUN ' + Array.from({ length: 60000 }, (_, i) => `x${String(i)}`).join(' \\\n');
    const result = parse(text);
    expect(result.instructions).toHaveLength(2);
    expect(result.instructions[1]?.range.end.line).toBe(60001);
  });

  it('parses 60000 continuation lines of COPY sources, each argument located', () => {
    const text =
      'COPY ' + Array.from({ length: 60000 }, (_, i) => `s${String(i)}`).join(' \\\n') + ' /dst/\n';
    const copy = parse(text).instructions[0];
    expect(copy?.args).toHaveLength(60001);
    expect(copy?.args[59999]?.range.start).toEqual({ line: 60000, column: 1 });
  });

  it('parses a line of exactly 65535 bytes and rejects 65536', () => {
    const ok = 'FROM a\nLABEL x=' + 'a'.repeat(65535 - 8);
    expect(parse(ok).instructions[1]?.args[1]?.value).toHaveLength(65535 - 8);
    const multibyte = 'FROM a\nLABEL x=' + 'é'.repeat((65535 - 8) / 2 - 0.5) + 'a';
    expect(() => parse(multibyte)).not.toThrow();
    expect(() => parse(multibyte + 'a')).toThrow(
      'dockerfile line greater than max allowed size of 65535',
    );
    expect(() => parse(ok + 'a')).toThrow('dockerfile line greater than max allowed size of 65535');
  });

  it('handles deeply nested JSON and long ONBUILD chains without stack overflow', () => {
    const nested = 'CMD ' + '['.repeat(30000) + ']'.repeat(30000);
    expect(parse(nested).instructions[0]?.json).toBe(false);
    const chain = 'ONBUILD '.repeat(8000) + 'RUN x';
    expect(parse(chain).instructions[0]?.keyword).toBe('onbuild');
  });

  it('handles many heredoc markers and unbalanced quotes on one long line', () => {
    // An odd number of quotes: the shell lexer fails, so there are no heredocs.
    expect(parse('RUN ' + '<<A "'.repeat(10001)).instructions[0]?.heredocs).toEqual([]);
    // Balanced quotes: the first word opens heredoc A, which never ends.
    expect(() => parse('RUN ' + '<<A "'.repeat(10000))).toThrow('unterminated heredoc');
    const many =
      'RUN ' + Array.from({ length: 2000 }, (_, i) => `<<E${String(i)}`).join(' ') + '\n';
    const bodies = Array.from({ length: 2000 }, (_, i) => `body\nE${String(i)}\n`).join('');
    expect(parse(many + bodies).instructions[0]?.heredocs).toHaveLength(2000);
  });
});
