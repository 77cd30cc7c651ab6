import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from '../parser/parse.js';
import { lint, parseLintConfig, RULES } from './index.js';
import type { LintOptions } from './index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const conformance =
  process.env.LAB_BUILDKIT_CONFORMANCE ?? path.resolve(repoRoot, '../shared/conformance/buildkit');

/** `LINE:COL Rule: message` for each warning. */
function check(text: string, options?: LintOptions): string[] {
  const r = lint(text, options);
  expect(r.error).toBeUndefined();
  return r.warnings.map((w) => `${w.line}:${w.column} ${w.rule}: ${w.message}`);
}

describe('each build check', () => {
  it('StageNameCasing', () => {
    expect(check('FROM alpine AS Builder\n')).toEqual([
      "1:1 StageNameCasing: Stage name 'Builder' should be lowercase",
    ]);
  });

  it('FromAsCasing', () => {
    expect(check('FROM alpine as builder\n')).toEqual([
      "1:1 FromAsCasing: 'as' and 'FROM' keywords' casing do not match",
    ]);
    expect(check('from alpine AS builder\n')).toEqual([
      "1:1 FromAsCasing: 'AS' and 'from' keywords' casing do not match",
    ]);
    // A mixed-case FROM is left to ConsistentInstructionCasing.
    expect(check('From alpine as builder\n')).toEqual([
      "1:1 ConsistentInstructionCasing: Command 'From' should match the case of the command majority (uppercase)",
    ]);
  });

  it('NoEmptyContinuation', () => {
    expect(check('FROM alpine\nRUN echo a \\\n\n  b\n')).toEqual([
      '2:1 NoEmptyContinuation: Empty continuation line',
    ]);
  });

  it('ConsistentInstructionCasing', () => {
    expect(check('FROM alpine\nrun echo\nRUN echo\n')).toEqual([
      "2:1 ConsistentInstructionCasing: Command 'run' should match the case of the command majority (uppercase)",
    ]);
    expect(check('from alpine\nrun a\nRun b\n')).toEqual([
      "3:1 ConsistentInstructionCasing: Command 'Run' should match the case of the command majority (lowercase)",
    ]);
  });

  it('DuplicateStageName', () => {
    expect(check('FROM alpine AS a\nFROM alpine AS a\n')).toEqual([
      '2:1 DuplicateStageName: Duplicate stage name "a", stage names should be unique',
    ]);
  });

  it('ReservedStageName', () => {
    expect(check('FROM alpine AS scratch\n')).toEqual([
      '1:1 ReservedStageName: Stage name should not use the same name as reserved stage "scratch"',
    ]);
  });

  it('JSONArgsRecommended, unless a SHELL is set', () => {
    expect(check('FROM alpine\nENTRYPOINT my-app --serve\n')).toEqual([
      '2:1 JSONArgsRecommended: JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals',
    ]);
    expect(check('FROM alpine\nSHELL ["/bin/ash", "-c"]\nCMD my-app\n')).toEqual([]);
    expect(check('FROM alpine\nCMD ["my-app"]\n')).toEqual([]);
  });

  it('MaintainerDeprecated', () => {
    expect(check('FROM alpine\nMAINTAINER me\n')).toEqual([
      '2:1 MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label',
    ]);
  });

  it('UndefinedArgInFrom, with a suggestion', () => {
    expect(check('ARG VERSION=1\nFROM alpine:${VERSIN}\n')).toEqual([
      '2:1 InvalidDefaultArgInFrom: Default value for ARG alpine:${VERSIN} results in empty or invalid base image name',
      "2:1 UndefinedArgInFrom: FROM argument 'VERSIN' is not declared (did you mean VERSION?)",
    ]);
    expect(check('FROM --platform=$BUILDPLATFORM alpine\n')).toEqual([]);
  });

  it('WorkdirRelativePath, only for the first WORKDIR of a stage chain', () => {
    expect(check('FROM alpine\nWORKDIR app\nWORKDIR sub\n')).toEqual([
      '2:1 WorkdirRelativePath: Relative workdir "app" can have unexpected results if the base image changes',
    ]);
    expect(check('FROM alpine AS a\nWORKDIR /app\nFROM a\nWORKDIR sub\n')).toEqual([]);
  });

  it('UndefinedVar, with a suggestion, when the base environment is known', () => {
    expect(check('FROM scratch\nENV FOO=1\nCOPY $FO0 /x\n')).toEqual([
      "3:1 UndefinedVar: Usage of undefined variable '$FO0' (did you mean $FOO?)",
    ]);
    expect(check('FROM scratch\nARG DECLARED\nCOPY $DECLARED /x\n')).toEqual([]);
    expect(check('FROM scratch\nENV P=$PATH:/x\n')).toEqual([]);
    // The base image may define it: quiet unless its environment is known.
    expect(check('FROM golang\nENV X=$GOPATH/bin\n')).toEqual([]);
    expect(
      check('FROM golang\nENV X=$GOPATH/bin Y=$Y\n', { imageEnv: () => ['GOPATH=/go'] }),
    ).toEqual(["2:1 UndefinedVar: Usage of undefined variable '$Y'"]);
    expect(check('FROM alpine\nWORKDIR /$DIR\n', { imageEnv: () => [] })).toEqual([
      "2:1 UndefinedVar: Usage of undefined variable '$DIR'",
    ]);
  });

  it('MultipleInstructionsDisallowed reports the earlier instruction', () => {
    expect(
      check('FROM alpine\nCMD ["a"]\nHEALTHCHECK NONE\nCMD ["b"]\nHEALTHCHECK NONE\n'),
    ).toEqual([
      '2:1 MultipleInstructionsDisallowed: Multiple CMD instructions should not be used in the same stage because only the last one will be used',
      '3:1 MultipleInstructionsDisallowed: Multiple HEALTHCHECK instructions should not be used in the same stage because only the last one will be used',
    ]);
  });

  it('MultipleInstructionsDisallowed follows the check comment of the later instruction', () => {
    expect(
      check('FROM alpine\nCMD ["a"]\n# check=skip=MultipleInstructionsDisallowed\nCMD ["b"]\n'),
    ).toEqual([]);
  });

  it('LegacyKeyValueFormat', () => {
    expect(check('FROM alpine\nENV A b c\nLABEL x y\n')).toEqual([
      '2:1 LegacyKeyValueFormat: "ENV key=value" should be used instead of legacy "ENV key value" format',
      '3:1 LegacyKeyValueFormat: "LABEL key=value" should be used instead of legacy "LABEL key value" format',
    ]);
  });

  it('RedundantTargetPlatform', () => {
    expect(check('FROM --platform=$TARGETPLATFORM alpine\n')).toEqual([
      '1:1 RedundantTargetPlatform: Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior',
    ]);
  });

  it('SecretsUsedInArgOrEnv', () => {
    expect(
      check('FROM alpine\nARG GITHUB_TOKEN\nENV DB_PASSWORD=x PUBLIC_KEY=y apikey=z\n'),
    ).toEqual([
      '2:1 SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ARG "GITHUB_TOKEN")',
      '3:1 SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ENV "DB_PASSWORD")',
      '3:1 SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ENV "apikey")',
    ]);
  });

  it('InvalidDefaultArgInFrom', () => {
    expect(check('ARG TAG\nFROM alpine:${TAG}\n')).toEqual([
      '2:1 InvalidDefaultArgInFrom: Default value for ARG alpine:${TAG} results in empty or invalid base image name',
    ]);
    expect(check('ARG TAG\nFROM alpine:${TAG}\n', { buildArgs: { TAG: '3' } })).toHaveLength(1);
    expect(check('ARG TAG=3\nFROM alpine:${TAG}\n')).toEqual([]);
  });

  it('FromPlatformFlagConstDisallowed, unless the stage name mentions the platform', () => {
    expect(check('FROM --platform=linux/arm64 alpine AS build\n')).toEqual([
      '1:1 FromPlatformFlagConstDisallowed: FROM --platform flag should not use constant value "linux/arm64"',
    ]);
    expect(check('FROM --platform=linux/arm64 alpine AS build-arm64\n')).toEqual([]);
    expect(check('FROM --platform=arm64 alpine AS b\n')).toEqual([
      '1:1 FromPlatformFlagConstDisallowed: FROM --platform flag should not use constant value "arm64"',
    ]);
  });

  it('InvalidDefinitionDescription (experimental)', () => {
    const text = 'FROM alpine\n# the version to use\nARG VERSION\n# VERSION2 ok\nARG VERSION2\n';
    expect(check(text)).toEqual([]);
    expect(check(`# check=experimental=InvalidDefinitionDescription\n${text}`)).toEqual([
      '4:1 InvalidDefinitionDescription: Comment for ARG should follow the format: `# VERSION <description>`',
    ]);
  });

  it('ExposeProtoCasing and ExposeInvalidFormat', () => {
    expect(check('FROM alpine\nEXPOSE 80/TcP 127.0.0.1:8080:80 53/udp\n')).toEqual([
      "2:1 ExposeInvalidFormat: EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:8080:80'",
      "2:1 ExposeProtoCasing: Defined protocol '80/TcP' in EXPOSE instruction should be lowercase",
    ]);
  });

  it('InvalidBaseImagePlatform, when the image platform is known', () => {
    const imagePlatform = (): { os: string; architecture: string } => ({
      os: 'linux',
      architecture: 'arm64',
    });
    expect(check('FROM alpine:3\n', { imagePlatform })).toEqual([
      '1:1 InvalidBaseImagePlatform: Base image alpine:3 was pulled with platform "linux/arm64", expected "linux/amd64" for current build',
    ]);
    expect(check('FROM --platform=linux/arm64 alpine:3 AS arm64\n', { imagePlatform })).toEqual([]);
    expect(check('FROM alpine:3\n')).toEqual([]);
  });

  it("checks a base stage's ONBUILD triggers where they run, at the child's FROM", () => {
    const text =
      'FROM scratch AS base\nONBUILD ENV A b\nONBUILD COPY $NOPE /x\nFROM base\nCMD ["x"]\n';
    expect(check(text)).toEqual([
      '4:1 LegacyKeyValueFormat: "ENV key=value" should be used instead of legacy "ENV key value" format',
      "4:1 UndefinedVar: Usage of undefined variable '$NOPE'",
    ]);
    const bad = lint('FROM scratch AS base\nONBUILD FORM x\nFROM base\n');
    expect(bad.error).toMatchObject({
      message: 'unknown instruction: FORM (did you mean FROM?)',
      line: 3,
    });
  });

  it('CopyIgnoredFile, when the .dockerignore patterns are given', () => {
    const dockerignore = ['Dockerfile', 'secrets/'];
    expect(
      check('FROM scratch\nCOPY Dockerfile .\nADD secrets/key /k\nCOPY src/ /src/\n', {
        dockerignore,
      }),
    ).toEqual([
      '2:1 CopyIgnoredFile: Attempting to Copy file "Dockerfile" that is excluded by .dockerignore',
      '3:1 CopyIgnoredFile: Attempting to Add file "secrets/key" that is excluded by .dockerignore',
    ]);
    // Copies from another stage and URLs are not context files.
    expect(
      check(
        'FROM scratch AS a\nFROM scratch\nCOPY --from=a Dockerfile .\nADD https://example.com/Dockerfile /\n',
        {
          dockerignore,
        },
      ),
    ).toEqual([]);
    // BuildKit skips the check when the file has exceptions.
    expect(
      check('FROM scratch\nCOPY ./Dockerfile .\n', { dockerignore: ['**', '!Dockerfile'] }),
    ).toEqual([]);
    expect(
      check('# check=skip=CopyIgnoredFile\nFROM scratch\nCOPY Dockerfile .\n', { dockerignore }),
    ).toEqual([]);
    expect(lint('FROM scratch\nCOPY x .\n', { dockerignore: ['['] }).error).toEqual({
      message: 'syntax error in pattern',
    });
  });

  it('rejects what BuildKit rejects while dispatching', () => {
    const error = (text: string): unknown => lint(`FROM scratch\n${text}\n`).error;
    expect(error('STOPSIGNAL SIGNOPE')).toMatchObject({
      message: 'Invalid signal: SIGNOPE',
      line: 2,
    });
    expect(error('STOPSIGNAL 0')).toMatchObject({ message: 'Invalid signal: 0' });
    expect(error('STOPSIGNAL sigrtmin+3')).toBeUndefined();
    expect(error('COPY --chmod=17777 a /b')).toMatchObject({
      message:
        "invalid chmod parameter: '17777'. it should be octal string and between 0 and 07777",
    });
    expect(error('COPY --chmod=u=rwX,go=rX a /b')).toBeUndefined();
    expect(error('ADD --checksum=sha256:abc a b /c/')).toMatchObject({
      message: "checksum can't be specified for multiple sources",
    });
    expect(error('ADD --checksum=sha256:abc a /c')).toMatchObject({
      message: "checksum can't be specified for non-HTTP(S) sources",
    });
    expect(error('ADD --checksum=sha256:abc https://example.com/a /c')).toBeUndefined();
  });

  it('refuses URLs and git sources in COPY', () => {
    expect(lint('FROM scratch\nCOPY https://example.com/x /x\n').error).toMatchObject({
      message: "source can't be a URL for COPY",
      line: 2,
    });
    expect(lint('FROM scratch\nCOPY git@github.com:moby/buildkit.git /src\n').error).toMatchObject({
      message: "source can't be a git ref for COPY",
      line: 2,
    });
  });

  it('knows every rule BuildKit defines, with its documentation link', () => {
    expect(RULES).toHaveLength(22);
    for (const rule of RULES) {
      if (rule.name === 'InvalidBaseImagePlatform') expect(rule.url).toBe('');
      else
        expect(rule.url).toMatch(/^https:\/\/docs\.docker\.com\/go\/dockerfile\/rule\/[a-z-]+\/$/);
    }
  });

  it('attaches the rule description and link to each warning', () => {
    const [w] = lint('FROM alpine\nMAINTAINER me\n').warnings;
    expect(w).toEqual({
      rule: 'MaintainerDeprecated',
      description:
        'The MAINTAINER instruction is deprecated, use a label instead to define an image author',
      url: 'https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/',
      message: 'Maintainer instruction is deprecated in favor of using label',
      line: 2,
      column: 1,
      endLine: 2,
      endColumn: 14,
    });
  });
});

