import type { Register } from '../../program.js';
import { registerLint } from './lint.js';
import { registerParse } from './parse.js';

/** `lab dockerfile …`: Dockerfile tools. Each subcommand registers itself on the group. */
export const registerDockerfile: Register = (program, ctx, globals) => {
  const group = program
    .command('dockerfile')
    .description('work with Dockerfiles: parse, lint')
    .showSuggestionAfterError();
  registerParse(group, ctx);
  registerLint(group, ctx, globals);
};
