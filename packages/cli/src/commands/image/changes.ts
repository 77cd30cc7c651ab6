/**
 * `--change` for `lab image import` (docker's `import -c`): Dockerfile instructions that edit
 * the new image's config, parsed by `@lab/dockerfile` exactly as in a Dockerfile and applied
 * the way docker's `BuildFromConfig` does: in order, each expanded against the environment
 * the config has at that point (`ENV PATH=$PATH:/x` works). Accepted, as docker accepts them:
 * CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL.
 */
import {
  applyCommand,
  isDockerfileError,
  isDockerfileParseError,
  parse,
  parseInstruction,
  type Command,
  type StageEnvironment,
} from '@lab/dockerfile';
import { invalidArgument, type ContainerConfig } from '@lab/oci';

const ALLOWED = [
  'cmd',
  'entrypoint',
  'env',
  'expose',
  'label',
  'onbuild',
  'user',
  'volume',
  'workdir',
  'stopsignal',
];

function bad(change: string, problem: string, cause?: unknown): Error {
  return invalidArgument(`--change "${change}": ${problem}`, {
    details: { change },
    ...(cause === undefined ? {} : { cause }),
  });
}

function environmentOf(env: readonly string[]): StageEnvironment {
  const map = new Map<string, string>();
  for (const e of env) {
    const eq = e.indexOf('=');
    map.set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? '' : e.slice(eq + 1));
  }
  return { env: map, declaredArgs: [] };
}

function setEnv(env: readonly string[], key: string, value: string): string[] {
  const out = env.filter((e) => e.split('=', 1)[0] !== key);
  out.push(`${key}=${value}`);
  return out;
}

/** `80`, `53/udp`, `8000-8001/tcp` → the port keys docker stores (`80/tcp`, …). */
function portKeys(spec: string, change: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (m === null)
    throw bad(change, `invalid port "${spec}": expected PORT[-PORT][/PROTO], e.g. 80/tcp`);
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65535 || to < from) throw bad(change, `invalid port range "${spec}"`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  const keys: string[] = [];
  for (let p = from; p <= to; p++) keys.push(`${String(p)}/${proto}`);
  return keys;
}

/** One instruction, parsed and expanded; throws invalid-argument naming the change. */
function parseChange(change: string, state: StageEnvironment): Command {
  let instruction;
  try {
    const parsed = parse(change);
    const [node, extra] = parsed.instructions;
    if (node === undefined) throw bad(change, 'empty instruction');
    if (extra !== undefined) throw bad(change, 'give one instruction per --change');
    if (!ALLOWED.includes(node.keyword)) {
      throw bad(
        change,
        `${node.rawKeyword.toUpperCase()} is not a valid change command; use one of ${ALLOWED.map((a) => a.toUpperCase()).join(', ')}`,
      );
    }
    instruction = parseInstruction(node);
    if (instruction.kind === 'from') throw bad(change, 'FROM is not a valid change command');
    return applyCommand(instruction, state, {
      escapeToken: '\\',
      globalArgs: new Map(),
      buildArgs: {},
    });
  } catch (err) {
    if (isDockerfileParseError(err) || isDockerfileError(err)) throw bad(change, err.message, err);
    if (err instanceof Error && err.name === 'ShellError') throw bad(change, err.message, err);
    throw err;
  }
}

/**
 * Applies `--change` instructions, in order, to a container config and returns the new one.
 * Throws invalid-argument naming the change for anything docker would refuse.
 */
export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const config: ContainerConfig = { ...base };
  const state = environmentOf(config.Env ?? []);
  let cmdSet = false;
  for (const text of changes) {
    const cmd = parseChange(text, state);
    switch (cmd.kind) {
      case 'cmd': {
        const shell = config.Shell ?? ['/bin/sh', '-c'];
        config.Cmd = cmd.prependShell ? [...shell, ...cmd.command] : [...cmd.command];
        cmdSet = true;
        break;
      }
      case 'entrypoint': {
        const shell = config.Shell ?? ['/bin/sh', '-c'];
        config.Entrypoint =
          cmd.command === null
            ? null
            : cmd.prependShell
              ? [...shell, ...cmd.command]
              : [...cmd.command];
        if (!cmdSet) config.Cmd = null;
        break;
      }
      case 'env': {
        let env = [...(config.Env ?? [])];
        for (const { key, value } of cmd.env) env = setEnv(env, key, value);
        config.Env = env;
        break;
      }
      case 'label': {
        const labels = { ...(config.Labels ?? {}) };
        for (const { key, value } of cmd.labels) labels[key] = value;
        config.Labels = labels;
        break;
      }
      case 'expose': {
        const ports = { ...(config.ExposedPorts ?? {}) };
        for (const spec of cmd.ports) for (const key of portKeys(spec, text)) ports[key] = {};
        config.ExposedPorts = ports;
        break;
      }
      case 'volume': {
        const volumes = { ...(config.Volumes ?? {}) };
        for (const v of cmd.volumes) {
          if (v.trim() === '') throw bad(text, 'VOLUME specified can not be an empty string');
          volumes[v] = {};
        }
        config.Volumes = volumes;
        break;
      }
      case 'user':
        config.User = cmd.user;
        break;
      case 'workdir':
        config.WorkingDir = cmd.path.startsWith('/')
          ? cmd.path
          : `${config.WorkingDir ?? '/'}/${cmd.path}`.replace(/\/+/g, '/');
        break;
      case 'stopsignal':
        if (!/^(SIG[A-Z0-9+-]+|[A-Z0-9+-]+|\d+)$/.test(cmd.signal)) {
          throw bad(text, `invalid signal "${cmd.signal}"`);
        }
        config.StopSignal = cmd.signal;
        break;
      case 'onbuild':
        config.OnBuild = [...(config.OnBuild ?? []), cmd.expression];
        break;
      default:
        throw bad(text, `${cmd.keyword} is not a valid change command`);
    }
  }
  return config;
}
