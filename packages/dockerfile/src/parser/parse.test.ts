import { describe, expect, it } from 'vitest';
import { dump, goQuote, goToLower } from '../dump.js';
import { DockerfileParseError, isDockerfileParseError } from './errors.js';
import { parse } from './parse.js';

function errorOf(text: string): DockerfileParseError {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof DockerfileParseError) return err;
    throw err;
  }
  throw new Error('expected a parse error');
}

describe('positions', () => {
  it('gives instruction and argument ranges across continuation lines', () => {
    const result = parse('# c\n  FROM  alpine AS base\nRUN a \\\n\tb\n');
    const [from, run] = result.instructions;
    expect(from?.range).toEqual({ start: { line: 2, column: 3 }, end: { line: 2, column: 23 } });
    expect(from?.args.map((a) => [a.value, a.range.start.column, a.range.end.column])).toEqual([
      ['alpine', 9, 15],
      ['AS', 16, 18],
      ['base', 19, 23],
    ]);
    expect(run?.range).toEqual({ start: { line: 3, column: 1 }, end: { line: 4, column: 3 } });
    expect(run?.args[0]?.value).toBe('a \tb');
    expect(run?.args[0]?.range).toEqual({
      start: { line: 3, column: 5 },
      end: { line: 4, column: 3 },
    });
    expect(result.range).toEqual({ start: { line: 2, column: 3 }, end: { line: 4, column: 3 } });
  });

  it('locates exec-form elements and ENV triples', () => {
    const [cmd, env] = parse('CMD ["a", "b c"]\nENV k=v x=y\n').instructions;
    expect(cmd?.json).toBe(true);
    expect(cmd?.args.map((a) => a.range.start.column)).toEqual([6, 11]);
    expect(env?.args.map((a) => [a.value, a.range.start.column])).toEqual([
      ['k', 5],
      ['v', 7],
      ['=', 6],
      ['x', 9],
      ['y', 11],
      ['=', 10],
    ]);
  });

  it('ends a heredoc instruction at its terminator line', () => {
    const result = parse('FROM a\nRUN <<EOF\nhello\nEOF\nRUN b\n');
    const run = result.instructions[1];
    expect(run?.range.end).toEqual({ line: 4, column: 4 });
    expect(run?.heredocs[0]).toMatchObject({ name: 'EOF', content: 'hello\n', expand: true });
    expect(result.instructions[2]?.range.start.line).toBe(5);
  });
});

describe('directives', () => {
  it('reports syntax, escape and check with positions', () => {
    const result = parse(
      '# syntax=docker/dockerfile:1\n#  ESCAPE = `\n# check=skip=all\nFROM a\nRUN b `\n  c\n',
    );
    expect(result.escapeToken).toBe('`');
    expect(result.directives.syntax?.value).toBe('docker/dockerfile:1');
    expect(result.directives.escape?.range.start.line).toBe(2);
    expect(result.directives.check?.value).toBe('skip=all');
    expect(result.directives.all.map((d) => d.name)).toEqual(['syntax', 'escape', 'check']);
    expect(result.instructions[1]?.args[0]?.value).toBe('b   c');
  });

  it('treats look-alikes after the prologue as comments', () => {
    const result = parse('# hello\n# escape=`\nFROM a\n');
    expect(result.escapeToken).toBe('\\');
    expect(result.directives.all).toEqual([]);
    expect(result.instructions[0]?.prevComments).toEqual(['hello', 'escape=`']);
  });

  it('rejects a repeated directive and a bad escape value', () => {
    const dup = errorOf('# syntax=a\n# syntax=b\nFROM x\n');
    expect(dup.message).toBe('only one syntax parser directive can be used');
    expect(dup.line).toBe(2);
    expect(errorOf('# escape=x\nFROM a\n').message).toBe(
      "invalid escape token 'x' does not match ` or \\",
    );
  });
});

