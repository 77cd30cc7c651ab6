/**
 * Go's `time.ParseDuration`, `strconv.ParseInt/ParseUint` and `strconv.ParseBool`, with
 * their error messages, as BuildKit surfaces them.
 */
import { goQuote } from '../shell/go-text.js';

const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const MAX_DURATION = 2n ** 63n - 1n;

/** Parses a Go duration (`1h30m`, `1.5s`, `-2ms`) into nanoseconds. Throws Go's message. */
export function parseGoDuration(text: string): number {
  const invalid = (): Error => new Error(`time: invalid duration ${goQuote(text)}`);
  let s = text;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    const whole = num[1] ?? '';
    const frac = num[2];
    if (whole === '' && (frac === undefined || frac === '')) throw invalid();
    s = s.slice(num[0].length);
    const unitMatch = /^[^\d.]*/.exec(s)!;
    const unit = unitMatch[0];
    if (unit === '') throw new Error(`time: missing unit in duration ${goQuote(text)}`);
    const scale = UNITS[unit];
    if (scale === undefined) {
      throw new Error(`time: unknown unit ${goQuote(unit)} in duration ${goQuote(text)}`);
    }
    s = s.slice(unit.length);
    const bigScale = BigInt(scale);
    let value = BigInt(whole === '' ? '0' : whole) * bigScale;
    if (frac !== undefined && frac !== '') {
      value += (BigInt(frac) * bigScale) / 10n ** BigInt(frac.length);
    }
    total += value;
    if (total > MAX_DURATION + (neg ? 1n : 0n)) throw invalid();
  }
  return Number(neg ? -total : total);
}

/** Formats nanoseconds like Go's `time.Duration.String` (`1ms`, `1m30s`, `0s`). */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e9) {
    const [unit, scale] = u < 1e3 ? ['ns', 1] : u < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = `${trimFloat(u / scale)}${unit}`;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    const sec = `${trimFloat(u / 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
  }
  return neg ? `-${out}` : out;
}

function trimFloat(n: number): string {
  return String(Number(n.toFixed(9)));
}

function numError(fn: string, text: string, reason: string): Error {
  return new Error(`strconv.${fn}: parsing ${goQuote(text)}: ${reason}`);
}

/** Go's `strconv.ParseInt(text, 10, 32)`. */
export function parseGoInt32(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw numError('ParseInt', text, 'invalid syntax');
  const n = Number(text);
  if (n > 2147483647 || n < -2147483648) throw numError('ParseInt', text, 'value out of range');
  return n;
}

/** Go's `strconv.ParseUint(text, base, 32)` for base 8 or 10 (no prefixes, no sign). */
export function parseGoUint32(text: string, base: 8 | 10): number {
  const re = base === 8 ? /^[0-7]+$/ : /^\d+$/;
  if (!re.test(text)) throw numError('ParseUint', text, 'invalid syntax');
  const n = parseInt(text, base);
  if (n > 0xffffffff) throw numError('ParseUint', text, 'value out of range');
  return n;
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's `strconv.ParseBool`; undefined when the text is not a boolean. */
export function parseGoBool(text: string): boolean | undefined {
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  return undefined;
}
