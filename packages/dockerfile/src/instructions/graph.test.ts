import { describe, expect, it } from 'vitest';
import { parse } from '../parser/parse.js';
import { processWord } from '../shell/lex.js';
import { DockerfileError, expandCommand, parseInstructions, resolveBuildGraph } from './index.js';
import type { BuildGraphOptions, Command } from './index.js';

function graph(text: string, options?: BuildGraphOptions) {
  return resolveBuildGraph(parseInstructions(parse(text)), options);
}

function failure(text: string, options?: BuildGraphOptions): { message: string; line: number } {
  try {
    graph(text, options);
  } catch (err) {
    expect(err).toBeInstanceOf(DockerfileError);
    const e = err as DockerfileError;
    return { message: e.message, line: e.line };
  }
  throw new Error('expected an error');
}

const MULTI = `ARG GO=1.22
ARG BASE=alpine
FROM golang:\${GO} AS build
RUN go build
FROM build AS test
RUN go test
FROM \${BASE} AS assets
COPY x /x
FROM scratch AS final
COPY --from=build /app /app
COPY --from=2 /x /x
COPY --from=nginx:latest /etc/nginx /etc/nginx
RUN --mount=from=test,target=/t true
FROM busybox AS unrelated
`;

describe('the stage graph', () => {
  it('expands FROM with meta args and links stages', () => {
    const g = graph(MULTI);
    expect(g.stages.map((s) => [s.displayName, s.baseName, s.base])).toEqual([
      ['build', 'golang:1.22', { kind: 'image', ref: 'golang:1.22' }],
      ['test', 'build', { kind: 'stage', index: 0 }],
      ['assets', 'alpine', { kind: 'image', ref: 'alpine' }],
      ['final', 'scratch', { kind: 'scratch' }],
      ['unrelated', 'busybox', { kind: 'image', ref: 'busybox' }],
    ]);
    expect([...g.stages[0]!.usedArgs]).toEqual(['GO']);
    expect(g.stages[3]!.dependencies.map((d) => [d.via, d.source])).toEqual([
      ['copy-from', { kind: 'stage', index: 0 }],
      ['copy-from', { kind: 'stage', index: 2 }],
      ['copy-from', { kind: 'image', ref: 'nginx:latest' }],
      ['mount-from', { kind: 'stage', index: 1 }],
    ]);
  });

  it('builds the last stage by default and prunes to what a target needs', () => {
    const g = graph(MULTI);
    expect(g.target.displayName).toBe('unrelated');
    expect(g.stagesFor().map((s) => s.displayName)).toEqual(['unrelated']);
    expect(g.stagesFor('FINAL').map((s) => s.displayName)).toEqual([
      'build',
      'test',
      'assets',
      'final',
    ]);
    expect(g.stagesFor('test').map((s) => s.displayName)).toEqual(['build', 'test']);
    expect(
      graph(MULTI, { target: 'assets' })
        .stagesFor()
        .map((s) => s.displayName),
    ).toEqual(['assets']);
  });

  it('lets build-args override meta ARG defaults and platform args', () => {
    const g = graph('ARG GO=1\nFROM --platform=$BUILDPLATFORM golang:$GO-$TARGETARCH\n', {
      buildArgs: { GO: '2' },
      buildPlatform: { os: 'linux', architecture: 'amd64' },
      targetPlatform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    });
    expect(g.stages[0]!.baseName).toBe('golang:2-arm64');
    expect(g.stages[0]!.platform).toBe('linux/amd64');
    expect(g.globalArgs.get('TARGETPLATFORM')).toBe('linux/arm64/v8');
    expect(g.globalArgs.get('TARGETVARIANT')).toBe('v8');
    expect(g.globalArgs.get('TARGETSTAGE')).toBe('default');
  });

  it('looks up FROM <stage> with the exact text (BuildKit quirk)', () => {
    const g = graph('FROM alpine AS builder\nFROM Builder\n');
    expect(g.stages[1]!.base).toEqual({ kind: 'image', ref: 'Builder' });
  });

  it('treats a stage named later in the file as an image in FROM', () => {
    const g = graph('FROM later\nFROM alpine AS later\n');
    expect(g.stages[0]!.base).toEqual({ kind: 'image', ref: 'later' });
  });

  it.each([
    [
      'FROM a\nCOPY --from=later /x /x\nFROM b AS later\n',
      'cannot copy from stage "later", it needs to be defined before current stage "stage-0"',
      2,
    ],
    ['FROM a\nCOPY --from=5 /x /x\n', 'invalid stage index 5', 2],
    ['FROM a\nCOPY --from=-1 /x /x\n', 'invalid stage index -1', 2],
    ['ARG X\nFROM $X\n', 'base name ($X) should not be blank', 2],
    ['FROM --platform=$NOPE a\n', 'empty platform value from expression $NOPE', 1],
    ['FROM ${X\n', 'failed to process "${X": unsupported modifier (\uFFFD) in substitution', 1],
    [
      'FROM b AS a\nCOPY --from=b /x /x\nFROM a AS b\n',
      'circular dependency detected on stage: a',
      1,
    ],
    ['ARG A\n', 'dockerfile contains no stages to build', 1],
    [
      'FROM --platform=linux/ a\n',
      'failed to parse platform linux/: "" is an invalid component of "linux/": platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument',
      1,
    ],
    [
      'FROM --platform=amd65 a\n',
      'failed to parse platform amd65: "amd65": unknown operating system or architecture: invalid argument',
      1,
    ],
    [
      'FROM --platform=a/b/c/d a\n',
      'failed to parse platform a/b/c/d: "a/b/c/d": cannot parse platform specifier: invalid argument',
      1,
    ],
  ])('rejects %j', (text, message, line) => {
    expect(failure(text)).toEqual({ message, line });
  });

  it('follows ONBUILD triggers of a base stage into the stages that build on it', () => {
    const g = graph(
      'FROM alpine AS assets\nFROM alpine AS base\nONBUILD COPY --from=assets /a /a\nFROM base AS app\nFROM scratch AS other\n',
    );
    const app = g.findStage('app')!;
    expect(app.dependencies).toMatchObject([
      { source: { kind: 'stage', index: 0 }, via: 'copy-from', onbuild: true },
    ]);
    expect(app.dependencies[0]!.instruction.range.start.line).toBe(4);
    expect(g.stagesFor('app').map((s) => s.displayName)).toEqual(['assets', 'base', 'app']);
    expect(g.findStage('base')!.dependencies).toEqual([]);
  });

  it('reports an unknown target', () => {
    expect(() => graph('FROM a AS x\n', { target: 'y' })).toThrow(
      'target stage "y" could not be found',
    );
  });
});

