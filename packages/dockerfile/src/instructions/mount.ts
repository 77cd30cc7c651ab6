/**
 * RUN `--mount` specifications (BuildKit `instructions/commands_runmount.go`): CSV
 * `key=value` fields such as `type=cache,target=/root/.cache,sharing=locked`.
 */
import { parseCsvRecord } from './csv.js';
import { parseGoBool, parseGoUint32 } from './go-parse.js';
import { withSuggestion } from './suggest.js';
import type { RunMount } from './types.js';

const MOUNT_TYPES = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'] as const;
const SHARING = ['shared', 'private', 'locked'] as const;
const ALL_KEYS = [
  'type',
  'from',
  'source',
  'target',
  'readonly',
  'id',
  'sharing',
  'required',
  'size',
  'mode',
  'uid',
  'gid',
  'src',
  'dst',
  'destination',
  'ro',
  'rw',
  'readwrite',
  'env',
];

/** docker/go-units `RAMInBytes`: `64m`, `1.5g`, `100`, `2GiB` (binary multipliers). */
export function parseRamInBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (m === null) throw new Error(`invalid size: '${text}'`);
  const value = Number.parseFloat(m[1]!);
  const exp = { k: 1, m: 2, g: 3, t: 4, p: 5 }[(m[2] ?? '').toLowerCase()] ?? 0;
  return Math.trunc(value * 1024 ** exp);
}

/** Expands one option value; the identity when variables are not (yet) known. */
export type ValueExpander = (value: string) => string;

type MutableMount = { -readonly [K in keyof RunMount]: RunMount[K] };

/**
 * Checks the structure of a `--mount` value before variables are known (BuildKit defers the
 * values until the instruction runs): CSV syntax, `key=value` fields, no variables in
 * `from`. Returns the mount when no value holds a variable, else undefined.
 */
export function checkMount(spec: string): RunMount | undefined {
  let fields: string[];
  try {
    fields = parseCsvRecord(spec);
  } catch (err) {
    throw new Error(`failed to parse csv mounts: ${(err as Error).message}`, { cause: err });
  }
  let deferred = false;
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (!['readonly', 'ro', 'readwrite', 'rw', 'required'].includes(key)) {
        throw new Error(`invalid field '${field}' must be a key=value pair`);
      }
      continue;
    }
    const value = field.slice(eq + 1);
    if (key === 'from') {
      const dollar = value.indexOf('$');
      if (dollar !== -1 && dollar !== value.length - 1) {
        throw new Error(`'${key}' doesn't support variable expansion, define alias stage instead`);
      }
    } else if (value.includes('$')) {
      deferred = true;
    }
  }
  return deferred ? undefined : parseMount(spec);
}

/**
 * Parses one `--mount` value. With `expand`, every value except `from` is expanded first;
 * `from` refuses variables (`'from' doesn't support variable expansion, define alias stage
 * instead`). Throws an Error with BuildKit's message.
 */
export function parseMount(spec: string, expand?: ValueExpander): RunMount {
  let fields: string[];
  try {
    fields = parseCsvRecord(spec);
  } catch (err) {
    throw new Error(`failed to parse csv mounts: ${(err as Error).message}`, { cause: err });
  }
  const m: MutableMount = { type: 'bind', readOnly: false, required: false };
  let roAuto = true;
  let requiredBare = false;
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      switch (key) {
        case 'readonly':
        case 'ro':
          m.readOnly = true;
          roAuto = false;
          continue;
        case 'readwrite':
        case 'rw':
          m.readOnly = false;
          roAuto = false;
          continue;
        case 'required':
          m.required = true;
          requiredBare = true;
          continue;
        default:
          throw new Error(`invalid field '${field}' must be a key=value pair`);
      }
    }
    let value = field.slice(eq + 1);
    if (key === 'from') {
      const dollar = value.indexOf('$');
      if (dollar !== -1 && dollar !== value.length - 1) {
        throw new Error(`'${key}' doesn't support variable expansion, define alias stage instead`);
      }
    } else if (expand !== undefined) {
      value = expand(value);
    }
    const bool = (): boolean => {
      const b = parseGoBool(value);
      if (b === undefined) throw new Error(`invalid value for ${key}: ${value}`);
      return b;
    };
    switch (key) {
      case 'type': {
        const t = value.toLowerCase();
        if (!(MOUNT_TYPES as readonly string[]).includes(t)) {
          throw new Error(
            withSuggestion(`unsupported mount type "${value}"`, value, MOUNT_TYPES, true),
          );
        }
        m.type = t as RunMount['type'];
        break;
      }
      case 'from':
        m.from = value;
        break;
      case 'source':
      case 'src':
        m.source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.target = value;
        break;
      case 'readonly':
      case 'ro':
        m.readOnly = bool();
        roAuto = false;
        break;
      case 'readwrite':
      case 'rw':
        m.readOnly = !bool();
        roAuto = false;
        break;
      case 'required':
        m.required = bool();
        requiredBare = true;
        break;
      case 'id':
        m.id = value;
        break;
      case 'sharing': {
        const s = value.toLowerCase();
        if (!(SHARING as readonly string[]).includes(s)) {
          throw new Error(`unsupported sharing value "${value}"`);
        }
        m.sharing = s as NonNullable<RunMount['sharing']>;
        break;
      }
      case 'size':
        if (m.type !== 'tmpfs')
          throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        try {
          m.size = parseRamInBytes(value);
        } catch {
          throw new Error(`invalid value for ${key}: ${value}`);
        }
        break;
      case 'mode':
        try {
          m.mode = parseGoUint32(value, 8);
        } catch {
          throw new Error(`invalid value ${value} for mode`);
        }
        break;
      case 'uid':
        try {
          m.uid = parseGoUint32(value, 10);
        } catch {
          throw new Error(`invalid value ${value} for uid`);
        }
        break;
      case 'gid':
        try {
          m.gid = parseGoUint32(value, 10);
        } catch {
          throw new Error(`invalid value ${value} for gid`);
        }
        break;
      case 'env':
        m.env = value;
        break;
      default:
        throw new Error(
          withSuggestion(`unexpected key '${key}' in '${field}'`, key, ALL_KEYS, true),
        );
    }
  }
  if (requiredBare && m.type !== 'secret' && m.type !== 'ssh') {
    throw new Error(`unexpected key 'required' for mount type '${m.type}'`);
  }
  const fileInfoAllowed = m.type === 'secret' || m.type === 'ssh' || m.type === 'cache';
  for (const k of ['mode', 'uid', 'gid'] as const) {
    if (m[k] !== undefined && !fileInfoAllowed) {
      throw new Error(`${k} not allowed for "${m.type}" type mounts`);
    }
  }
  if (roAuto) m.readOnly = !(m.type === 'cache' || m.type === 'tmpfs');
  if (m.sharing !== undefined && m.type !== 'cache') {
    throw new Error(`invalid cache sharing set for ${m.type} mount`);
  }
  if (m.type === 'secret') {
    if (m.from !== undefined) throw new Error('secret mount should not have a from');
    if (
      m.source === undefined &&
      m.target === undefined &&
      m.id === undefined &&
      m.env === undefined
    ) {
      throw new Error('invalid secret mount. one of source, target required');
    }
    if (m.source !== undefined && m.id !== undefined) {
      throw new Error("both source and id can't be set");
    }
  }
  return m;
}