describe("cases from BuildKit's lint integration tests", () => {
  it('resets a description block at an empty comment line', () => {
    const text =
      '# check=skip=all;experimental=InvalidDefinitionDescription\n# foo this is the foo\nARG foo=bar\n\n# base this is the base image\nFROM scratch AS base\n\n# version this is the version number\nARG version=latest\n\n# baz this is the baz\nARG foo=baz bar=qux baz=quux\n#\nARG bit=bat\n\n# comment for something other than ARG or FROM\nCOPY Dockerfile .\n';
    expect(check(text)).toEqual([]);
    const bad =
      '# check=experimental=InvalidDefinitionDescription\n# bar this is the bar\nARG foo=bar\n# BasE this is the BasE image\nFROM scratch AS base\n# definitely a bad comment\nARG version=latest\n# definitely a bad comment\nARG foo=baz bar=qux baz=quux\n';
    expect(check(bad).map((w) => w.split(': ').slice(1).join(': '))).toEqual([
      'Comment for ARG should follow the format: `# foo <description>`',
      'Comment for FROM should follow the format: `# base <description>`',
      'Comment for ARG should follow the format: `# version <description>`',
      'Comment for ARG should follow the format: `# <arg_key> <description>`',
    ]);
  });

  it('lets per-instruction check comments carry trailing text', () => {
    const text =
      '# check=skip=InvalidDefinitionDescription\n\nFROM scratch\nARG SECRET_PASSPHRASE\nENV SUPER_Secret=foo\nENV password=bar secret=baz\nARG super_duper_secret_token=foo auth=bar\nENV apikey=bar sunflower=foo\nENV git_key=\nENV PUBLIC_KEY=\nARG public_token\n# check=skip=SecretsUsedInArgOrEnv // allow secret in environment\nENV password=bar\n# check=skip=SecretsUsedInArgOrEnv // allow secret in arg\nARG password\n# check=skip=all // is local to only this instruction\nENV alternate_password=bar\n# check=skip=all // is local to only this instruction\nARG alternate_password\n';
    expect(
      check(text).map((w) =>
        w.replace(
          / SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data/,
          '',
        ),
      ),
    ).toEqual([
      '4:1 (ARG "SECRET_PASSPHRASE")',
      '5:1 (ENV "SUPER_Secret")',
      '6:1 (ENV "password")',
      '6:1 (ENV "secret")',
      '7:1 (ARG "super_duper_secret_token")',
      '7:1 (ARG "auth")',
      '8:1 (ENV "apikey")',
      '9:1 (ENV "git_key")',
    ]);
  });

  it('lets BUILDKIT_DOCKERFILE_CHECK replace the directive and fails at the first warning', () => {
    const text = '#check=skip=all\nFROM scratch as base\ncopy Dockerfile .\n';
    expect(lint(text)).toEqual({ warnings: [] });
    const r = lint(text, { check: 'skip=ConsistentInstructionCasing;error=true' });
    expect(r.warnings.map((w) => w.rule)).toEqual(['FromAsCasing']);
    expect(r.error).toMatchObject({
      message: 'lint violation found for rules: FromAsCasing',
      line: 2,
    });
    expect(lint('#check=error=true\nFROM scratch as base\n', { check: 'skip=all' })).toEqual({
      warnings: [],
    });
  });

  it("reports warnings before an unknown instruction with BuildKit's error", () => {
    const r = lint('\nFROM scratch AS BadStageName\nMAINTAINER me@example.org\nBADCMD\n');
    expect(r.warnings.map((w) => [w.rule, w.line])).toEqual([
      ['StageNameCasing', 2],
      ['MaintainerDeprecated', 3],
    ]);
    expect(r.error).toMatchObject({
      message: 'dockerfile parse error on line 4: unknown instruction: BADCMD',
      line: 4,
    });
  });

  it('handles declared and undeclared ARGs in FROM', () => {
    for (const text of [
      'ARG base=scratch\nFROM $base\nCOPY Dockerfile .\n',
      'ARG BUILDPLATFORM=linux/amd64\nFROM --platform=$BUILDPLATFORM scratch\n',
      'ARG DEBUG\nFROM scratch${DEBUG}\n',
      'ARG DEBUG\nFROM scra${DEBUG:-tch}\n',
      'ARG DEBUG=""\nFROM scratch${DEBUG-@bogus}\n',
    ]) {
      expect(check(text)).toEqual([]);
    }
    const typo = lint('\nFROM --platform=$BULIDPLATFORM scratch\nCOPY Dockerfile .\n');
    expect(typo.warnings.map((w) => w.message)).toEqual([
      "FROM argument 'BULIDPLATFORM' is not declared (did you mean BUILDPLATFORM?)",
    ]);
    expect(typo.error).toMatchObject({
      message: 'empty platform value from expression $BULIDPLATFORM (did you mean BUILDPLATFORM?)',
      line: 2,
    });
    const arch = lint(
      '\nARG MY_OS=linux\nARG MY_ARCH=amd64\nFROM --platform=linux/${MYARCH} busybox\n',
    );
    expect(arch.warnings.map((w) => w.message)).toEqual([
      "FROM argument 'MYARCH' is not declared (did you mean MY_ARCH?)",
    ]);
    expect(arch.error).toMatchObject({
      message:
        'failed to parse platform linux/${MYARCH}: "" is an invalid component of "linux/": platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument (did you mean MY_ARCH?)',
      line: 4,
    });
    expect(check('\nARG tag=latest\nFROM busybox:${tag}${version} AS b\n')).toEqual([
      "3:1 UndefinedArgInFrom: FROM argument 'version' is not declared",
    ]);
  });

  it('checks InvalidDefaultArgInFrom with the defaults only', () => {
    expect(
      check('\nARG VERSION\nFROM busybox:$VERSION\n', { buildArgs: { VERSION: 'latest' } }),
    ).toEqual([
      '3:1 InvalidDefaultArgInFrom: Default value for ARG busybox:$VERSION results in empty or invalid base image name',
    ]);
    expect(
      check('\nARG SFX="box:"\nFROM busy${SFX}\n', { buildArgs: { SFX: 'box:latest' } }),
    ).toEqual([
      '3:1 InvalidDefaultArgInFrom: Default value for ARG busy${SFX} results in empty or invalid base image name',
    ]);
    expect(check('\nARG BUSYBOX_VARIANT=""\nFROM busybox:stable${BUSYBOX_VARIANT}\n')).toEqual([]);
  });

  it('follows variables through stages and reports typos with a suggestion', () => {
    const known = {
      imageEnv: () => ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    };
    expect(
      check('\nFROM alpine AS base\nARG foo=Dockerfile\n\nFROM base\nCOPY $foo .\n', known),
    ).toEqual([]);
    expect(check('\nFROM alpine\nCOPY $foo .\nARG foo=bar\nRUN echo $foo\n', known)).toEqual([
      "3:1 UndefinedVar: Usage of undefined variable '$foo'",
    ]);
    expect(
      check(
        '\nFROM alpine\nARG DIR_BINARIES=binaries/\nARG DIR_ASSETS=assets/\nARG DIR_CONFIG=config/\nCOPY $DIR_ASSET .\n',
        known,
      ),
    ).toEqual([
      "6:1 UndefinedVar: Usage of undefined variable '$DIR_ASSET' (did you mean $DIR_ASSETS?)",
    ]);
    expect(check('\nFROM alpine\nENV PATH=$PAHT:/tmp/bin\n', known)).toEqual([
      "3:1 UndefinedVar: Usage of undefined variable '$PAHT' (did you mean $PATH?)",
    ]);
  });

  it('keeps MultipleInstructionsDisallowed within one stage', () => {
    expect(
      check(
        '\nFROM scratch AS a\nENTRYPOINT ["/myapp"]\nCMD ["/myapp"]\nHEALTHCHECK CMD ["/myapp"]\n\nFROM a AS b\nENTRYPOINT ["/myotherapp"]\nCMD ["/myotherapp"]\nHEALTHCHECK CMD ["/myotherapp"]\n',
      ),
    ).toEqual([]);
  });

  it('accepts stage names that mention the constant platform', () => {
    expect(check('\nFROM --platform=linux/amd64 scratch AS my_amd64_stage\n')).toEqual([]);
    expect(check('\nFROM --platform=linux/amd64 scratch AS linux\n')).toEqual([]);
  });

  it('reports each EXPOSE spec with an IP or host port', () => {
    expect(
      check('\nFROM scratch\nEXPOSE 127.0.0.1:80:80 [::1]:8080:8080 5000:5000 8000\n').map(
        (w) => w.split('found ')[1],
      ),
    ).toEqual(["'127.0.0.1:80:80'", "'5000:5000'", "'[::1]:8080:8080'"]);
  });
});

