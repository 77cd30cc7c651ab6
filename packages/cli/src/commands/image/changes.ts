/**
 * `--change` for `lab image import` (docker's `import -c`): Dockerfile instructions that edit
 * the new image's config. Accepted, as docker accepts them: CMD, ENTRYPOINT, ENV, EXPOSE,
 * LABEL, ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL. CMD/ENTRYPOINT/VOLUME take the JSON form
 * or the shell form (`CMD echo hi` → `["/bin/sh","-c","echo hi"]`); ENV and LABEL take
 * `k=v …` (quotes allowed) or the legacy `k v`.
 */
import { invalidArgument, type ContainerConfig } from '@lab/oci';

const ALLOWED = [
  'CMD',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'LABEL',
  'ONBUILD',
  'USER',
  'VOLUME',
  'WORKDIR',
  'STOPSIGNAL',
];

function bad(change: string, problem: string): Error {
  return invalidArgument(`--change "${change}": ${problem}`, { details: { change } });
}

/** Splits words the way the Dockerfile parser does for `k=v` lists: quotes group, `\` escapes. */
export function splitWords(text: string, change: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) word += text.charAt(++i);
      else word += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      word += text.charAt(++i);
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote !== undefined) throw bad(change, `unterminated ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}

/** `["a","b"]` → the array, or undefined when the text is not a JSON array of strings. */
function jsonArray(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  } catch {
    // shell form
  }
  return undefined;
}

function keyValues(rest: string, change: string, what: string): [string, string][] {
  const words = splitWords(rest, change);
  if (words.length === 0) throw bad(change, `${what} needs at least one argument`);
  if (!words[0]?.includes('=')) {
    // legacy form: KEY value with spaces
    const space = rest.search(/\s/);
    if (space < 0)
      throw bad(change, `${what} ${rest}: expected ${what} key=value or ${what} key value`);
    return [[rest.slice(0, space), splitWords(rest.slice(space).trim(), change).join(' ')]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw bad(change, `${what} "${w}": expected key=value`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

function setEnv(env: string[], key: string, value: string): string[] {
  const out = env.filter((e) => e.split('=', 1)[0] !== key);
  out.push(`${key}=${value}`);
  return out;
}

/**
 * Applies `--change` instructions, in order, to a container config and returns the new one.
 * Throws invalid-argument naming the change for anything docker would refuse.
 */
export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const config: ContainerConfig = { ...base };
  let cmdSet = false;
  for (const change of changes) {
    const trimmed = change.trim();
    const m = /^(\S+)\s*([\s\S]*)$/.exec(trimmed);
    if (m === null) throw bad(change, 'empty instruction');
    const keyword = (m[1] ?? '').toUpperCase();
    const rest = (m[2] ?? '').trim();
    if (!ALLOWED.includes(keyword)) {
      throw bad(
        change,
        `${keyword} is not a valid change command; use one of ${ALLOWED.join(', ')}`,
      );
    }
    switch (keyword) {
      case 'CMD':
      case 'ENTRYPOINT': {
        const args = jsonArray(rest) ?? (rest === '' ? [] : ['/bin/sh', '-c', rest]);
        if (keyword === 'CMD') {
          config.Cmd = args;
          cmdSet = true;
        } else {
          config.Entrypoint = args;
          if (!cmdSet) config.Cmd = null;
        }
        break;
      }
      case 'ENV': {
        let env = [...(config.Env ?? [])];
        for (const [k, v] of keyValues(rest, change, 'ENV')) env = setEnv(env, k, v);
        config.Env = env;
        break;
      }
      case 'LABEL': {
        const labels = { ...(config.Labels ?? {}) };
        for (const [k, v] of keyValues(rest, change, 'LABEL')) labels[k] = v;
        config.Labels = labels;
        break;
      }
      case 'EXPOSE': {
        const ports = { ...(config.ExposedPorts ?? {}) };
        const words = splitWords(rest, change);
        if (words.length === 0) throw bad(change, 'EXPOSE needs at least one port');
        for (const w of words) {
          const pm = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
          if (pm === null)
            throw bad(change, `invalid port "${w}": expected PORT[/PROTO], e.g. 80/tcp`);
          const from = Number(pm[1]);
          const to = pm[2] === undefined ? from : Number(pm[2]);
          if (from < 1 || to > 65535 || to < from) throw bad(change, `invalid port range "${w}"`);
          const proto = (pm[3] ?? 'tcp').toLowerCase();
          for (let p = from; p <= to; p++) ports[`${p}/${proto}`] = {};
        }
        config.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = { ...(config.Volumes ?? {}) };
        const list = jsonArray(rest) ?? splitWords(rest, change);
        if (list.length === 0) throw bad(change, 'VOLUME needs at least one path');
        for (const v of list) {
          if (v.trim() === '') throw bad(change, 'VOLUME specified can not be an empty string');
          vols[v] = {};
        }
        config.Volumes = vols;
        break;
      }
      case 'USER':
      case 'WORKDIR':
      case 'STOPSIGNAL': {
        const words = splitWords(rest, change);
        if (words.length !== 1 || words[0] === undefined)
          throw bad(change, `${keyword} takes exactly one argument`);
        const value = words[0];
        if (keyword === 'USER') config.User = value;
        else if (keyword === 'STOPSIGNAL') {
          if (!/^(SIG[A-Z0-9+-]+|[A-Z0-9+-]+|\d+)$/.test(value))
            throw bad(change, `invalid signal "${value}"`);
          config.StopSignal = value;
        } else {
          const dir = value.startsWith('/')
            ? value
            : `${config.WorkingDir ?? '/'}/${value}`.replace(/\/+/g, '/');
          config.WorkingDir = dir;
        }
        break;
      }
      case 'ONBUILD': {
        if (rest === '') throw bad(change, 'ONBUILD needs an instruction');
        const inner = (rest.split(/\s/, 1)[0] ?? '').toUpperCase();
        if (inner === 'ONBUILD')
          throw bad(change, "chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (inner === 'FROM' || inner === 'MAINTAINER')
          throw bad(change, `${inner} isn't allowed as an ONBUILD trigger`);
        config.OnBuild = [...(config.OnBuild ?? []), rest];
        break;
      }
    }
  }
  return config;
}
