import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from '../parser/parse.js';
import { DockerfileError, parseInstructions } from './index.js';
import type { Command, ParsedDockerfile } from './index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const conformance =
  process.env.LAB_BUILDKIT_CONFORMANCE ?? path.resolve(repoRoot, '../shared/conformance/buildkit');

function parsed(text: string): ParsedDockerfile {
  return parseInstructions(parse(text));
}

function commands(text: string): readonly Command[] {
  return parsed(text).stages.at(-1)!.commands;
}

function only<K extends Command['kind']>(text: string, kind: K): Extract<Command, { kind: K }> {
  const cmds = commands(text);
  const cmd = cmds[cmds.length - 1]!;
  expect(cmd.kind).toBe(kind);
  return cmd as Extract<Command, { kind: K }>;
}

function failure(text: string): { message: string; line: number; column: number } {
  try {
    parsed(text);
  } catch (err) {
    expect(err).toBeInstanceOf(DockerfileError);
    const e = err as DockerfileError;
    expect(e.code).toBe('invalid-argument');
    return { message: e.message, line: e.line, column: e.column };
  }
  throw new Error('expected the Dockerfile to be rejected');
}

describe('upstream parser cases through the instruction layer', () => {
  const rejected: Record<string, { line: number; message: string }> = {
    flags: { line: 3, message: 'unknown flag: --user' },
    health: { line: 4, message: 'HEALTHCHECK requires at least one argument' },
    json: { line: 1, message: 'no build stage in current context' },
  };
  const dir = path.join(conformance, 'parser');
  const cases = readdirSync(dir).sort();
  it('finds the 33 cases', () => {
    expect(cases).toHaveLength(33);
  });
  it.each(cases)('%s', (name) => {
    const text = readFileSync(path.join(dir, name, 'Dockerfile'), 'utf8');
    const expected = name.startsWith('jeztah-invalid-json')
      ? { line: 1, message: 'no build stage in current context' }
      : rejected[name];
    if (expected === undefined) {
      const r = parsed(text);
      expect(r.stages.length).toBeGreaterThan(0);
      return;
    }
    const f = failure(text);
    expect(f.message).toBe(expected.message);
    expect(f.line).toBe(expected.line);
  });

  it('types the instructions of the docker case', () => {
    const text = readFileSync(path.join(dir, 'docker', 'Dockerfile'), 'utf8');
    const stage = parsed(text).stages[0]!;
    expect(stage.from.image).toBe('ubuntu:14.04');
    const [label, run] = stage.commands;
    expect(label).toMatchObject({ kind: 'label', keyword: 'LABEL' });
    expect(label?.kind === 'label' && label.labels[0]).toEqual({
      key: 'maintainer',
      value: 'Tianon Gravi <admwiggin@gmail.com> (@tianon)',
      noDelim: true,
    });
    expect(run).toMatchObject({ kind: 'run', prependShell: true });
    const env = stage.commands.find((c) => c.kind === 'env');
    expect(env).toMatchObject({
      env: [{ key: 'PATH', value: '/usr/local/go/bin:$PATH', noDelim: true }],
    });
  });
});

describe('FROM and stages', () => {
  it('reads image, lower-cased stage name and platform', () => {
    const r = parsed('ARG V=1\nFROM --platform=$BUILDPLATFORM golang:$V As Builder\nRUN true\n');
    expect(r.metaArgs).toHaveLength(1);
    expect(r.metaArgs[0]!.args).toEqual([{ key: 'V', value: '1' }]);
    const from = r.stages[0]!.from;
    expect(from).toMatchObject({
      kind: 'from',
      image: 'golang:$V',
      name: 'builder',
      rawName: 'Builder',
      asKeyword: 'As',
      platform: '$BUILDPLATFORM',
    });
    expect(r.stages[0]!.name).toBe('builder');
    expect(r.stages[0]!.index).toBe(0);
  });

  it('rejects a bad stage name and a wrong argument count', () => {
    expect(failure('FROM a AS 1x\n')).toEqual({
      message: `invalid name for build stage: "1x", name can't start with a number or contain symbols`,
      line: 1,
      column: 1,
    });
    expect(failure('FROM a b\n').message).toBe('FROM requires either one or three arguments');
    expect(failure('FROM\n').message).toBe('FROM requires either one or three arguments');
  });

  it('suggests the closest flag for an unknown one', () => {
    expect(failure('FROM --platfrom=linux/amd64 a\n').message).toBe(
      'unknown flag: --platfrom (did you mean platform?)',
    );
  });

  it('takes the stage description from a "# <name> <text>" comment', () => {
    const r = parsed('# base the base image\nFROM alpine AS base\n');
    expect(r.stages[0]!.description).toBe('the base image');
  });

  it('refuses instructions before the first FROM except ARG', () => {
    expect(failure('ARG a\n\nRUN x\nFROM b\n')).toEqual({
      message: 'no build stage in current context',
      line: 3,
      column: 1,
    });
  });
});