describe('check configuration', () => {
  const noisy = 'FROM alpine as Build\nMAINTAINER me\n';

  it('parses skip, error and experimental like BuildKit', () => {
    expect(parseLintConfig(' skip = A, B ;error=TRUE;experimental=all')).toEqual({
      skipAll: false,
      skip: ['A', 'B'],
      experimentalAll: true,
      experimental: [],
      error: true,
    });
    expect(() => parseLintConfig('skip')).toThrow('invalid check option "skip"');
    expect(() => parseLintConfig('foo=bar')).toThrow('invalid check option "foo"');
    expect(() => parseLintConfig('error=maybe')).toThrow(
      'failed to parse check option "error=maybe": strconv.ParseBool: parsing "maybe": invalid syntax',
    );
  });

  it('honours # check=skip=… at the top of the file', () => {
    expect(check(`# check=skip=FromAsCasing,MaintainerDeprecated\n${noisy}`)).toEqual([
      "2:1 StageNameCasing: Stage name 'Build' should be lowercase",
    ]);
    expect(check(`# check=skip=all\n${noisy}`)).toEqual([]);
  });

  it('lets the check option replace the directive', () => {
    expect(
      check(`# check=skip=all\n${noisy}`, { check: 'skip=StageNameCasing,FromAsCasing' }),
    ).toEqual([
      '3:1 MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label',
    ]);
  });

  it('turns warnings into an error with error=true', () => {
    const r = lint(`# check=error=true\n${noisy}`);
    expect(r.warnings).toHaveLength(3);
    expect(r.error?.message).toMatch(/^lint violation found for rules: /);
    expect(r.error?.message.split(': ')[1]?.split(', ').sort()).toEqual([
      'FromAsCasing',
      'MaintainerDeprecated',
      'StageNameCasing',
    ]);
    expect(lint('# check=error=true\nFROM alpine\n').error).toBeUndefined();
  });

  it('honours a # check= comment directly above an instruction', () => {
    expect(
      check('FROM alpine\n# check=skip=MaintainerDeprecated\nMAINTAINER me\nMAINTAINER you\n'),
    ).toEqual([
      '4:1 MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label',
    ]);
  });

  it('reports a bad check directive as an error', () => {
    expect(lint('# check=nope\nFROM alpine\n').error).toEqual({
      message: 'failed to parse check options: invalid check option "nope"',
    });
  });
});

