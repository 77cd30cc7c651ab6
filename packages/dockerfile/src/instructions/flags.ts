/**
 * The flags of one instruction (BuildKit `instructions/bflag.go`): each instruction declares
 * the flags it accepts, then `parse` checks the `--name[=value]` words the parser collected.
 */
import { withSuggestion } from './suggest.js';

type FlagKind = 'bool' | 'string' | 'strings';

interface FlagState {
  readonly kind: FlagKind;
  value: string;
  values: string[];
  used: boolean;
}

/** A declared flag; read it after {@link InstructionFlags.parse}. */
export interface Flag {
  /** Whether the flag appeared. */
  readonly used: boolean;
  /** String flags: the value (or the default); bool flags: `"true"` / `"false"`. */
  readonly value: string;
  /** List flags: every value in order. */
  readonly values: readonly string[];
}

/** The flag words of one instruction and the flags it declares. */
export class InstructionFlags {
  private readonly declared = new Map<string, FlagState>();

  constructor(private readonly words: readonly string[]) {}

  private add(name: string, kind: FlagKind, value: string): Flag {
    const state: FlagState = { kind, value, values: [], used: false };
    this.declared.set(name, state);
    return state;
  }

  bool(name: string, def = false): Flag {
    return this.add(name, 'bool', def ? 'true' : 'false');
  }

  string(name: string, def = ''): Flag {
    return this.add(name, 'string', def);
  }

  strings(name: string): Flag {
    return this.add(name, 'strings', '');
  }

  /** The names of the flags that appeared, in declaration order. */
  usedNames(): string[] {
    return [...this.declared].filter(([, f]) => f.used).map(([n]) => n);
  }

  /** Checks every flag word; throws an Error with BuildKit's message. */
  parse(): void {
    for (const word of this.words) {
      if (word === '--') return;
      if (!word.startsWith('--')) throw new Error(`arg should start with -- : ${word}`);
      const eq = word.indexOf('=');
      const flagName = eq < 0 ? word : word.slice(0, eq);
      const value = eq < 0 ? '' : word.slice(eq + 1);
      const hasValue = eq >= 0;
      const name = flagName.slice(2);
      const flag = this.declared.get(name);
      if (flag === undefined) {
        throw new Error(
          withSuggestion(`unknown flag: ${flagName}`, name, [...this.declared.keys()], true),
        );
      }
      if (flag.used && flag.kind !== 'strings') {
        throw new Error(`duplicate flag specified: ${flagName}`);
      }
      flag.used = true;
      switch (flag.kind) {
        case 'bool': {
          if (hasValue && value === '') throw new Error(`missing a value on flag: ${flagName}`);
          const lower = value.toLowerCase();
          if (lower === 'true' || lower === '') flag.value = 'true';
          else if (lower === 'false') flag.value = 'false';
          else throw new Error(`expecting boolean value for flag ${flagName}, not: ${value}`);
          break;
        }
        case 'string':
          if (!hasValue) throw new Error(`missing a value on flag: ${flagName}`);
          flag.value = value;
          break;
        case 'strings':
          if (!hasValue) throw new Error(`missing a value on flag: ${flagName}`);
          flag.values.push(value);
          break;
      }
    }
  }
}
