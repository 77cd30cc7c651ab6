import type { Register } from '../../program.js';
import { defineBuild } from '../build/index.js';
import { defineHistory } from './history.js';
import { defineImport } from './import.js';
import { defineInspect } from './inspect.js';
import { defineList } from './list.js';
import { defineLoad } from './load.js';
import { definePrune } from './prune.js';
import { defineRemove } from './remove.js';
import { defineSave } from './save.js';
import { defineTag } from './tag.js';

/**
 * `lab image …` with docker's grammar, plus docker's short forms at the top level:
 * `lab images`, `lab rmi`, `lab load`, `lab save`, `lab import`, `lab tag`, `lab history`.
 */
export const registerImage: Register = (program, ctx, globals) => {
  const group = program.command('image').description('manage images').showSuggestionAfterError();
  defineList(group, 'ls', ['list'], ctx, globals);
  defineInspect(group, 'inspect', ctx, globals);
  defineHistory(group, 'history', ctx, globals);
  defineLoad(group, 'load', ctx, globals);
  defineSave(group, 'save', ctx, globals);
  defineImport(group, 'import', ctx, globals);
  defineTag(group, 'tag', ctx, globals);
  defineRemove(group, 'rm', ['remove'], ctx, globals);
  definePrune(group, 'prune', ctx, globals);
  defineBuild(group, 'build', ctx, globals);

  defineList(program, 'images', [], ctx, globals);
  defineRemove(program, 'rmi', [], ctx, globals);
  defineLoad(program, 'load', ctx, globals);
  defineSave(program, 'save', ctx, globals);
  defineImport(program, 'import', ctx, globals);
  defineTag(program, 'tag', ctx, globals);
  defineHistory(program, 'history', ctx, globals);
};