describe('unknown instructions', () => {
  it.each([
    ['FORM alpine', 'unknown instruction: FORM (did you mean FROM?)'],
    ['form alpine', 'unknown instruction: form (did you mean from?)'],
    ['Cpy a b', 'unknown instruction: Cpy (did you mean copy?)'],
    ['FOOBAR x', 'unknown instruction: FOOBAR'],
  ])('%s', (line, message) => {
    expect(failure(`FROM a\n  ${line}\n`)).toEqual({ message, line: 2, column: 3 });
  });
});

describe('RUN', () => {
  it('keeps shell form as one string and exec form as a list', () => {
    expect(only('FROM a\nRUN echo  hi\n', 'run')).toMatchObject({
      command: ['echo  hi'],
      prependShell: true,
    });
    expect(only('FROM a\nRUN ["echo", "hi"]\n', 'run')).toMatchObject({
      command: ['echo', 'hi'],
      prependShell: false,
    });
  });

  it('parses mounts, network and security', () => {
    const run = only(
      'FROM a\nRUN --mount=type=cache,target=/root/.cache,sharing=locked,id=go --mount=type=secret,id=tok,env=TOKEN,required --mount=from=b,src=/x,target=/y --network=none --security=insecure make\n',
      'run',
    );
    expect(run.mounts).toEqual([
      {
        type: 'cache',
        target: '/root/.cache',
        sharing: 'locked',
        id: 'go',
        readOnly: false,
        required: false,
      },
      { type: 'secret', id: 'tok', env: 'TOKEN', required: true, readOnly: true },
      { type: 'bind', from: 'b', source: '/x', target: '/y', readOnly: true, required: false },
    ]);
    expect(run.network).toBe('none');
    expect(run.security).toBe('insecure');
    expect(run.flagsUsed).toEqual(['mount', 'network', 'security']);
  });

  it('parses tmpfs size, modes and ids', () => {
    const run = only(
      'FROM a\nRUN --mount=type=tmpfs,target=/t,size=64m --mount=type=cache,target=/c,mode=0700,uid=1000,gid=1000,ro x\n',
      'run',
    );
    expect(run.mounts[0]).toMatchObject({ type: 'tmpfs', size: 64 * 1024 * 1024, readOnly: false });
    expect(run.mounts[1]).toMatchObject({ mode: 0o700, uid: 1000, gid: 1000, readOnly: true });
  });

  it.each([
    ['--mount=type=foo,target=/x', 'unsupported mount type "foo"'],
    ['--mount=type=cahce,target=/x', 'unsupported mount type "cahce" (did you mean cache?)'],
    ['--mount=target=/x,bogus=1', "unexpected key 'bogus' in 'bogus=1'"],
    ['--mount=target=/x,taget=1', "unexpected key 'taget' in 'taget=1' (did you mean target?)"],
    ['--mount=target=/x,nonsense', "invalid field 'nonsense' must be a key=value pair"],
    [
      '--mount=from=$STAGE,target=/x',
      "'from' doesn't support variable expansion, define alias stage instead",
    ],
    ['--mount=type=bind,target=/x,mode=0700', 'mode not allowed for "bind" type mounts'],
    ['--mount=type=bind,target=/x,sharing=locked', 'invalid cache sharing set for bind mount'],
    ['--mount=type=cache,target=/x,sharing=weird', 'unsupported sharing value "weird"'],
    ['--mount=type=secret', 'invalid secret mount. one of source, target required'],
    ['--mount=type=bind,target=/x,required', "unexpected key 'required' for mount type 'bind'"],
    ['--mount=type=cache,target=/x,uid=abc', 'invalid value abc for uid'],
    ['--mount=type=cache,target=/x,ro=maybe', 'invalid value for ro: maybe'],
    ['--network=bridge', 'network mode "bridge" not supported'],
    ['--security=root', 'security mode "root" not supported'],
    ['--device=/dev/fuse', 'unknown flag: --device'],
  ])('rejects %s', (flag, message) => {
    expect(failure(`FROM a\nRUN ${flag} true\n`)).toEqual({ message, line: 2, column: 1 });
  });

  it('defers validating mount values that hold variables', () => {
    const run = only('FROM a\nRUN --mount=type=$T,target=/x true\n', 'run');
    expect(run.mounts).toEqual([]);
    expect(run.mountSpecs).toEqual(['type=$T,target=/x']);
  });

  it('keeps heredoc bodies as files', () => {
    const run = only('FROM a\nRUN <<EOF\necho hi\nEOF\n', 'run');
    expect(run.files).toEqual([{ name: 'EOF', data: 'echo hi\n', chomp: false, expand: true }]);
  });
});