describe('instructions', () => {
  it('parses flags for every instruction, with upstream byte semantics', () => {
    const [copy, run] = parse('COPY --from="a b" --chmod=7\\55 x y\nRUN --x=é true\n').instructions;
    expect(copy?.flags).toEqual(['--from=a b', '--chmod=755']);
    expect(copy?.args.map((a) => a.value)).toEqual(['x', 'y']);
    expect(run?.flags).toEqual(['--x=Ã©']);
    expect(run?.args[0]?.value).toBe('true');
  });

  it('ends a flag at a 0xA0 byte inside a UTF-8 character, as Go does', () => {
    // `à` is C3 A0 and Go's per-byte unicode.IsSpace(0xA0) is true.
    const run = parse('RUN --x=à y\n').instructions[0];
    expect(run?.flags).toEqual(['--x=Ã']);
    expect(run?.args.map((a) => a.value)).toEqual(['y']);
  });

  it('stops flag parsing at -- and at the first non-flag word', () => {
    const [a, b] = parse('COPY --a=1 -- --b=2 x\nCOPY x --c=3\n').instructions;
    expect(a?.flags).toEqual(['--a=1']);
    expect(a?.args.map((n) => n.value)).toEqual(['--b=2', 'x']);
    expect(b?.flags).toEqual([]);
  });

  it('parses ONBUILD triggers, including their heredocs', () => {
    const result = parse('ONBUILD COPY --chown=1 <<EOF /x\nbody\nEOF\n');
    const node = result.instructions[0];
    expect(node?.keyword).toBe('onbuild');
    expect(node?.onbuild?.keyword).toBe('copy');
    expect(node?.onbuild?.flags).toEqual(['--chown=1']);
    expect(node?.heredocs.map((h) => h.content)).toEqual(['body\n']);
    expect(node?.onbuild?.heredocs).toEqual([]);
    expect(dump(result)).toBe('(onbuild (copy ["--chown=1"] "<<EOF" "/x"))');
  });

  it('keeps unknown instructions with one empty argument', () => {
    expect(dump(parse('FOO bar baz\n'))).toBe('(foo "")');
  });

  it('rejects ENV words without =', () => {
    const err = errorOf('ENV a=b c\n');
    expect(err.message).toBe(
      'Syntax error - can\'t find = in "c". Must be of the form: name=value',
    );
    expect(err.line).toBe(1);
  });

  it('never reads heredocs for exec form or other keywords', () => {
    const result = parse('RUN ["<<EOF"]\nUSER <<EOF\nEOF\n');
    expect(result.instructions.map((n) => n.heredocs.length)).toEqual([0, 0, 0]);
  });

  it('reports unterminated heredocs with the instruction range', () => {
    const err = errorOf('FROM a\nRUN <<EOF\nno end\n');
    expect(err.message).toBe('unterminated heredoc');
    expect([err.line, err.endLine]).toEqual([2, 3]);
  });
});

describe('errors', () => {
  it('have the LabError shape: invalid-argument code, Error instance, location', () => {
    const err = errorOf('');
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('invalid-argument');
    expect(isDockerfileParseError(err)).toBe(true);
    expect(err.toJSON()).toMatchObject({
      code: 'invalid-argument',
      message: 'file with no instructions',
    });
  });
});

describe('dump helpers', () => {
  it('quotes like Go strconv.Quote', () => {
    expect(goQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(goQuote('\x00\x07\x7f')).toBe('"\\x00\\a\\x7f"');
    expect(goQuote('\u00a0\u2028é☃')).toBe('"\\u00a0\\u2028é☃"');
    expect(goQuote('\u{e0001}😀')).toBe('"\\U000e0001😀"');
    expect(goQuote("it's")).toBe('"it\'s"');
  });

  it('lower-cases like Go strings.ToLower', () => {
    expect(goToLower('ΣΑΣ')).toBe('σασ');
    expect(goToLower('\u0130X')).toBe('ix');
  });
});
