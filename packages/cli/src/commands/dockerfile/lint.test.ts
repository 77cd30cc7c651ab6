import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { commitImage, openImageStore } from '@lab/layers';
import { hostPlatform } from '@lab/oci';
import { runLab, type LabResult } from '../../../test/harness.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');
const dataDir =
  process.env['LAB_BUILDKIT_CONFORMANCE'] ??
  path.resolve(repoRoot, '../shared/conformance/buildkit');

const dir = mkdtempSync(path.join(os.tmpdir(), 'lab-lint-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  writeFileSync(path.join(dir, name), text);
  return name;
}

function lab(argv: string[], stdin = ''): Promise<LabResult> {
  return runLab(argv, { stdin, cwd: dir, version: '0.0.0-test' });
}

describe('lab dockerfile lint', () => {
  it('prints FILE:LINE:COL Rule: message and exits 1 when a check fires', async () => {
    const name = file('Dockerfile.warn', 'FROM alpine as Build\nMAINTAINER me\nCMD run\n');
    const res = await lab(['dockerfile', 'lint', name]);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe(
      [
        "Dockerfile.warn:1:1 FromAsCasing: 'as' and 'FROM' keywords' casing do not match",
        "Dockerfile.warn:1:1 StageNameCasing: Stage name 'Build' should be lowercase",
        'Dockerfile.warn:2:1 MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label',
        'Dockerfile.warn:3:1 JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals',
        '',
      ].join('\n'),
    );
    expect(res.stderr).toBe('');
  });

  it('exits 0 and prints nothing for a clean Dockerfile', async () => {
    const name = file('Dockerfile.clean', 'FROM alpine AS build\nRUN echo hi\nCMD ["sh"]\n');
    expect(await lab(['dockerfile', 'lint', name])).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('exits 2 with the position of a parse error', async () => {
    const name = file('Dockerfile.bad', 'FROM alpine\nRUN <<EOF\necho\n');
    const res = await lab(['dockerfile', 'lint', name]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^Dockerfile\.bad:2:1: unterminated heredoc\n$/);
  });

  it('exits 2 with the position of an instruction error, after the warnings before it', async () => {
    const res = await lab(['dockerfile', 'lint', '-'], 'FROM alpine AS X\nFORM y\n');
    expect(res.code).toBe(2);
    expect(res.stdout).toBe("<stdin>:1:1 StageNameCasing: Stage name 'X' should be lowercase\n");
    expect(res.stderr).toBe(
      '<stdin>:2:1: dockerfile parse error on line 2: unknown instruction: FORM (did you mean FROM?)\n',
    );
  });

  it('prints JSON with --format json', async () => {
    const res = await lab(
      ['dockerfile', 'lint', '--format', 'json', '-'],
      'FROM alpine\nENV A b\n',
    );
    expect(res.code).toBe(1);
    const out = JSON.parse(res.stdout) as {
      file: string;
      warnings: { rule: string; url: string; line: number }[];
    };
    expect(out.file).toBe('<stdin>');
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toMatchObject({
      rule: 'LegacyKeyValueFormat',
      url: 'https://docs.docker.com/go/dockerfile/rule/legacy-key-value-format/',
      line: 2,
    });
  });

  it('passes --build-arg, --target and --check through', async () => {
    const text = 'ARG TAG\nFROM alpine:${TAG} AS a\nFROM scratch AS b\nMAINTAINER me\n';
    const name = file('Dockerfile.opts', text);
    const all = await lab(['dockerfile', 'lint', name]);
    expect(
      all.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ')[1]),
    ).toEqual(['InvalidDefaultArgInFrom:', 'MaintainerDeprecated:']);
    const skipped = await lab([
      'dockerfile',
      'lint',
      '--check',
      'skip=InvalidDefaultArgInFrom',
      '--target',
      'a',
      name,
    ]);
    // MAINTAINER is found while parsing, before any stage is chosen.
    expect(skipped.stdout).toBe(
      'Dockerfile.opts:4:1 MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label\n',
    );
    const bad = await lab(['dockerfile', 'lint', '--build-arg', 'NOEQUALS', name]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain('--build-arg NOEQUALS: expected KEY=VALUE');
  });

  it('fails with exit 1 when # check=error=true turns warnings into an error', async () => {
    const res = await lab(
      ['dockerfile', 'lint', '-'],
      '# check=error=true\nFROM alpine\nMAINTAINER me\n',
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toBe('<stdin>:3:1: lint violation found for rules: MaintainerDeprecated\n');
  });

  it("reads a base image's Env from the local store for UndefinedVar", async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'lab-lint-root-'));
    try {
      const text = 'FROM example.com/golang:1\nENV BIN=$GOPATH/bin X=$GOPTH\n';
      // Without a store the base image's variables are unknown: nothing is reported.
      const unknown = await lab(['--root', root, 'dockerfile', 'lint', '-'], text);
      expect(unknown).toEqual({ code: 0, stdout: '', stderr: '' });
      expect(existsSync(path.join(root, 'index.json'))).toBe(false);
      const store = await openImageStore(root);
      await commitImage(store, {
        config: {
          architecture: hostPlatform().architecture,
          os: hostPlatform().os,
          config: { Env: ['PATH=/usr/local/go/bin:/usr/bin', 'GOPATH=/go'] },
        },
        layers: [],
        name: 'example.com/golang:1',
      });
      const known = await lab(['--root', root, 'dockerfile', 'lint', '-'], text);
      expect(known.code).toBe(1);
      expect(known.stdout).toBe(
        "<stdin>:2:1 UndefinedVar: Usage of undefined variable '$GOPTH' (did you mean $GOPATH?)\n",
      );
      // The image was committed for this machine's platform; asking for another one is flagged.
      const other = hostPlatform().architecture === 'arm64' ? 'amd64' : 'arm64';
      const cross = await lab(
        ['--root', root, 'dockerfile', 'lint', '-'],
        `FROM --platform=linux/${other} example.com/golang:1 AS build-${other}\n`,
      );
      expect(cross.stdout).toBe(
        `<stdin>:1:1 InvalidBaseImagePlatform: Base image example.com/golang:1 was pulled with platform "linux/${hostPlatform().architecture}", expected "linux/${other}" for current build\n`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('uses the .dockerignore of the context for CopyIgnoredFile', async () => {
    const ctxDir = mkdtempSync(path.join(os.tmpdir(), 'lab-lint-ctx-'));
    try {
      writeFileSync(path.join(ctxDir, '.dockerignore'), '# local only\n*.env\n');
      writeFileSync(path.join(ctxDir, 'Dockerfile'), 'FROM scratch\nCOPY prod.env /etc/app.env\n');
      const res = await lab(['dockerfile', 'lint', path.join(ctxDir, 'Dockerfile')]);
      expect(res.code).toBe(1);
      expect(res.stdout).toBe(
        `${path.join(ctxDir, 'Dockerfile')}:2:1 CopyIgnoredFile: Attempting to Copy file "prod.env" that is excluded by .dockerignore\n`,
      );
      // <Dockerfile>.dockerignore next to the Dockerfile wins over the context's file.
      writeFileSync(path.join(ctxDir, 'Dockerfile.dockerignore'), 'other\n');
      const own = await lab(['dockerfile', 'lint', path.join(ctxDir, 'Dockerfile')]);
      expect(own).toEqual({ code: 0, stdout: '', stderr: '' });
      // Standard input has no context unless one is given.
      const text = 'FROM scratch\nCOPY prod.env /x\n';
      expect((await lab(['dockerfile', 'lint', '-'], text)).code).toBe(0);
      expect((await lab(['dockerfile', 'lint', '--context', ctxDir, '-'], text)).code).toBe(1);
    } finally {
      rmSync(ctxDir, { recursive: true, force: true });
    }
  });

  it('reports a missing file as not found', async () => {
    const res = await lab(['dockerfile', 'lint', 'nope/Dockerfile']);
    expect(res.code).toBe(125);
    expect(res.stderr).toContain('nope/Dockerfile: no such file');
  });

  it('lints the upstream docker Dockerfile', async () => {
    const text = readFileSync(path.join(dataDir, 'parser', 'docker', 'Dockerfile'), 'utf8');
    const res = await lab(['dockerfile', 'lint', '-'], text);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('<stdin>:');
    expect(res.stdout).toContain(
      ' LegacyKeyValueFormat: "ENV key=value" should be used instead of legacy "ENV key value" format',
    );
  });
});