describe('CMD, ENTRYPOINT, SHELL', () => {
  it('distinguishes shell and exec form', () => {
    expect(only('FROM a\nCMD echo hi\n', 'cmd')).toMatchObject({
      command: ['echo hi'],
      prependShell: true,
    });
    expect(only('FROM a\nCMD []\n', 'cmd')).toMatchObject({ command: [], prependShell: false });
    expect(only('FROM a\nENTRYPOINT []\n', 'entrypoint').command).toBeNull();
    expect(only('FROM a\nENTRYPOINT ["/bin/app", "-v"]\n', 'entrypoint').command).toEqual([
      '/bin/app',
      '-v',
    ]);
  });

  it('accepts no flags on CMD', () => {
    expect(failure('FROM a\nCMD --doit ["a"]\n').message).toBe('unknown flag: --doit');
  });

  it('requires SHELL in JSON form and non-empty', () => {
    expect(only('FROM a\nSHELL ["/bin/bash", "-c"]\n', 'shell').shell).toEqual(['/bin/bash', '-c']);
    expect(failure('FROM a\nSHELL /bin/bash -c\n').message).toBe(
      'SHELL requires the arguments to be in JSON form',
    );
    expect(failure('FROM a\nSHELL []\n').message).toBe('SHELL requires at least one argument');
  });
});

describe('ENV, LABEL, ARG', () => {
  it('reads key=value pairs and marks the legacy form', () => {
    expect(only('FROM a\nENV A=1 B="two words"\n', 'env').env).toEqual([
      { key: 'A', value: '1', noDelim: false },
      { key: 'B', value: '"two words"', noDelim: false },
    ]);
    expect(only('FROM a\nENV A one two\n', 'env').env).toEqual([
      { key: 'A', value: 'one two', noDelim: true },
    ]);
    expect(only('FROM a\nLABEL a.b=c\n', 'label').labels).toEqual([
      { key: 'a.b', value: 'c', noDelim: false },
    ]);
  });

  it('rejects blank names', () => {
    expect(failure('FROM a\nENV =x\n').message).toBe('ENV names can not be blank');
    expect(failure('FROM a\nLABEL =x\n').message).toBe('LABEL names can not be blank');
    expect(failure('FROM a\nARG =x\n').message).toBe('ARG names can not be blank');
    expect(failure('FROM a\nARG\n').message).toBe('ARG requires at least one argument');
    expect(failure('FROM a\nLABEL\n').message).toBe('LABEL requires at least one argument');
  });

  it('reads several ARGs with and without defaults and their descriptions', () => {
    const arg = only('FROM a\n# V the version\nARG V=1 W X=\n', 'arg');
    expect(arg.args).toEqual([
      { key: 'V', value: '1', comment: 'the version' },
      { key: 'W' },
      { key: 'X', value: '' },
    ]);
  });
});

