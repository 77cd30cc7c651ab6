import { describe, expect, it } from 'vitest';
import { parse } from '../parser/parse.js';
import {
  applyCommand,
  DEFAULT_PATH_ENV,
  imageEnvironment,
  inheritEnvironment,
  parseInstructions,
  proxyEnvironment,
} from './index.js';
import type { ApplyContext, Command, StageEnvironment } from './index.js';

function commands(text: string): readonly Command[] {
  return parseInstructions(parse(`FROM scratch\n${text}`)).stages[0]!.commands;
}

function applyAll(
  text: string,
  state: StageEnvironment,
  ctx: Partial<ApplyContext> = {},
): { state: StageEnvironment; expanded: Command[]; undefinedNames: string[] } {
  const undefinedNames: string[] = [];
  const expanded = commands(text).map((c) =>
    applyCommand(c, state, {
      escapeToken: '\\',
      globalArgs: new Map(),
      buildArgs: {},
      onUndefined: (names) => undefinedNames.push(...names),
      ...ctx,
    }),
  );
  return { state, expanded, undefinedNames };
}

describe('the stage environment', () => {
  it('starts from the image Env and adds the default PATH', () => {
    expect([...imageEnvironment(['A=1', 'B']).env]).toEqual([
      ['A', '1'],
      ['B', ''],
      ['PATH', DEFAULT_PATH_ENV],
    ]);
    expect(imageEnvironment(['PATH=/bin']).env.get('PATH')).toBe('/bin');
  });

  it('expands each ENV pair with the values from before the instruction', () => {
    const { state } = applyAll('ENV a=x\nENV a=y b=$a\n', imageEnvironment());
    expect(state.env.get('b')).toBe('x');
    expect(state.env.get('a')).toBe('y');
  });

  it('gives ARG the build-arg, else its default, else the global value', () => {
    const { state } = applyAll('ARG A\nARG B=dflt-$A\nARG C\nARG D\nARG E=\n', imageEnvironment(), {
      buildArgs: { A: 'ba' },
      globalArgs: new Map([
        ['C', 'global'],
        ['B', 'ignored'],
      ]),
    });
    expect(state.env.get('A')).toBe('ba');
    expect(state.env.get('B')).toBe('dflt-ba');
    expect(state.env.get('C')).toBe('global');
    expect(state.env.has('D')).toBe(false);
    expect(state.env.get('E')).toBe('');
    expect(state.declaredArgs).toEqual(['A', 'B', 'C', 'D', 'E']);
  });

  it('lets the later of ENV and ARG win (BuildKit, unlike the classic builder)', () => {
    expect(applyAll('ENV X=env\nARG X=arg\n', imageEnvironment()).state.env.get('X')).toBe('arg');
    expect(applyAll('ARG X=arg\nENV X=env\n', imageEnvironment()).state.env.get('X')).toBe('env');
  });

  it('reports undefined variables but not declared ARGs without a value', () => {
    const r = applyAll('ARG DECL\nWORKDIR /$DECL/$NOPE\nCOPY $A $B /x\n', imageEnvironment());
    expect(r.undefinedNames).toEqual(['NOPE', 'A', 'B']);
    expect(r.expanded[1]).toMatchObject({ path: '//' });
  });

  it('copies the environment for a stage built on another stage', () => {
    const parent = applyAll('ENV A=1\nARG B\n', imageEnvironment()).state;
    const child = inheritEnvironment(parent);
    child.env.set('A', '2');
    expect(parent.env.get('A')).toBe('1');
    expect(child.declaredArgs).toEqual(['B']);
  });

  it('passes proxy build-args to RUN unless they are declared', () => {
    const { state } = applyAll('ARG https_proxy\n', imageEnvironment());
    expect([...proxyEnvironment({ HTTP_PROXY: 'h', https_proxy: 's', OTHER: 'o' }, state)]).toEqual(
      [['HTTP_PROXY', 'h']],
    );
  });

  it('throws the lexer error for a bad substitution', () => {
    expect(() => applyAll('ENV A=${B:-x\n', imageEnvironment())).toThrow(
      `failed to process "\${B:-x": syntax error: missing '}'`,
    );
  });
});
