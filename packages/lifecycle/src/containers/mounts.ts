/**
 * docker's `-v`, `--mount` and `--tmpfs` grammar → bind mounts, tmpfs mounts and named-volume
 * requests.
 */
import { isAbsolute, resolve } from 'node:path';
import { invalidArgument } from '@lab/oci';
import type { BindMount, TmpfsMount } from '../bundle/index.js';
import type { MountPoint, VolumeRequest } from './types.js';

/** The mounts of a container, parsed. */
export interface ParsedMounts {
  binds: BindMount[];
  tmpfs: TmpfsMount[];
  volumes: VolumeRequest[];
  points: MountPoint[];
}

function bindPoint(b: BindMount): MountPoint {
  return {
    Type: 'bind',
    Source: b.source,
    Destination: b.destination,
    Mode: b.readonly === true ? 'ro' : '',
    RW: b.readonly !== true,
    Propagation: b.propagation ?? 'rprivate',
  };
}

/** `-v SRC:DST[:OPTS]`; `-v DST` alone is an anonymous volume, `-v name:DST` a named one. */
export function parseVolumeFlag(spec: string, cwd: string, out: ParsedMounts): void {
  const parts = spec.split(':');
  if (parts.length === 1) {
    out.volumes.push({ name: '', destination: checkDest(parts[0]!, spec), readonly: false });
    return;
  }
  if (parts.length > 3) throw invalidArgument(`invalid volume specification: '${spec}'`);
  const [source, destination, opts = ''] = parts as [string, string, string?];
  const flags = opts === '' ? [] : opts.split(',');
  for (const f of flags) {
    if (
      ![
        'ro',
        'rw',
        'z',
        'Z',
        'rprivate',
        'private',
        'rslave',
        'slave',
        'rshared',
        'shared',
      ].includes(f)
    ) {
      throw invalidArgument(`invalid mode: ${f} in volume specification '${spec}'`);
    }
  }
  const readonly = flags.includes('ro');
  const propagation = flags.find((f) =>
    /^r?(private|slave|shared)$/.test(f),
  ) as BindMount['propagation'];
  const dest = checkDest(destination, spec);
  if (source.startsWith('/') || source.startsWith('.')) {
    const b: BindMount = {
      source: resolve(cwd, source),
      destination: dest,
      readonly,
      ...(propagation === undefined ? {} : { propagation }),
    };
    out.binds.push(b);
    out.points.push(bindPoint(b));
  } else {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(source)) {
      throw invalidArgument(
        `"${source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    }
    out.volumes.push({ name: source, destination: dest, readonly });
  }
}

function checkDest(dest: string, spec: string): string {
  if (!isAbsolute(dest)) {
    throw invalidArgument(`invalid mount config: mount path must be absolute in '${spec}'`);
  }
  if (dest === '/')
    throw invalidArgument(`invalid specification: destination can't be '/' in '${spec}'`);
  return dest;
}

/** `--tmpfs /dst[:opts]`. */
export function parseTmpfsFlag(spec: string, out: ParsedMounts): void {
  const colon = spec.indexOf(':');
  const dest = checkDest(colon < 0 ? spec : spec.slice(0, colon), spec);
  const options =
    colon < 0
      ? []
      : spec
          .slice(colon + 1)
          .split(',')
          .filter((o) => o !== '');
  out.tmpfs.push({ destination: dest, options });
  out.points.push({
    Type: 'tmpfs',
    Source: '',
    Destination: dest,
    Mode: options.join(','),
    RW: !options.includes('ro'),
    Propagation: '',
  });
}

/** `--mount type=bind|tmpfs|volume,source=…,target=…[,readonly]`. */
export function parseMountFlag(spec: string, cwd: string, out: ParsedMounts): void {
  const fields = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    fields.set(key, eq < 0 ? 'true' : part.slice(eq + 1));
  }
  const type = fields.get('type') ?? 'volume';
  const target = fields.get('target') ?? fields.get('destination') ?? fields.get('dst');
  if (target === undefined)
    throw invalidArgument(`invalid argument "${spec}" for "--mount" flag: target is required`);
  const ro = ['readonly', 'ro'].some((k) => fields.has(k) && fields.get(k) !== 'false');
  const source = fields.get('source') ?? fields.get('src');
  switch (type) {
    case 'bind': {
      if (source === undefined)
        throw invalidArgument(
          `invalid argument "${spec}" for "--mount" flag: source is required for bind mounts`,
        );
      const propagation = fields.get('bind-propagation') as BindMount['propagation'];
      const b: BindMount = {
        source: resolve(cwd, source),
        destination: checkDest(target, spec),
        readonly: ro,
        ...(propagation === undefined ? {} : { propagation }),
      };
      out.binds.push(b);
      out.points.push(bindPoint(b));
      return;
    }
    case 'tmpfs': {
      const opts: string[] = [];
      const size = fields.get('tmpfs-size');
      if (size !== undefined) opts.push(`size=${size}`);
      const mode = fields.get('tmpfs-mode');
      if (mode !== undefined) opts.push(`mode=${mode}`);
      if (ro) opts.push('ro');
      parseTmpfsFlag(`${target}${opts.length > 0 ? `:${opts.join(',')}` : ''}`, out);
      return;
    }
    case 'volume':
      out.volumes.push({ name: source ?? '', destination: checkDest(target, spec), readonly: ro });
      return;
    default:
      throw invalidArgument(`invalid mount type "${type}": use bind, tmpfs or volume`);
  }
}

/** An empty {@link ParsedMounts}. */
export function emptyMounts(): ParsedMounts {
  return { binds: [], tmpfs: [], volumes: [], points: [] };
}
