import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../program.js';
import type { CliContext } from '../context.js';
import { commandGroups, commandWord, groupsFor } from './index.js';

function context(): CliContext {
  return {
    stdin: new PassThrough(),
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    env: {},
    cwd: process.cwd(),
    version: '0.0.0-test',
  };
}

describe('command groups', () => {
  it.each(commandGroups.map((g) => [g.names[0], g] as const))(
    'group %s lists exactly the top-level commands it registers',
    async (_name, group) => {
      const program = buildProgram(context(), [await group.load()]);
      const registered = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
      expect([...registered].sort()).toEqual([...group.names].sort());
    },
  );

  it('no two groups claim the same name', () => {
    const names = commandGroups.flatMap((g) => g.names);
    expect(new Set(names).size).toBe(names.length);
  });

  it('finds the command word after global options', () => {
    expect(commandWord(['--root', '/x', 'ps', '-a'])).toBe('ps');
    expect(commandWord(['--root=/x', 'images'])).toBe('images');
    expect(commandWord(['-v'])).toBeUndefined();
    expect(commandWord(['--', 'run'])).toBe('run');
  });

  it('loads one group for a known command and all of them otherwise', async () => {
    expect(await groupsFor(['ps'])).toHaveLength(1);
    expect(await groupsFor(['--help'])).toHaveLength(commandGroups.length);
    expect(await groupsFor(['nosuchcommand'])).toHaveLength(commandGroups.length);
  });
});
