/**
 * Resolves docker's `--user` (`name|uid[:group|gid]`) against the container's own
 * `/etc/passwd` and `/etc/group`, as libcontainer's `GetExecUser` does: a numeric uid that is
 * not in passwd is used as it is (gid 0, home `/`); a name must exist; with no group given the
 * user's primary gid and every group listing the user as a member apply; with a group given
 * the supplementary groups from /etc/group are not added.
 */
import { readFile } from 'node:fs/promises';
import { invalidArgument } from '@lab/oci';
import { secureJoin } from './secure-join.js';

/** A user resolved for the container process. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups (from /etc/group membership and `groupAdd`), sorted, unique. */
  additionalGids: number[];
  /** The home directory from passwd, `/` when unknown (becomes `HOME`). */
  home: string;
  /** The passwd name, when the user is listed. */
  username?: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const NUMERIC = /^[0-9]+$/;

async function readLines(rootfs: string, file: string): Promise<string[][]> {
  let text: string;
  try {
    text = await readFile(await secureJoin(rootfs, file), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'));
}

async function readPasswd(rootfs: string): Promise<PasswdEntry[]> {
  return (await readLines(rootfs, '/etc/passwd'))
    .filter((f) => f.length >= 4 && NUMERIC.test(f[2] ?? '') && NUMERIC.test(f[3] ?? ''))
    .map((f) => ({
      name: f[0] ?? '',
      uid: Number(f[2]),
      gid: Number(f[3]),
      home: f[5] === undefined || f[5] === '' ? '/' : f[5],
    }));
}

async function readGroups(rootfs: string): Promise<GroupEntry[]> {
  return (await readLines(rootfs, '/etc/group'))
    .filter((f) => f.length >= 3 && NUMERIC.test(f[2] ?? ''))
    .map((f) => ({
      name: f[0] ?? '',
      gid: Number(f[2]),
      members: (f[3] ?? '').split(',').filter((m) => m !== ''),
    }));
}

function checkId(value: number, what: string, spec: string): number {
  if (value > 0x7fffffff) {
    throw invalidArgument(`${what} ${value} in user "${spec}" is out of range (max 2147483647)`);
  }
  return value;
}

function findGroup(groups: GroupEntry[], arg: string, spec: string): number {
  if (NUMERIC.test(arg)) return checkId(Number(arg), 'gid', spec);
  const found = groups.find((g) => g.name === arg);
  if (found === undefined) {
    throw invalidArgument(
      `unable to find group ${arg}: no matching entries in group file (user "${spec}"); use a numeric gid or add the group to the image's /etc/group`,
      { details: { user: spec, group: arg } },
    );
  }
  return found.gid;
}

/**
 * Resolves `user` (empty or undefined = root) in `rootfs`. `groupAdd` (docker's `--group-add`,
 * names or gids) is added to the supplementary groups.
 */
export async function resolveUser(
  rootfs: string,
  user: string | undefined,
  groupAdd: readonly string[] = [],
): Promise<ResolvedUser> {
  const spec = user === undefined || user === '' ? '0' : user;
  const colon = spec.indexOf(':');
  const userArg = colon < 0 ? spec : spec.slice(0, colon);
  const groupArg = colon < 0 ? undefined : spec.slice(colon + 1);
  if (userArg === '') throw invalidArgument(`invalid user "${spec}": the user part is empty`);

  const passwd = await readPasswd(rootfs);
  const groups = await readGroups(rootfs);
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (NUMERIC.test(userArg)) {
    uid = checkId(Number(userArg), 'uid', spec);
    entry = passwd.find((p) => p.uid === uid);
  } else {
    entry = passwd.find((p) => p.name === userArg);
    if (entry === undefined) {
      throw invalidArgument(
        `unable to find user ${userArg}: no matching entries in passwd file; use a numeric uid or add the user to the image's /etc/passwd`,
        { details: { user: spec } },
      );
    }
    uid = entry.uid;
  }
  let gid = entry?.gid ?? 0;
  const extra = new Set<number>();
  if (groupArg !== undefined && groupArg !== '') {
    gid = findGroup(groups, groupArg, spec);
  } else if (entry !== undefined) {
    for (const g of groups) if (g.members.includes(entry.name)) extra.add(g.gid);
  }
  for (const g of groupAdd) extra.add(findGroup(groups, g, spec));
  return {
    uid,
    gid,
    additionalGids: [...extra].sort((a, b) => a - b),
    home: entry?.home ?? '/',
    ...(entry === undefined ? {} : { username: entry.name }),
  };
}
