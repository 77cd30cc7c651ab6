/**
 * Owner and mode arguments of COPY/ADD/WORKDIR: `--chown=user[:group]` with names looked up in
 * the destination rootfs's `/etc/passwd` and `/etc/group` (numbers taken as they are; a lone
 * user sets the group to the user's id, as BuildKit does), and `--chmod` as octal or
 * symbolic (`u=rwX,go=rX`).
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { invalidArgument } from '@lab/oci';

/** A resolved owner. */
export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

async function readDb(rootfs: string, file: string): Promise<string[][]> {
  try {
    const text = await readFile(path.join(rootfs, file), 'utf8');
    return text
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

function isId(s: string): boolean {
  return /^\d+$/.test(s);
}

/** Resolves `user[:group]` against the passwd/group files of `rootfs`. */
export async function resolveOwner(spec: string, rootfs: string): Promise<Owner> {
  const colon = spec.indexOf(':');
  const user = colon < 0 ? spec : spec.slice(0, colon);
  const group = colon < 0 ? undefined : spec.slice(colon + 1);
  let uid: number;
  let primaryGid: number | undefined;
  if (isId(user)) {
    uid = Number(user);
  } else {
    const entry = (await readDb(rootfs, 'etc/passwd')).find((e) => e[0] === user);
    if (entry === undefined) {
      throw invalidArgument(
        `unable to find user ${user}: no matching entries in passwd file; use a numeric id or create the user first`,
      );
    }
    uid = Number(entry[2]);
    primaryGid = Number(entry[3]);
  }
  let gid: number;
  if (group === undefined || group === '') {
    gid = isId(user) ? uid : (primaryGid ?? uid);
  } else if (isId(group)) {
    gid = Number(group);
  } else {
    const entry = (await readDb(rootfs, 'etc/group')).find((e) => e[0] === group);
    if (entry === undefined) {
      throw invalidArgument(
        `unable to find group ${group}: no matching entries in group file; use a numeric id or create the group first`,
      );
    }
    gid = Number(entry[2]);
  }
  return { uid, gid };
}

/** A `--chmod` value: a fixed mode, or a function of the current mode (symbolic form). */
export type ModeChange = (current: number, isDir: boolean) => number;

/** Parses `--chmod`: octal (≤ 07777) or symbolic clauses `[ugoa]*[+-=][rwxXst]*`, comma-separated. */
export function parseChmod(spec: string): ModeChange {
  if (/^[0-7]+$/.test(spec)) {
    const mode = parseInt(spec, 8);
    if (mode > 0o7777) throw invalidArgument(`invalid chmod parameter ${spec}: mode out of range`);
    return () => mode;
  }
  const clauses = spec.split(',').map((clause) => {
    const m = /^([ugoa]*)([+\-=])([rwxXst]*)$/.exec(clause);
    if (m === null) {
      throw invalidArgument(
        `invalid chmod parameter ${JSON.stringify(spec)}: use an octal mode or symbolic clauses like u=rwX,go=rX`,
      );
    }
    return { who: m[1] === '' ? 'a' : m[1]!, op: m[2]!, perms: m[3]! };
  });
  return (current, isDir) => {
    let mode = current & 0o7777;
    for (const { who, op, perms } of clauses) {
      let mask = 0;
      const all = who.includes('a');
      const u = all || who.includes('u');
      const g = all || who.includes('g');
      const o = all || who.includes('o');
      let bits = 0;
      if (perms.includes('r')) bits |= 4;
      if (perms.includes('w')) bits |= 2;
      if (perms.includes('x') || (perms.includes('X') && (isDir || (current & 0o111) !== 0)))
        bits |= 1;
      if (u) mask |= bits << 6;
      if (g) mask |= bits << 3;
      if (o) mask |= bits;
      if (perms.includes('s')) mask |= (u ? 0o4000 : 0) | (g ? 0o2000 : 0);
      if (perms.includes('t')) mask |= 0o1000;
      const clear = (u ? 0o4700 : 0) | (g ? 0o2070 : 0) | (o ? 0o1007 : 0);
      if (op === '+') mode |= mask;
      else if (op === '-') mode &= ~mask;
      else mode = (mode & ~clear) | mask;
    }
    return mode;
  };
}
