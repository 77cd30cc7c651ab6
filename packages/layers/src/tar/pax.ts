/**
 * PAX extended header records: `"<len> <key>=<value>\n"`, where len counts the whole record
 * in bytes, including its own digits. Values stay Buffers so binary xattrs survive.
 */
import type { TarTime } from './header.js';

/** Parses a PAX header body; returns undefined (with a reason) when it is malformed. */
export function parsePaxRecords(
  body: Buffer,
): { ok: true; records: Map<string, Buffer> } | { ok: false; reason: string } {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < body.length) {
    // trailing NUL padding is tolerated (some writers pad the body)
    if (body[pos] === 0) break;
    const space = body.indexOf(0x20, pos);
    if (space < 0) return { ok: false, reason: `record at byte ${pos} has no length` };
    const lenText = body.toString('latin1', pos, space);
    if (!/^[0-9]+$/.test(lenText)) {
      return { ok: false, reason: `record at byte ${pos} has a bad length "${lenText}"` };
    }
    const len = Number(lenText);
    const end = pos + len;
    if (len <= space - pos + 1 || end > body.length || body[end - 1] !== 0x0a) {
      return { ok: false, reason: `record at byte ${pos} (length ${len}) is truncated` };
    }
    const eq = body.indexOf(0x3d, space + 1);
    if (eq < 0 || eq >= end) return { ok: false, reason: `record at byte ${pos} has no "="` };
    const key = body.toString('utf8', space + 1, eq);
    records.set(key, Buffer.from(body.subarray(eq + 1, end - 1)));
    pos = end;
  }
  return { ok: true, records };
}

/** Encodes one record, computing its self-inclusive length. */
export function encodePaxRecord(key: string, value: Buffer): Buffer {
  const keyBytes = Buffer.from(key, 'utf8');
  const rest = keyBytes.length + value.length + 3; // ' ' '=' '\n'
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  const out = Buffer.allocUnsafe(len);
  let o = out.write(`${len} `, 0, 'latin1');
  o += keyBytes.copy(out, o);
  out[o++] = 0x3d;
  o += value.copy(out, o);
  out[o] = 0x0a;
  return out;
}

/** Parses a PAX time such as `1700000000.123456789` or `-1.5`. */
export function parsePaxTime(text: string): TarTime | undefined {
  const m = /^(-?)([0-9]+)(?:\.([0-9]*))?$/.exec(text);
  if (m === null) return undefined;
  const negative = m[1] === '-';
  const whole = Number(m[2]);
  const frac = (m[3] ?? '').slice(0, 9).padEnd(9, '0');
  const nsec = Number(frac);
  if (!negative) return { sec: whole, nsec };
  return nsec === 0 ? { sec: -whole, nsec: 0 } : { sec: -whole - 1, nsec: 1e9 - nsec };
}

/** Formats a time for a PAX record, with the shortest exact fraction. */
export function formatPaxTime(t: TarTime): string {
  if (t.nsec === 0) return String(t.sec);
  if (t.sec < 0) {
    const whole = -(t.sec + 1);
    const frac = String(1e9 - t.nsec)
      .padStart(9, '0')
      .replace(/0+$/, '');
    return `-${whole}.${frac}`;
  }
  const frac = String(t.nsec).padStart(9, '0').replace(/0+$/, '');
  return `${t.sec}.${frac}`;
}
