import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  createLexer,
  envFromList,
  processWord,
  processWords,
  processWordWithMatches,
  reversePattern,
  shellPatternToRegex,
  ShellError,
} from './index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const dataDir = path.join(
  process.env.LAB_BUILDKIT_CONFORMANCE ?? path.resolve(repoRoot, '../shared/conformance/buildkit'),
  'shell',
);
const read = (name: string): string => readFileSync(path.join(dataDir, name), 'utf8');

interface EnvVarRow {
  platform: string;
  input: string;
  expected: string;
  line: number;
}

function envVarRows(): EnvVarRow[] {
  const rows: EnvVarRow[] = [];
  read('envVarTest')
    .split('\n')
    .forEach((raw, i) => {
      if (raw.startsWith('#')) return;
      const line = raw.trim();
      if (line === '') return;
      const fields = line.split('|');
      if (fields.length !== 3) throw new Error(`envVarTest:${i + 1}: expected 3 fields`);
      const [platform, input, expected] = fields.map((f) => f.trim()) as [string, string, string];
      rows.push({ platform, input, expected, line: i + 1 });
    });
  return rows;
}

describe('envVarTest (single-word expansion)', () => {
  const env = ['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL='];
  const rows = envVarRows().filter((r) => r.platform === 'A' || r.platform === 'U');
  it('has the rows the README counts for Linux', () => {
    expect(rows).toHaveLength(228);
  });
  it.each(rows.map((r) => [`${r.line}: ${r.input}`, r] as const))('%s', (_name, row) => {
    if (row.expected === 'error') {
      expect(() => processWord(row.input, env)).toThrow(ShellError);
    } else {
      expect(processWord(row.input, env)).toBe(row.expected);
    }
  });
});

describe('wordsTest (expansion and word splitting)', () => {
  const env: string[] = [];
  const cases: { input: string; expected: string[]; env: string[] }[] = [];
  for (const line of read('wordsTest').split('\n')) {
    if (line.startsWith('#')) continue;
    if (line.startsWith('ENV ')) {
      env.push(line.slice(3).replace(/^ +/, ''));
      continue;
    }
    if (line === '') continue;
    const parts = line.split('|');
    if (parts.length !== 2) throw new Error(`wordsTest: bad line ${line}`);
    cases.push({
      input: parts[0]!.trim(),
      expected: parts[1]!.replace(/^ +/, '').split(','),
      env: [...env],
    });
  }
  it('reads all 24 rows', () => {
    expect(cases).toHaveLength(24);
  });
  it.each(cases.map((c) => [c.input, c] as const))('%s', (_name, c) => {
    let words: string[];
    try {
      words = processWords(c.input, c.env);
    } catch {
      words = ['error'];
    }
    expect(words).toEqual(c.expected);
  });
});

interface MatchCase {
  input: string;
  env: Record<string, string>;
  expected?: string;
  expectError?: boolean;
  matched?: string[];
  unmatched?: string[];
}

describe('processWithMatches.json', () => {
  const { cases } = JSON.parse(read('processWithMatches.json')) as { cases: MatchCase[] };
  it('has 47 cases', () => {
    expect(cases).toHaveLength(47);
  });
  it.each(cases.map((c, i) => [`${i}: ${c.input}`, c] as const))('%s', (_name, c) => {
    if (c.expectError === true) {
      expect(() => processWordWithMatches(c.input, c.env)).toThrow(ShellError);
      return;
    }
    const r = processWordWithMatches(c.input, c.env);
    expect(r.result).toBe(c.expected);
    expect([...r.matched].sort()).toEqual([...(c.matched ?? [])].sort());
    expect([...r.unmatched].sort()).toEqual([...(c.unmatched ?? [])].sort());
  });
});

interface Misc {
  mandatoryVars: {
    cases: {
      input: string;
      env: Record<string, string>;
      expected?: string;
      errorContains?: string;
    }[];
  };
  platformTemplate: { cases: { input: string; env: Record<string, string>; expected: string }[] };
  shellPatternToRegex: { cases: { pattern: string; regex: string }[]; invalid: string[] };
  reversePattern: { cases: { input: string; expected: string }[] };
  envFromList: { cases: { list: string[]; lookup: string; value: string }[] };
}

