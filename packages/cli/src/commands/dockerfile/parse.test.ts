import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerfileParseError, parse } from '@lab/dockerfile';
import { isLabError } from '@lab/oci';
import { describe, expect, it } from 'vitest';
import { runLab, type LabResult } from '../../../test/harness.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');
const dataDir =
  process.env['LAB_BUILDKIT_CONFORMANCE'] ??
  path.resolve(repoRoot, '../shared/conformance/buildkit');
const parserCases = readdirSync(path.join(dataDir, 'parser')).sort();
const binary = path.join(repoRoot, 'apps/lab/dist/main.js');

function lab(argv: string[], stdin = ''): Promise<LabResult> {
  return runLab(argv, { stdin, cwd: dataDir, version: '0.0.0-test' });
}

describe('lab dockerfile parse (in process)', () => {
  it.each(parserCases)('--dump of %s matches BuildKit result', async (name) => {
    const res = await lab([
      'dockerfile',
      'parse',
      '--dump',
      path.join('parser', name, 'Dockerfile'),
    ]);
    // Only warnings (empty continuation lines), if anything.
    for (const line of res.stderr.split('\n').filter(Boolean))
      expect(line).toContain(': warning: ');
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(readFileSync(path.join(dataDir, 'parser', name, 'result'), 'utf8'));
  });

  it('dumps by default and reads standard input for -', async () => {
    const res = await lab(['dockerfile', 'parse', '-'], 'FROM a\nRUN b\n');
    expect(res).toEqual({ code: 0, stdout: '(from "a")\n(run "b")\n', stderr: '' });
  });

  it('prints the tree with positions as JSON', async () => {
    const res = await lab(
      ['dockerfile', 'parse', '--json', '-'],
      'FROM a\n  COPY --from=x [ "s", "d" ]\n',
    );
    expect(res.code).toBe(0);
    const tree = JSON.parse(res.stdout) as ReturnType<typeof parse>;
    expect(tree).toEqual(
      JSON.parse(JSON.stringify(parse('FROM a\n  COPY --from=x [ "s", "d" ]\n'))),
    );
    expect(tree.instructions[1]?.range.start).toEqual({ line: 2, column: 3 });
    expect(tree.instructions[1]?.json).toBe(true);
  });

  it('reports a syntax error as FILE:LINE:COL and exits 1', async () => {
    const res = await lab(['dockerfile', 'parse', 'parser-negative/env_no_value/Dockerfile']);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toBe(
      'parser-negative/env_no_value/Dockerfile:3:1: ENV must have two arguments\n',
    );
  });

  it('names standard input <stdin> in errors and prints warnings to stderr', async () => {
    expect((await lab(['dockerfile', 'parse', '-'], '# only a comment\n')).stderr).toBe(
      '<stdin>:1:1: file with no instructions\n',
    );
    const warned = await lab(['dockerfile', 'parse', '-'], 'FROM a\nRUN b \\\n\n c\n');
    expect(warned.code).toBe(0);
    expect(warned.stderr).toBe(
      '<stdin>:2:1: warning: Empty continuation line found in: RUN b  c\n',
    );
  });

  it('fails with a hint for a missing file', async () => {
    const res = await lab(['dockerfile', 'parse', 'no/such/Dockerfile']);
    expect(res.code).toBe(125);
    expect(res.stderr).toContain('no/such/Dockerfile: no such file');
  });

  it('rejects --dump together with --json', async () => {
    const res = await lab(['dockerfile', 'parse', '--dump', '--json', '-']);
    expect(res.code).toBe(125);
    expect(res.stderr).toContain('cannot be used with');
  });

  it('parse errors are LabErrors for the CLI', () => {
    let caught: unknown;
    try {
      parse('');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DockerfileParseError);
    expect(isLabError(caught)).toBe(true);
  });
});

describe('lab dockerfile parse (built binary)', () => {
  const built = existsSync(binary);
  if (!built)
    console.warn(`skipping built-binary tests: ${binary} does not exist (run pnpm build)`);

  it.skipIf(!built).each(parserCases)(
    'node apps/lab/dist/main.js dockerfile parse --dump %s',
    (name) => {
      const file = path.join(dataDir, 'parser', name, 'Dockerfile');
      const out = execFileSync(process.execPath, [binary, 'dockerfile', 'parse', '--dump', file], {
        encoding: 'utf8',
      });
      expect(out).toBe(readFileSync(path.join(dataDir, 'parser', name, 'result'), 'utf8'));
    },
  );

  it.skipIf(!built)('exits 1 with FILE:LINE:COL on a syntax error', () => {
    const file = path.join(dataDir, 'parser-negative', 'shykes-nested-json', 'Dockerfile');
    const res = spawnSync(process.execPath, [binary, 'dockerfile', 'parse', file], {
      encoding: 'utf8',
    });
    expect(res.status).toBe(1);
    expect(res.stderr).toBe(
      `${file}:1:1: when using JSON array syntax, arrays must be comprised of strings only\n`,
    );
  });
});
