/** docker's `create`/`run` flags → `CreateContainerOptions`. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import type { CreateContainerOptions, PortBinding } from '@lab/lifecycle';
import {
  emptyMounts,
  parseMountFlag,
  parseRestartPolicy,
  parseTmpfsFlag,
  parseVolumeFlag,
} from '@lab/lifecycle';
import { invalidArgument } from '@lab/oci';

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Adds the flags shared by `create` and `run`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- keeps the caller's argument types
export function addCreateFlags<C extends Command<any, any, any>>(cmd: C): C {
  return cmd
    .option('--name <name>', 'assign a name to the container')
    .option('-e, --env <env>', 'set environment variables', collect, [])
    .option('--env-file <file>', 'read in a file of environment variables', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user>', 'username or UID (format: <name|uid>[:<group|gid>])')
    .option('--entrypoint <cmd>', 'overwrite the default ENTRYPOINT of the image')
    .option('-h, --hostname <name>', 'container host name')
    .option('-i, --interactive', 'keep STDIN open even if not attached')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('-p, --publish <port>', "publish a container's port(s) to the host", collect, [])
    .option('-v, --volume <spec>', 'bind mount a volume', collect, [])
    .option('--mount <spec>', 'attach a filesystem mount to the container', collect, [])
    .option('--tmpfs <spec>', 'mount a tmpfs directory', collect, [])
    .option('--network <mode>', 'connect a container to a network (bridge, none, host)')
    .option('--net <mode>', 'alias of --network')
    .option('-m, --memory <bytes>', 'memory limit')
    .option('--cpus <n>', 'number of CPUs')
    .option('--pids-limit <n>', 'tune container pids limit (-1 for unlimited)')
    .option('--restart <policy>', 'restart policy to apply when a container exits', 'no')
    .option('--rm', 'automatically remove the container when it exits')
    .option('--read-only', "mount the container's root filesystem as read only")
    .option('--runtime <name>', 'runtime to use for this container: builtin, runc or a path')
    .option('--init', 'run an init inside the container that forwards signals and reaps processes')
    .option('-l, --label <label>', 'set meta data on a container', collect, [])
    .option('--stop-signal <signal>', 'signal to stop the container')
    .option('--stop-timeout <seconds>', 'timeout (in seconds) to stop a container') as unknown as C;
}

/** `512m`, `1g`, `1024` → bytes. */
export function parseBytes(value: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([bkmgt]?)b?$/i.exec(value.trim());
  if (m === null)
    throw invalidArgument(
      `invalid size: '${value}': use a number with an optional unit b, k, m, g`,
    );
  const unit =
    { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase()] ?? 1;
  return Math.round(Number(m[1]) * unit);
}

/** `-p [ip:][hostPort:]containerPort[/proto]`. */
export function parsePort(spec: string): PortBinding {
  const m =
    /^(?:(?:\[?([0-9a-fA-F.:]+)\]?:)?([0-9]*(?:-[0-9]+)?):)?([0-9]+(?:-[0-9]+)?)(?:\/(tcp|udp|sctp))?$/.exec(
      spec,
    );
  if (m === null)
    throw invalidArgument(
      `invalid publish spec "${spec}": use [ip:][hostPort:]containerPort[/proto]`,
    );
  return { ContainerPort: `${m[3]!}/${m[4] ?? 'tcp'}`, HostIp: m[1] ?? '', HostPort: m[2] ?? '' };
}

export interface CreateFlags {
  name?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  hostname?: string;
  interactive?: boolean;
  tty?: boolean;
  publish: string[];
  volume: string[];
  mount: string[];
  tmpfs: string[];
  network?: string;
  net?: string;
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  restart: string;
  rm?: boolean;
  readOnly?: boolean;
  runtime?: string;
  init?: boolean;
  label: string[];
  stopSignal?: string;
  stopTimeout?: string;
}

async function readEnvFile(file: string, cwd: string): Promise<string[]> {
  const text = await readFile(resolve(cwd, file), 'utf8');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

function expandEnv(entry: string, env: Record<string, string | undefined>): string | undefined {
  if (entry.includes('=')) return entry;
  const v = env[entry];
  return v === undefined ? undefined : `${entry}=${v}`;
}

/** The parsed options. */
export async function createOptions(
  image: string,
  cmd: string[],
  o: CreateFlags,
  cwd: string,
  env: Record<string, string | undefined>,
): Promise<CreateContainerOptions> {
  const mounts = emptyMounts();
  for (const v of o.volume) parseVolumeFlag(v, cwd, mounts);
  for (const m of o.mount) parseMountFlag(m, cwd, mounts);
  for (const t of o.tmpfs) parseTmpfsFlag(t, mounts);
  const envs: string[] = [];
  for (const f of o.envFile) envs.push(...(await readEnvFile(f, cwd)));
  envs.push(...o.env);
  const labels: Record<string, string> = {};
  for (const l of o.label) {
    const eq = l.indexOf('=');
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  const num = (v: string | undefined, what: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw invalidArgument(`invalid argument "${v}" for "${what}" flag`);
    return n;
  };
  const cpus = num(o.cpus, '--cpus');
  const pids = num(o.pidsLimit, '--pids-limit');
  const stopTimeout = num(o.stopTimeout, '--stop-timeout');
  return {
    image,
    cmd,
    ...(o.name === undefined ? {} : { name: o.name }),
    env: envs.map((e) => expandEnv(e, env)).filter((e): e is string => e !== undefined),
    ...(o.workdir === undefined ? {} : { workdir: o.workdir }),
    ...(o.user === undefined ? {} : { user: o.user }),
    ...(o.entrypoint === undefined
      ? {}
      : { entrypoint: o.entrypoint === '' ? [] : [o.entrypoint] }),
    ...(o.hostname === undefined ? {} : { hostname: o.hostname }),
    tty: o.tty === true,
    openStdin: o.interactive === true,
    labels,
    // lab's default is `none` (docker's is bridge): publishing a port asks for the bridge
    network: o.net ?? o.network ?? 'bridge',
    ports: o.publish.map(parsePort),
    mounts,
    bindSpecs: o.volume,
    restart: parseRestartPolicy(o.restart),
    autoRemove: o.rm === true,
    readOnly: o.readOnly === true,
    ...(o.memory === undefined ? {} : { memory: parseBytes(o.memory) }),
    ...(cpus === undefined ? {} : { nanoCpus: Math.round(cpus * 1e9) }),
    ...(pids === undefined || pids <= 0 ? {} : { pidsLimit: pids }),
    ...(o.runtime === undefined ? {} : { runtime: o.runtime }),
    init: o.init === true,
    ...(o.stopSignal === undefined ? {} : { stopSignal: o.stopSignal }),
    ...(stopTimeout === undefined ? {} : { stopTimeout }),
  };
}