describe('COPY and ADD', () => {
  it('reads every COPY flag', () => {
    const copy = only(
      'FROM a\nCOPY --from=build --chown=1:2 --chmod=0644 --link --parents --exclude=*.md --exclude=.git a b /dst/\n',
      'copy',
    );
    expect(copy).toMatchObject({
      from: 'build',
      chown: '1:2',
      chmod: '0644',
      link: true,
      parents: true,
      excludes: ['*.md', '.git'],
      sources: ['a', 'b'],
      dest: '/dst/',
    });
  });

  it('reads every ADD flag', () => {
    const add = only(
      'FROM a\nADD --keep-git-dir=true --checksum=sha256:abc --unpack=false --link=FALSE https://x/y.tgz /d\n',
      'add',
    );
    expect(add).toMatchObject({
      keepGitDir: true,
      checksum: 'sha256:abc',
      unpack: false,
      link: false,
    });
    expect(only('FROM a\nADD x /d\n', 'add').unpack).toBeUndefined();
  });

  it('turns heredoc sources into contents', () => {
    const copy = only('FROM a\nCOPY <<A <<-"B" /dest/\nhello $X\nA\n\tworld\nB\n', 'copy');
    expect(copy.sources).toEqual([]);
    expect(copy.sourceContents).toEqual([
      { name: 'A', data: 'hello $X\n', chomp: false, expand: true },
      { name: 'B', data: 'world\n', chomp: true, expand: false },
    ]);
  });

  it.each([
    [
      'COPY a',
      'COPY requires at least two arguments, but only one was provided. Destination could not be determined',
    ],
    [
      'ADD a',
      'ADD requires at least two arguments, but only one was provided. Destination could not be determined',
    ],
    ['COPY a <<EOF\nx\nEOF', 'COPY cannot accept a heredoc as a destination'],
    ['COPY --checksum=sha256:x a b', 'unknown flag: --checksum'],
    ['COPY --chown a b', 'missing a value on flag: --chown'],
    ['COPY --link= a b', 'missing a value on flag: --link'],
    ['COPY --link=maybe a b', 'expecting boolean value for flag --link, not: maybe'],
    ['COPY --from=a --from=b x y', 'duplicate flag specified: --from'],
    ['COPY --frm=a x y', 'unknown flag: --frm (did you mean from?)'],
    ['ADD --parents a b', 'unknown flag: --parents'],
  ])('%s', (line, message) => {
    expect(failure(`FROM a\n${line}\n`).message).toBe(message);
  });

  it('stops reading flags at --', () => {
    expect(only('FROM a\nCOPY --link -- --x /d\n', 'copy').link).toBe(true);
  });
});

describe('HEALTHCHECK', () => {
  it('builds the test and durations', () => {
    expect(
      only(
        'FROM a\nHEALTHCHECK --interval=5s --timeout=1m30s --start-period=1.5s --start-interval=2ms --retries=3 CMD curl -f x\n',
        'healthcheck',
      ).health,
    ).toEqual({
      test: ['CMD-SHELL', 'curl -f x'],
      interval: 5e9,
      timeout: 90e9,
      startPeriod: 1.5e9,
      startInterval: 2e6,
      retries: 3,
    });
    expect(only('FROM a\nHEALTHCHECK CMD ["a", "b"]\n', 'healthcheck').health.test).toEqual([
      'CMD',
      'a',
      'b',
    ]);
    expect(only('FROM a\nHEALTHCHECK none\n', 'healthcheck').health.test).toEqual(['NONE']);
  });

  it.each([
    ['HEALTHCHECK NONE x', 'HEALTHCHECK NONE takes no arguments'],
    ['HEALTHCHECK CONNECT TCP 7000', 'Unknown type "CONNECT" in HEALTHCHECK (try CMD)'],
    ['HEALTHCHECK CMD', 'Missing command after HEALTHCHECK CMD'],
    ['HEALTHCHECK --interval=1us CMD x', 'Interval "interval" cannot be less than 1ms'],
    ['HEALTHCHECK --timeout=abc CMD x', 'time: invalid duration "abc"'],
    ['HEALTHCHECK --timeout=10 CMD x', 'time: missing unit in duration "10"'],
    ['HEALTHCHECK --timeout=10y CMD x', 'time: unknown unit "y" in duration "10y"'],
    ['HEALTHCHECK --retries=-1 CMD x', '--retries cannot be negative (-1)'],
    ['HEALTHCHECK --retries=x CMD x', 'strconv.ParseInt: parsing "x": invalid syntax'],
    ['HEALTHCHECK --retires=1 CMD x', 'unknown flag: --retires (did you mean retries?)'],
  ])('%s', (line, message) => {
    expect(failure(`FROM a\n${line}\n`).message).toBe(message);
  });
});

