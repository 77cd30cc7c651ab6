/**
 * BuildKit's parser test data, read in place from the shared conformance directory
 * (env LAB_BUILDKIT_CONFORMANCE, default `<repo>/../shared/conformance/buildkit`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dump } from '../dump.js';
import {
  chompHeredocContent,
  detectSyntax,
  findDirective,
  heredocsFromLine,
  parseDirectives,
  parseHeredocWord,
} from '../index.js';
import { DockerfileParseError } from './errors.js';
import { readJsonArray } from './json-array.js';
import { parse } from './parse.js';
import { splitWords } from './words.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const dataDir =
  process.env['LAB_BUILDKIT_CONFORMANCE'] ??
  path.resolve(repoRoot, '../shared/conformance/buildkit');

function read(...parts: string[]): string {
  return readFileSync(path.join(dataDir, ...parts), 'utf8');
}

function readJson(...parts: string[]): unknown {
  return JSON.parse(read(...parts));
}

function parseError(text: string): DockerfileParseError {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof DockerfileParseError) return err;
    throw err;
  }
  throw new Error('expected a parse error');
}

const positiveCases = readdirSync(path.join(dataDir, 'parser')).sort();

describe('BuildKit parser cases: dump(parse(Dockerfile)) + "\\n" equals result', () => {
  it('finds all 33 cases', () => {
    expect(positiveCases).toHaveLength(33);
  });
  it.each(positiveCases)('%s', (name) => {
    const result = parse(read('parser', name, 'Dockerfile'));
    expect(dump(result) + '\n').toBe(read('parser', name, 'result'));
  });
});

describe('BuildKit negative cases fail with upstream messages', () => {
  const expected: Record<string, { message: string; line: number }> = {
    empty_dockerfile: { message: 'file with no instructions', line: 1 },
    only_comments: { message: 'file with no instructions', line: 3 },
    env_no_value: { message: 'ENV must have two arguments', line: 3 },
    'shykes-nested-json': {
      message: 'when using JSON array syntax, arrays must be comprised of strings only',
      line: 1,
    },
  };
  const cases = readdirSync(path.join(dataDir, 'parser-negative')).sort();
  it('has the 4 known cases', () => {
    expect(cases).toEqual(Object.keys(expected).sort());
  });
  it.each(cases)('%s', (name) => {
    const err = parseError(read('parser-negative', name, 'Dockerfile'));
    const want = expected[name];
    expect(err.message).toBe(want?.message);
    expect(err.code).toBe('invalid-argument');
    expect(err.line).toBeGreaterThanOrEqual(1);
    expect(err.column).toBeGreaterThanOrEqual(1);
    expect(err.line).toBe(want?.line);
  });
});

describe('line ranges (parser-line)', () => {
  it('matches expected.json', () => {
    const exp = readJson('parser-line', 'expected.json') as {
      root: [number, number];
      children: [number, number][];
    };
    const result = parse(read('parser-line', 'Dockerfile'));
    expect([result.range.start.line, result.range.end.line]).toEqual(exp.root);
    expect(result.instructions.map((n) => [n.range.start.line, n.range.end.line])).toEqual(
      exp.children,
    );
  });
});

interface HeredocExpectation {
  children: {
    child: number;
    heredocs: {
      name: string;
      content: string;
      expand: boolean;
      chomp: boolean;
      fileDescriptor: number;
    }[];
  }[];
}

describe.each(['parser-heredoc', 'parser-heredoc-json'])('heredocs (%s)', (dir) => {
  const exp = readJson(dir, 'expected.json') as HeredocExpectation;
  const result = parse(read(dir, 'Dockerfile'));
  it.each(exp.children.map((c) => [c.child, c] as const))('child %i', (_, c) => {
    const node = result.instructions[c.child];
    expect(node).toBeDefined();
    const docs = node?.heredocs ?? [];
    expect(
      docs.map((h) => ({
        name: h.name,
        content: h.content,
        expand: h.expand,
        chomp: h.chomp,
        fileDescriptor: h.fileDescriptor,
      })),
    ).toEqual(c.heredocs);
  });
});

describe('empty continuation warnings (parser-warnings)', () => {
  it('reports the two warnings', () => {
    const exp = readJson('parser-warnings', 'expected.json') as {
      warningCount: number;
      warnings: { contains: string[]; detailContains?: string }[];
    };
    const result = parse(read('parser-warnings', 'Dockerfile'));
    expect(result.warnings).toHaveLength(exp.warningCount);
    exp.warnings.forEach((w, i) => {
      const got = result.warnings[i];
      for (const s of w.contains) expect(got?.message).toContain(s);
      if (w.detailContains !== undefined) {
        expect(got?.detail.join('\n')).toContain(w.detailContains);
      }
    });
  });
});

interface Misc {
  parseWords: { input: string; expect: string[] }[];
  parseNameVal: { keyword: string; input: string; expectNodes?: string[]; expectError?: string }[];
  jsonArraysValid: { input: string; expect: string[] }[];
  jsonArraysNotStringArray: string[];
  heredocWordValid: string[];
  heredocWordInvalid: string[];
  heredocWordNotHeredoc: string[];
  heredocsFromLine: { line: string; names: string[] }[];
  heredocChomp: { input: string; expect: string };
  directives: {
    parseAll: { input: string; expect: { name: string; value: string }[] }[];
    detectSyntax: DirectiveCase[];
    parseDirectiveCheck: DirectiveCase[];
  };
  longLine: { input: string; error: string };
}
interface DirectiveCase {
  input: string;
  found: boolean;
  ref?: string;
  cmdline?: string;
  line?: number;
}

describe('parser-misc.json', () => {
  const misc = readJson('parser-misc.json') as Misc;

  it.each(misc.parseWords.map((c) => [c.input, c] as const))('parseWords %j', (input, c) => {
    expect(splitWords(input, 0, input.length, 0x5c).map((w) => w.text)).toEqual(c.expect);
  });

  it.each(misc.parseNameVal.map((c) => [`${c.keyword} ${c.input}`, c] as const))(
    'parseNameVal %j',
    (line, c) => {
      if (c.expectError !== undefined) {
        expect(parseError(line).message).toBe(c.expectError);
      } else {
        const node = parse(line).instructions[0];
        expect(node?.args.map((a) => a.value)).toEqual(c.expectNodes);
      }
    },
  );

  it.each(misc.jsonArraysValid.map((c) => [c.input, c] as const))(
    'valid JSON array %j',
    (input, c) => {
      const start = input.search(/\S/);
      const end = input.length - (input.length - input.trimEnd().length);
      const r = readJsonArray(input, start, end);
      expect(r.kind).toBe('strings');
      if (r.kind === 'strings') expect(r.values).toEqual(c.expect);
      // And through the parser, as exec form.
      const node = parse(`CMD ${input}`).instructions[0];
      expect(node?.json).toBe(true);
      expect(node?.args.map((a) => a.value)).toEqual(c.expect);
    },
  );

  it.each(misc.jsonArraysNotStringArray)('not a string array %j is a hard error', (input) => {
    expect(readJsonArray(input, 0, input.length).kind).toBe('not-strings');
    expect(parseError(`CMD ${input}`).message).toBe(
      'when using JSON array syntax, arrays must be comprised of strings only',
    );
  });

  it.each(misc.heredocWordValid)('heredoc opener %j names EOF', (word) => {
    expect(parseHeredocWord(word)?.name).toBe('EOF');
  });

  it.each(misc.heredocWordInvalid)('heredoc word %j is an error', (word) => {
    expect(() => parseHeredocWord(word)).toThrow(
      /^failed to process ".*": unexpected end of statement/,
    );
  });

  it.each(misc.heredocWordNotHeredoc)('word %j is not a heredoc opener', (word) => {
    expect(parseHeredocWord(word)).toBeUndefined();
  });

  it.each(misc.heredocsFromLine.map((c) => [c.line, c] as const))(
    'heredocs of line %j',
    (line, c) => {
      expect(heredocsFromLine(line).map((h) => h.name)).toEqual(c.names);
    },
  );

  it('chomps leading tabs', () => {
    expect(chompHeredocContent(misc.heredocChomp.input)).toBe(misc.heredocChomp.expect);
  });

  it.each(misc.directives.parseAll.map((c) => [c.input, c] as const))('parseAll %j', (input, c) => {
    expect(parseDirectives(input).map((d) => ({ name: d.name, value: d.value }))).toEqual(c.expect);
  });

  function checkLookup(got: ReturnType<typeof detectSyntax>, c: DirectiveCase): void {
    if (!c.found) {
      expect(got).toBeUndefined();
      return;
    }
    expect(got).toBeDefined();
    if (c.ref !== undefined) expect(got?.ref).toBe(c.ref);
    if (c.cmdline !== undefined) expect(got?.cmdline).toBe(c.cmdline);
    if (c.line !== undefined) expect(got?.line).toBe(c.line);
  }

  it.each(misc.directives.detectSyntax.map((c) => [c.input, c] as const))(
    'detectSyntax %j',
    (input, c) => {
      checkLookup(detectSyntax(input), c);
    },
  );

  it.each(misc.directives.parseDirectiveCheck.map((c) => [c.input, c] as const))(
    'parseDirective(check) %j',
    (input, c) => {
      checkLookup(findDirective('check', input), c);
    },
  );

  it('rejects a line longer than 65535 bytes', () => {
    const input = misc.longLine.input.replace('<65536 times the letter a>', 'a'.repeat(65536));
    expect(input.length).toBeGreaterThan(65536);
    const err = parseError(input);
    expect(err.message).toBe(misc.longLine.error);
    expect(err.line).toBe(3);
  });
});
