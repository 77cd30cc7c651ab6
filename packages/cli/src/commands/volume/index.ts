import type { Register } from '../../program.js';
import { defineCreate } from './create.js';
import { defineInspect } from './inspect.js';
import { defineList } from './list.js';
import { definePrune } from './prune.js';
import { defineRemove } from './remove.js';

/** `lab volume create|ls|inspect|rm|prune` with docker's grammar and output. */
export const registerVolume: Register = (program, ctx, globals) => {
  const group = program.command('volume').description('manage volumes').showSuggestionAfterError();
  defineCreate(group, ctx, globals);
  defineList(group, ctx, globals);
  defineInspect(group, ctx, globals);
  defineRemove(group, ctx, globals);
  definePrune(group, ctx, globals);
};
