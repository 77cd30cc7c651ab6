/**
 * The files docker writes per container and bind-mounts over the image's `/etc/hostname`,
 * `/etc/hosts` and `/etc/resolv.conf`. The caller (the container layer) writes them into the
 * container directory with {@link writeEtcFiles} and passes the result to `createSpec`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';

/** One line of `/etc/hosts`. */
export interface HostsEntry {
  address: string;
  names: readonly string[];
}

/** The resolver configuration; a string is written as it is. */
export type ResolvConf =
  | string
  | {
      nameservers: readonly string[];
      search?: readonly string[];
      options?: readonly string[];
    };

/** What {@link writeEtcFiles} writes. */
export interface EtcFilesInit {
  hostname: string;
  /** Extra `/etc/hosts` entries, after the loopback ones and the container's own name. */
  hosts?: readonly HostsEntry[];
  /** The container's own address for its hostname line; default none (only loopback). */
  address?: string;
  /** Default: a copy of nothing (an empty resolver file). */
  resolv?: ResolvConf;
}

/** The host paths of the files, to bind-mount into the container. */
export interface EtcFiles {
  hostname?: string;
  hosts?: string;
  resolvConf?: string;
}

function renderResolv(resolv: ResolvConf | undefined): string {
  if (resolv === undefined) return '';
  if (typeof resolv === 'string')
    return resolv.endsWith('\n') || resolv === '' ? resolv : `${resolv}\n`;
  const lines = resolv.nameservers.map((ns) => `nameserver ${ns}`);
  if (resolv.search !== undefined && resolv.search.length > 0)
    lines.push(`search ${resolv.search.join(' ')}`);
  if (resolv.options !== undefined && resolv.options.length > 0)
    lines.push(`options ${resolv.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** The `/etc/hosts` text docker writes (loopback, IPv6 names, then the container's name). */
export function renderHosts(init: EtcFilesInit): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const entry of init.hosts ?? []) lines.push(`${entry.address}\t${entry.names.join(' ')}`);
  if (init.address !== undefined) lines.push(`${init.address}\t${init.hostname}`);
  return `${lines.join('\n')}\n`;
}

/** Writes `hostname`, `hosts` and `resolv.conf` into `containerDir` (atomically) and returns their paths. */
export async function writeEtcFiles(
  containerDir: string,
  init: EtcFilesInit,
): Promise<Required<EtcFiles>> {
  await mkdir(containerDir, { recursive: true });
  const files = {
    hostname: join(containerDir, 'hostname'),
    hosts: join(containerDir, 'hosts'),
    resolvConf: join(containerDir, 'resolv.conf'),
  };
  await writeFileAtomic(files.hostname, `${init.hostname}\n`);
  await writeFileAtomic(files.hosts, renderHosts(init));
  await writeFileAtomic(files.resolvConf, renderResolv(init.resolv));
  return files;
}