describe('the other instructions', () => {
  it('reads single-argument instructions', () => {
    expect(only('FROM a\nUSER app:app\n', 'user').user).toBe('app:app');
    expect(only('FROM a\nWORKDIR /srv/app\n', 'workdir').path).toBe('/srv/app');
    expect(only('FROM a\nMAINTAINER me <me@x>\n', 'maintainer').maintainer).toBe('me <me@x>');
    expect(only('FROM a\nSTOPSIGNAL --anything SIGTERM\n', 'stopsignal').signal).toBe('SIGTERM');
    for (const kw of ['USER', 'WORKDIR', 'MAINTAINER', 'STOPSIGNAL']) {
      expect(failure(`FROM a\n${kw}\n`).message).toBe(`${kw} requires exactly one argument`);
    }
  });

  it('sorts EXPOSE ports and reads VOLUME lists', () => {
    expect(only('FROM a\nEXPOSE 8080/udp 443 80\n', 'expose').ports).toEqual([
      '443',
      '80',
      '8080/udp',
    ]);
    expect(only('FROM a\nVOLUME ["/a", "/b"]\n', 'volume').volumes).toEqual(['/a', '/b']);
    expect(failure('FROM a\nVOLUME [""]\n').message).toBe(
      'VOLUME specified can not be an empty string',
    );
    expect(failure('FROM a\nEXPOSE\n').message).toBe('EXPOSE requires at least one argument');
  });

  it('stores ONBUILD triggers as text and refuses chaining', () => {
    const ob = only('FROM a\nONBUILD   RUN echo hi\n', 'onbuild');
    expect(ob.expression).toBe('RUN echo hi');
    expect(ob.trigger).toBe('RUN');
    expect(failure('FROM a\nONBUILD ONBUILD RUN x\n').message).toBe(
      "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
    );
    expect(failure('FROM a\nONBUILD FROM b\n').message).toBe(
      "FROM isn't allowed as an ONBUILD trigger",
    );
    expect(failure('FROM a\nONBUILD maintainer b\n').message).toBe(
      "MAINTAINER isn't allowed as an ONBUILD trigger",
    );
  });
});

describe("BuildKit's instruction unit cases", () => {
  it.each(['ENV', 'LABEL', 'ONBUILD', 'HEALTHCHECK', 'EXPOSE', 'VOLUME'])(
    '%s needs at least one argument',
    (kw) => {
      expect(failure(`FROM a\n${kw}\n`)).toEqual({
        message: `${kw} requires at least one argument`,
        line: 2,
        column: 1,
      });
    },
  );

  it('rejects COPY with no arguments on its own line', () => {
    expect(failure('FROM a\nCOPY\t\n\t\tquux \\\n      bar').message).toBe(
      'COPY requires at least two arguments, but only one was provided. Destination could not be determined',
    );
  });

  it('validates flags even on MAINTAINER', () => {
    expect(failure('FROM a\nMAINTAINER --boo joe@example.com\n').message).toBe(
      'unknown flag: --boo',
    );
  });

  it('keeps the case of an unknown keyword in the message', () => {
    expect(failure('FROM a\nFOO bar\n').message).toBe(
      'unknown instruction: FOO (did you mean FROM?)',
    );
    expect(failure('FROM a\nfoo bar\n').message).toBe(
      'unknown instruction: foo (did you mean from?)',
    );
    expect(failure('FROM a\nBADCMD bar\n').message).toBe('unknown instruction: BADCMD');
  });

  it('records which RUN flags were used', () => {
    const run = only('FROM a\nRUN --mount=type=tmpfs,target=/foo/ echo hello\n', 'run');
    expect(run.flagsUsed).toEqual(['mount']);
  });

  it("prefixes BuildKit's wording with the line for instruction errors only", () => {
    const err = (text: string): DockerfileError => {
      try {
        parsed(text);
      } catch (e) {
        return e as DockerfileError;
      }
      throw new Error('expected an error');
    };
    expect(err('FROM a\nBADCMD\n').buildkitMessage).toBe(
      'dockerfile parse error on line 2: unknown instruction: BADCMD',
    );
    expect(err('RUN x\nFROM a\n').buildkitMessage).toBe('no build stage in current context');
  });
});

describe('parse-time checks', () => {
  it('returns the checks BuildKit runs while parsing, honouring # check=', () => {
    const text = 'FROM alpine as Build\nMAINTAINER me\n';
    expect(parsed(text).warnings.map((w) => [w.rule, w.line])).toEqual([
      ['StageNameCasing', 1],
      ['FromAsCasing', 1],
      ['MaintainerDeprecated', 2],
    ]);
    expect(
      parsed(`# check=skip=FromAsCasing,StageNameCasing\n${text}`).warnings.map((w) => w.rule),
    ).toEqual(['MaintainerDeprecated']);
  });
});
