import type { Command } from '@commander-js/extra-typings';
import type { CliContext, GlobalOptions } from '../../context.js';
import { openStore } from './store.js';

/** `tag SOURCE TARGET`: gives SOURCE (a name or ID) the name TARGET. */
export function defineTag(
  parent: Command,
  name: string,
  _ctx: CliContext,
  globals: () => GlobalOptions,
): void {
  parent
    .command(name)
    .description('create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source>', 'SOURCE_IMAGE[:TAG] or an image ID')
    .argument('<target>', 'TARGET_IMAGE[:TAG]')
    .action(async (source, target) => {
      const images = await openStore(globals);
      await images.tag(source, target);
    });
}
