import type { Register } from '../program.js';

/**
 * A command group of `lab` and the top-level command names it registers. Groups are loaded
 * only when one of their names is on the command line (all of them for help and unknown
 * commands), so a command pays start-up time only for the packages it uses.
 * `commands/index.test.ts` checks that `names` lists exactly what each group registers.
 */
export interface CommandGroup {
  readonly names: readonly string[];
  readonly load: () => Promise<Register>;
}

/** Every command group of `lab`, in help order. Add yours here. */
export const commandGroups: readonly CommandGroup[] = [
  {
    names: ['image', 'images', 'rmi', 'load', 'save', 'import', 'tag', 'history'],
    load: async () => (await import('./image/index.js')).registerImage,
  },
  {
    names: [
      'container',
      'create',
      'run',
      'start',
      'stop',
      'restart',
      'kill',
      'pause',
      'unpause',
      'logs',
      'exec',
      'wait',
      'top',
      'stats',
      'port',
      'cp',
      'ps',
      'rm',
      'inspect',
    ],
    load: async () => (await import('./container/index.js')).registerContainer,
  },
  {
    names: ['dockerfile'],
    load: async () => (await import('./dockerfile/index.js')).registerDockerfile,
  },
  {
    names: ['volume'],
    load: async () => (await import('./volume/index.js')).registerVolume,
  },
  {
    names: ['build', 'builder'],
    load: async () => (await import('./build/index.js')).registerBuild,
  },
];

/** Options of `lab` itself that take a value (the next word is not a command). */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--root']);

/** The first word of `argv` that is a command name, skipping global options. */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return argv[i + 1];
    if (!word.startsWith('-')) return word;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(word)) i++;
  }
  return undefined;
}

/** The registers needed to run `argv`: one group when the command is known, else all. */
export async function groupsFor(
  argv: readonly string[],
  groups: readonly CommandGroup[] = commandGroups,
): Promise<Register[]> {
  const word = commandWord(argv);
  if (word === undefined && (argv.includes('-v') || argv.includes('--version'))) return [];
  const match = word === undefined ? undefined : groups.find((g) => g.names.includes(word));
  return Promise.all((match === undefined ? groups : [match]).map((g) => g.load()));
}