describe('errors stop the run and carry a position', () => {
  it.each([
    ['', 'the Dockerfile cannot be empty', undefined],
    ['# only a comment\n', 'file with no instructions', 1],
    ['ARG A\n', 'dockerfile contains no stages to build', undefined],
    [
      'FROM alpine\nFORM x\n',
      'dockerfile parse error on line 2: unknown instruction: FORM (did you mean FROM?)',
      2,
    ],
    ['RUN x\nFROM alpine\n', 'no build stage in current context', 1],
    [
      'FROM alpine\nCOPY --chownn=1 a b\n',
      'dockerfile parse error on line 2: unknown flag: --chownn (did you mean chown?)',
      2,
    ],
    ['FROM alpine\nENV A=${B:-x\n', 'failed to process "${B:-x": syntax error: missing \'}\'', 2],
    ['ARG X\nFROM ${X}\n', 'base name (${X}) should not be blank', 2],
    ['FROM alpine\nEXPOSE 80/xyz\n', 'invalid port: "80/xyz": invalid proto: xyz', 2],
    ['FROM alpine\nEXPOSE 70000\n', 'invalid containerPort: 70000', 2],
    ['FROM alpine\nEXPOSE 1.2.3:80:80\n', 'invalid IP address: 1.2.3', 2],
  ])('%j', (text, message, line) => {
    const r = lint(text);
    expect(r.error?.message).toBe(message);
    expect(r.error?.line).toBe(line);
  });

  it('keeps the warnings found before the error', () => {
    const r = lint('FROM alpine AS Build\nRUN --network=bridge x\n');
    expect(r.warnings.map((w) => w.rule)).toEqual(['StageNameCasing']);
    expect(r.error).toMatchObject({
      message: 'dockerfile parse error on line 2: network mode "bridge" not supported',
      line: 2,
      column: 1,
    });
  });

  it('accepts a parse result instead of text', () => {
    expect(lint(parse('# check=skip=all\nFROM alpine AS X\n')).warnings).toEqual([]);
    expect(lint(parse('FROM alpine AS X\n')).warnings.map((w) => w.rule)).toEqual([
      'StageNameCasing',
    ]);
  });
});

