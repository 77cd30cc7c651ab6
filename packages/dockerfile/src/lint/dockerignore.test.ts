import { describe, expect, it } from 'vitest';
import { cleanPath, createPatternMatcher, parseDockerignore } from './dockerignore.js';

function ignored(patterns: string[], path: string): boolean {
  return createPatternMatcher(patterns).matchesOrParentMatches(path);
}

describe('reading a .dockerignore file', () => {
  it('drops the BOM, comments and blank lines, cleans paths and keeps exceptions', () => {
    const text =
      '\uFEFF# build output\n/dist/\n  node_modules  \r\n\n!  /dist/keep.txt\n ./a/../b//c/\n#x\n';
    expect(parseDockerignore(text)).toEqual(['dist', 'node_modules', '!dist/keep.txt', 'b/c']);
  });

  it('only treats # at the very start of a line as a comment', () => {
    expect(parseDockerignore(' #not-a-comment\n')).toEqual(['#not-a-comment']);
  });
});

describe('cleaning paths like Go', () => {
  it.each([
    ['', '.'],
    ['a/b/../c', 'a/c'],
    ['/../x', '/x'],
    ['../../x', '../../x'],
    ['a/./b/', 'a/b'],
    ['/', '/'],
  ])('%j → %j', (input, output) => {
    expect(cleanPath(input)).toBe(output);
  });
});

describe('matching context paths', () => {
  it.each([
    [['*.log'], 'app.log', true],
    [['*.log'], 'logs/app.log', false],
    [['*/*.log'], 'logs/app.log', true],
    [['tmp'], 'tmp/cache/file', true],
    [['tmp/'], 'tmp/cache/file', true],
    [['tmp*'], 'tmpfiles/x', true],
    [['**/*.md'], 'README.md', true],
    [['**/*.md'], 'docs/guide/intro.md', true],
    [['**/*.md'], 'docs/guide/intro.txt', false],
    [['**'], 'anything/at/all', true],
    [['docs/**'], 'docs', false],
    [['docs/**'], 'docs/a/b', true],
    [['**/secret'], 'secret', true],
    [['**/secret'], 'x/y/secret/key', true],
    [['a**/*.c'], 'ab/src/main.c', true],
    [['file?.txt'], 'file1.txt', true],
    [['file?.txt'], 'file10.txt', false],
    [['file?.txt'], 'dir/file1.txt', false],
    [['v[0-9].txt'], 'v7.txt', true],
    [['v[^0-9].txt'], 'v7.txt', false],
    [['v[^0-9].txt'], 'vx.txt', true],
    [['pkg+(1).tar'], 'pkg+(1).tar', true],
    [['x.y'], 'xzy', false],
    [['a\\*b'], 'a*b', true],
    [['a\\*b'], 'aXb', false],
    [['*.go', '!main.go'], 'main.go', false],
    [['!main.go', '*.go'], 'main.go', true],
    [['build', '!build/keep'], 'build/keep', false],
    [['build', '!build/keep'], 'build/other', true],
    [['**', '!src'], 'src/a/b.ts', false],
    [['**', '!src', 'src/gen'], 'src/gen/out.ts', true],
  ])('%j on %j → %j', (patterns, path, expected) => {
    expect(ignored(patterns, path)).toBe(expected);
  });

  it('reports whether exceptions exist', () => {
    expect(createPatternMatcher(['a', 'b']).exclusions).toBe(false);
    expect(createPatternMatcher(['a', '  !b ']).exclusions).toBe(true);
  });

  it.each([['!'], ['['], ['a['], ['[]a]'], ['[-a]'], ['[a-]'], ['[a-b-c]'], ['x\\']])(
    'rejects the malformed pattern %j',
    (pattern) => {
      expect(() => createPatternMatcher([pattern])).toThrow(
        pattern === '!' ? 'illegal exclusion pattern: "!"' : 'syntax error in pattern',
      );
    },
  );

  it('accepts escaped brackets and dashes in classes', () => {
    expect(ignored(['[\\]x]'], ']')).toBe(true);
    expect(ignored(['[a\\-]'], '-')).toBe(true);
  });
});