function cmd(text: string): Command {
  return parseInstructions(parse(`FROM a\n${text}\n`)).stages[0]!.commands[0]!;
}

describe('which instructions expand variables', () => {
  const env = { A: 'x', B: 'y z' };
  const expanders = { word: (w: string) => processWord(w, env) };

  it('expands ENV and LABEL keys and values, removing quotes', () => {
    expect(expandCommand(cmd('ENV $A="$B" K=\'$A\''), expanders)).toMatchObject({
      env: [
        { key: 'x', value: 'y z' },
        { key: 'K', value: '$A' },
      ],
    });
  });

  it('expands COPY paths, chown and chmod but never --from', () => {
    expect(
      expandCommand(cmd('COPY --from=$A --chown=$A --chmod=$A $A/* /$A/'), expanders),
    ).toMatchObject({
      from: '$A',
      chown: 'x',
      chmod: 'x',
      sources: ['x/*'],
      dest: '/x/',
    });
  });

  it('expands WORKDIR, USER, VOLUME, STOPSIGNAL and ADD --checksum', () => {
    expect(expandCommand(cmd('WORKDIR /$A'), expanders)).toMatchObject({ path: '/x' });
    expect(expandCommand(cmd('USER $A'), expanders)).toMatchObject({ user: 'x' });
    expect(expandCommand(cmd('VOLUME /$A /b'), expanders)).toMatchObject({ volumes: ['/x', '/b'] });
    expect(expandCommand(cmd('STOPSIGNAL SIG$A'), expanders)).toMatchObject({ signal: 'SIGx' });
    expect(expandCommand(cmd('ADD --checksum=$A u /d'), expanders)).toMatchObject({
      checksum: 'x',
    });
  });

  it('expands RUN mount values but leaves the command alone', () => {
    const run = expandCommand(cmd('RUN --mount=type=cache,target=/$A echo $A'), expanders);
    expect(run).toMatchObject({ command: ['echo $A'], mounts: [{ type: 'cache', target: '/x' }] });
  });

  it('leaves CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD and MAINTAINER alone', () => {
    for (const line of [
      'CMD $A',
      'ENTRYPOINT $A',
      'SHELL ["$A"]',
      'HEALTHCHECK CMD $A',
      'ONBUILD RUN $A',
      'MAINTAINER $A',
    ]) {
      const c = cmd(line);
      expect(expandCommand(c, expanders)).toBe(c);
    }
  });

  it('expands heredoc sources with the raw expander only when unquoted', () => {
    const raw = (w: string) => processWord(w, env, { skipProcessQuotes: true });
    const copy = expandCommand(cmd('COPY <<A <<"B" /d/\n"$A" \\$A\nA\n$A\nB'), {
      ...expanders,
      raw,
    });
    expect(copy).toMatchObject({
      sourceContents: [
        { name: 'A', data: '"x" $A\n' },
        { name: 'B', data: '$A\n' },
      ],
    });
  });
});
