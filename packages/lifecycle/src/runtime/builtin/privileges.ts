/**
 * The process-level part of the builtin runtime, shared by `create` and `exec`: rlimits,
 * groups, capabilities, user, env and the program, turned into host command prefixes
 * (util-linux, before the container's root is entered) and the final busybox steps (after).
 */
import { readFile, stat } from 'node:fs/promises';
import type { Process } from '@lab/oci';
import { DEFAULT_PATH_ENV, invalidArgument, notFound } from '@lab/oci';
import { secureJoin } from '../../bundle/secure-join.js';
import {
  boundingArgument,
  capsFromMask,
  finalCapabilityArgs,
  setupInheritable,
} from './capabilities.js';

/** Paths of the host tools the builtin runtime runs. */
export interface HostTools {
  /** A statically linked busybox (Debian `busybox-static`); default `/bin/busybox`. */
  busybox: string;
  unshare: string;
  nsenter: string;
  setpriv: string;
  prlimit: string;
  mount: string;
  /** util-linux `script`: holds the pty of a container with a terminal. */
  script: string;
}

/** The default tool paths (Debian 12). */
export const DEFAULT_TOOLS: HostTools = {
  busybox: '/bin/busybox',
  unshare: '/usr/bin/unshare',
  nsenter: '/usr/bin/nsenter',
  setpriv: '/usr/bin/setpriv',
  prlimit: '/usr/bin/prlimit',
  mount: '/usr/bin/mount',
  script: '/usr/bin/script',
};

const RLIMIT_OPTIONS: Record<string, string> = {
  RLIMIT_AS: 'as',
  RLIMIT_CORE: 'core',
  RLIMIT_CPU: 'cpu',
  RLIMIT_DATA: 'data',
  RLIMIT_FSIZE: 'fsize',
  RLIMIT_LOCKS: 'locks',
  RLIMIT_MEMLOCK: 'memlock',
  RLIMIT_MSGQUEUE: 'msgqueue',
  RLIMIT_NICE: 'nice',
  RLIMIT_NOFILE: 'nofile',
  RLIMIT_NPROC: 'nproc',
  RLIMIT_RSS: 'rss',
  RLIMIT_RTPRIO: 'rtprio',
  RLIMIT_RTTIME: 'rttime',
  RLIMIT_SIGPENDING: 'sigpending',
  RLIMIT_STACK: 'stack',
};

function limitValue(n: number): string {
  return n >= Number.MAX_SAFE_INTEGER || n < 0 ? 'unlimited' : String(n);
}

let engineBounding: Promise<string[]> | undefined;

/** The bounding set of this (engine) process: what the setup may raise. */
export function engineBoundingSet(): Promise<string[]> {
  engineBounding ??= readFile('/proc/self/status', 'utf8').then((text) => {
    const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(text)?.[1] ?? '0';
    return capsFromMask(hex);
  });
  return engineBounding;
}

/** The host-side argv prefix: prlimit, then setpriv ×2 (inheritable + groups, bounding). */
export async function hostPrivilegePrefix(
  tools: HostTools,
  process: Process,
): Promise<{ rlimits: string[]; caps: string[] }> {
  const rlimits: string[] = [];
  for (const r of process.rlimits ?? []) {
    const option = RLIMIT_OPTIONS[r.type];
    if (option === undefined) {
      throw invalidArgument(
        `unknown rlimit type "${r.type}" in process.rlimits: expected e.g. RLIMIT_NOFILE`,
        {
          details: { rlimit: r.type },
        },
      );
    }
    rlimits.push(`--${option}=${limitValue(r.soft)}:${limitValue(r.hard)}`);
  }
  const user = process.user ?? { uid: 0, gid: 0 };
  const groups = user.additionalGids ?? [];
  const caps = [
    tools.setpriv,
    '--inh-caps',
    setupInheritable(await engineBoundingSet()),
    '--regid',
    String(user.gid),
    ...(groups.length > 0 ? ['--groups', groups.join(',')] : ['--clear-groups']),
    '--',
    tools.setpriv,
    '--bounding-set',
    boundingArgument(process.capabilities?.bounding ?? []),
    '--',
  ];
  return { rlimits: rlimits.length > 0 ? [tools.prlimit, ...rlimits, '--'] : [], caps };
}

/** busybox `setpriv` arguments of the last step (inheritable/ambient, no_new_privs). */
export function finalSetprivArgs(process: Process): string[] {
  const args = finalCapabilityArgs(
    process.capabilities?.inheritable ?? [],
    process.capabilities?.ambient ?? [],
  );
  if (process.noNewPrivileges === true) args.push('--nnp');
  return args;
}

/**
 * Resolves `args[0]` as the container would (PATH from the process env), with symlinks kept
 * inside the rootfs; returns the absolute container path. runc fails `create` the same way.
 */
export async function resolveProgram(
  rootfs: string,
  process: Process,
  binds: readonly { source: string; destination: string }[] = [],
): Promise<string> {
  // a bind mount (such as --init's /sbin/docker-init) provides files the rootfs lacks
  const hostPath = async (candidate: string): Promise<string> => {
    const bind = binds
      .filter(
        (b) =>
          candidate === b.destination ||
          candidate.startsWith(`${b.destination.replace(/\/$/, '')}/`),
      )
      .sort((a, b) => b.destination.length - a.destination.length)[0];
    if (bind === undefined) return secureJoin(rootfs, candidate);
    return bind.source + candidate.slice(bind.destination.replace(/\/$/, '').length);
  };
  const name = process.args?.[0];
  if (name === undefined || name === '') {
    throw invalidArgument('process.args is empty: the container has no command to run');
  }
  const candidates: string[] = [];
  if (name.includes('/')) {
    candidates.push(name.startsWith('/') ? name : `${process.cwd.replace(/\/$/, '')}/${name}`);
  } else {
    const pathEnv = (process.env ?? []).find((e) => e.startsWith('PATH=')) ?? DEFAULT_PATH_ENV;
    for (const dir of pathEnv.slice(5).split(':')) {
      if (dir !== '') candidates.push(`${dir.replace(/\/$/, '')}/${name}`);
    }
  }
  for (const candidate of candidates) {
    try {
      const st = await stat(await hostPath(candidate));
      if (st.isFile() && (st.mode & 0o111) !== 0) return candidate;
    } catch {
      // try the next
    }
  }
  throw notFound(
    name.includes('/')
      ? `exec: "${name}": no such file or directory in the container's root filesystem`
      : `exec: "${name}": executable file not found in $PATH`,
    { details: { program: name, reason: 'executable-not-found' } },
  );
}