describe('misc.json', () => {
  const misc = JSON.parse(read('misc.json')) as Misc;
  it.each(misc.mandatoryVars.cases.map((c) => [c.input, c] as const))(
    'mandatory variable %s',
    (_n, c) => {
      if (c.errorContains !== undefined) {
        expect(() => processWord(c.input, c.env)).toThrow(c.errorContains);
      } else {
        expect(processWord(c.input, c.env)).toBe(c.expected);
      }
    },
  );
  it.each(misc.platformTemplate.cases.map((c) => [c.expected, c] as const))(
    'platform template gives %s',
    (_n, c) => {
      expect(processWordWithMatches(c.input, c.env).result).toBe(c.expected);
    },
  );
  it.each(misc.shellPatternToRegex.cases.map((c) => [c.pattern, c] as const))(
    'glob %s converts to a greedy anchored regex',
    (_n, c) => {
      expect(shellPatternToRegex(c.pattern, true, true).source).toBe(c.regex);
    },
  );
  it.each(misc.shellPatternToRegex.invalid.map((p) => [p] as const))('glob %s is rejected', (p) => {
    expect(() => shellPatternToRegex(p, true, true)).toThrow(/invalid escape/);
  });
  it.each(misc.reversePattern.cases.map((c) => [c.input, c] as const))(
    'reverses pattern %s',
    (_n, c) => {
      expect(reversePattern(c.input)).toBe(c.expected);
    },
  );
  it.each(misc.envFromList.cases.map((c, i) => [i, c] as const))('env list %i', (_n, c) => {
    expect(envFromList(c.list).get(c.lookup) ?? '').toBe(c.value);
  });
});

describe('lexer behaviour beyond the tables', () => {
  it('wraps errors like BuildKit, quoting the input', () => {
    // Go prints the scanner's EOF as U+FFFD.
    expect(() => processWord('${x', {})).toThrow(
      'failed to process "${x": unsupported modifier (\uFFFD) in substitution',
    );
    expect(() => processWord('${x:-a', {})).toThrow(
      `failed to process "\${x:-a": syntax error: missing '}'`,
    );
    expect(() => processWord('${x:=1}', {})).toThrow(
      'failed to process "${x:=1}": unsupported modifier (:=) in substitution',
    );
    expect(() => processWord('${X?}', {})).toThrow('X: is not allowed to be unset');
    expect(() => processWord('${X:?}', { X: '' })).toThrow('X: is not allowed to be empty');
    expect(() => processWord('${X/a}', { X: 'a' })).toThrow("syntax error: missing '/' in ${}");
  });

  it('uses the backtick as escape character when asked', () => {
    const lex = createLexer({ escapeToken: '`' });
    expect(lex.processWord('a`$b\\c', { b: 'x' })).toBe('a$b\\c');
    expect(lex.processWords('a` b c', {})).toEqual(['a b', 'c']);
  });

  it('keeps unset references literally in skip-unset mode', () => {
    const opts = { skipUnsetEnv: true } as const;
    expect(processWord('$A ${B} ${C:-x} ${D/a/b} $E', { E: 'e' }, opts)).toBe(
      '$A ${B} ${C:-x} ${D/a/b} e',
    );
  });

  it('keeps quotes and escapes in raw mode', () => {
    expect(processWord(`a'b'"c\\$d"\\e`, {}, { rawQuotes: true, rawEscapes: true })).toBe(
      `a'b'"c\\$d"\\e`,
    );
  });

  it('treats quotes as text when quote processing is off (heredoc bodies)', () => {
    expect(processWord(`say "$X" '\\$Y'`, { X: 'hi', Y: 'no' }, { skipProcessQuotes: true })).toBe(
      `say "hi" '$Y'`,
    );
  });

  it('glues a heredoc operator to the blanks after it', () => {
    expect(processWords('RUN cat <<  EOF', {}, { rawQuotes: true, rawEscapes: true })).toEqual([
      'RUN',
      'cat',
      '<<  EOF',
    ]);
    expect(processWords('RUN <<- EOF', {})).toEqual(['RUN', '<<-', 'EOF']);
  });

  it('expands $0 in a replace-all template and skips empty matches after a match', () => {
    // `$0` would be expanded by the lexer itself; `\$0` reaches the template.
    expect(processWord('${X//b/<\\$0>}', { X: 'abcb' })).toBe('a<\\b>c<\\b>');
    expect(processWord('${X/b/<\\$0>}', { X: 'abcb' })).toBe('a<\\$0>cb');
    expect(processWord('${X//*/y}', { X: 'abc' })).toBe('y');
    // `$$` is the (always empty) special parameter, so the pattern is empty and matches
    // between every character, as Go's ReplaceAllString does.
    expect(processWord('${X//$$/y}', { X: 'a$b' })).toBe('yay$yby');
  });

  it('suffix trimming is shortest or longest from the right', () => {
    expect(processWord('${F%.*}', { F: 'a.tar.gz' })).toBe('a.tar');
    expect(processWord('${F%%.*}', { F: 'a.tar.gz' })).toBe('a');
    expect(processWord('${F#*/}', { F: 'x/y/z' })).toBe('y/z');
    expect(processWord('${F##*/}', { F: 'x/y/z' })).toBe('z');
  });

  it('accepts a Map environment', () => {
    expect(processWord('$a$b', new Map([['a', '1']]))).toBe('1');
  });
});
