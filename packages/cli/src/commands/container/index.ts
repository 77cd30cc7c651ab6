import type { Register } from '../../program.js';
import {
  defineCp,
  defineCreate,
  defineExec,
  defineInspect,
  defineKill,
  defineList,
  defineLogs,
  definePause,
  definePort,
  definePrune,
  defineRemove,
  defineRestart,
  defineRun,
  defineStart,
  defineStats,
  defineStop,
  defineTop,
  defineUnpause,
  defineWait,
} from './commands.js';

/**
 * `lab container …` with docker's grammar, plus the short forms at the top level: `run`, `ps`,
 * `create`, `start`, `stop`, `restart`, `kill`, `pause`, `unpause`, `rm`, `logs`, `exec`,
 * `inspect` (containers only), `wait`, `top`, `stats`, `port`, `cp`.
 */
export const registerContainer: Register = (program, ctx, globals) => {
  const group = program
    .command('container')
    .description('manage containers')
    .showSuggestionAfterError();
  const defs = [
    ['create', defineCreate],
    ['run', defineRun],
    ['start', defineStart],
    ['stop', defineStop],
    ['restart', defineRestart],
    ['kill', defineKill],
    ['pause', definePause],
    ['unpause', defineUnpause],
    ['logs', defineLogs],
    ['exec', defineExec],
    ['wait', defineWait],
    ['top', defineTop],
    ['stats', defineStats],
    ['port', definePort],
    ['cp', defineCp],
  ] as const;
  for (const [name, def] of defs) def(group, name, ctx, globals);
  defineList(group, 'ls', ['list', 'ps'], ctx, globals);
  defineRemove(group, 'rm', ctx, globals).alias('remove');
  defineInspect(group, 'inspect', ctx, globals);
  definePrune(group, 'prune', ctx, globals);

  for (const [name, def] of defs) def(program, name, ctx, globals);
  defineList(program, 'ps', [], ctx, globals);
  defineRemove(program, 'rm', ctx, globals);
  defineInspect(program, 'inspect', ctx, globals);
};