describe('real Dockerfiles from the upstream parser data', () => {
  const dir = path.join(conformance, 'parser');
  const cases = readdirSync(dir).sort();

  it('lints every case without crashing and reports BuildKit errors for the invalid ones', () => {
    const errors: Record<string, string | undefined> = {};
    for (const name of cases) {
      const r = lint(readFileSync(path.join(dir, name, 'Dockerfile'), 'utf8'));
      errors[name] = r.error?.message;
    }
    expect(errors.flags).toBe('dockerfile parse error on line 3: unknown flag: --user');
    expect(errors.health).toBe(
      'dockerfile parse error on line 4: HEALTHCHECK requires at least one argument',
    );
    expect(errors.json).toBe('no build stage in current context');
    expect(errors.docker).toBeUndefined();
  });

  it('finds the legacy ENV/LABEL forms and shell-form CMD in the docker case', () => {
    const r = lint(readFileSync(path.join(dir, 'docker', 'Dockerfile'), 'utf8'));
    const rules = new Set(r.warnings.map((w) => w.rule));
    expect(rules).toContain('LegacyKeyValueFormat');
    const first = r.warnings.find((w) => w.rule === 'LegacyKeyValueFormat')!;
    expect(first.message).toBe(
      '"LABEL key=value" should be used instead of legacy "LABEL key value" format',
    );
  });

  it('reports the empty continuation lines of parser-warnings', () => {
    const text = readFileSync(path.join(conformance, 'parser-warnings', 'Dockerfile'), 'utf8');
    const r = lint(text);
    expect(r.warnings.filter((w) => w.rule === 'NoEmptyContinuation')).toHaveLength(2);
  });
});
