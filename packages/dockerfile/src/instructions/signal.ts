/**
 * STOPSIGNAL values as moby/sys/signal `ParseSignal` reads them on Linux: a positive number,
 * or a name with or without `SIG` (any case), including `RTMIN+n` and `RTMAX-n`.
 */

const LINUX_SIGNALS: Readonly<Record<string, number>> = {
  ABRT: 6,
  ALRM: 14,
  BUS: 7,
  CHLD: 17,
  CLD: 17,
  CONT: 18,
  FPE: 8,
  HUP: 1,
  ILL: 4,
  INT: 2,
  IO: 29,
  IOT: 6,
  KILL: 9,
  PIPE: 13,
  POLL: 29,
  PROF: 27,
  PWR: 30,
  QUIT: 3,
  SEGV: 11,
  STKFLT: 16,
  STOP: 19,
  SYS: 31,
  TERM: 15,
  TRAP: 5,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  USR1: 10,
  USR2: 12,
  VTALRM: 26,
  WINCH: 28,
  XCPU: 24,
  XFSZ: 25,
  RTMIN: 34,
  RTMAX: 64,
};

function lookup(name: string): number | undefined {
  const direct = LINUX_SIGNALS[name];
  if (direct !== undefined) return direct;
  const m = /^RTM(IN\+|AX-)(\d+)$/.exec(name);
  if (m === null) return undefined;
  const n = Number(m[2]);
  if (n < 1 || n > 15) return undefined;
  return m[1] === 'IN+' ? 34 + n : 64 - n;
}

/** The signal number of a STOPSIGNAL value; throws `Invalid signal: X` like moby. */
export function parseSignal(raw: string): number {
  if (/^[+-]?\d+$/.test(raw)) {
    const n = Number(raw);
    if (n === 0) throw new Error(`Invalid signal: ${raw}`);
    return n;
  }
  const upper = raw.toUpperCase();
  const sig = lookup(upper.startsWith('SIG') ? upper.slice(3) : upper);
  if (sig === undefined) throw new Error(`Invalid signal: ${raw}`);
  return sig;
}
