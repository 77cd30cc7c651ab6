/**
 * Sizes and durations as docker prints them (github.com/docker/go-units): decimal units with
 * three significant digits (`4.26MB`, `1.09kB`, `512B`) and `%.3g` formatting, so an edge case
 * such as 999 999 bytes prints `1e+03kB` exactly like docker.
 */

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'] as const;
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'] as const;

/** Go's `%.<precision>g` for a finite, non-negative number. */
export function formatGoG(value: number, precision: number): string {
  if (value === 0) return '0';
  const exponent = Math.floor(Math.log10(Math.abs(value)));
  // Round first: rounding can carry into the next power of ten (999.9 → 1.00e+3).
  const rounded = Number(value.toPrecision(precision));
  const exp = rounded === 0 ? exponent : Math.floor(Math.log10(Math.abs(rounded)));
  if (exp < -4 || exp >= precision) {
    const mantissa = stripZeros((rounded / 10 ** exp).toFixed(precision - 1));
    const sign = exp < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const decimals = Math.max(0, precision - 1 - exp);
  return stripZeros(rounded.toFixed(decimals));
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

function withUnits(
  size: number,
  base: number,
  units: readonly string[],
  precision: number,
): string {
  let value = size;
  let i = 0;
  while (value >= base && i < units.length - 1) {
    value /= base;
    i++;
  }
  return `${formatGoG(value, precision)}${units[i] ?? ''}`;
}

/** docker's `units.HumanSizeWithPrecision(size, 3)`: `4.26MB`, `0B`, `1.09kB`. */
export function humanSize(bytes: number, precision = 3): string {
  return withUnits(bytes, 1000, DECIMAL_UNITS, precision);
}

/** docker's `units.BytesSize`: binary units, `1.5KiB`, `4MiB`. */
export function bytesSize(bytes: number, precision = 4): string {
  return withUnits(bytes, 1024, BINARY_UNITS, precision);
}
