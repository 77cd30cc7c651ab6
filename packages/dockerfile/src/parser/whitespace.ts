/**
 * Go's notion of whitespace, which BuildKit's parser uses everywhere. This is not
 * JavaScript's `\s`: Go's `unicode.IsSpace` includes U+0085 and excludes U+FEFF.
 */

/** Go's `unicode.IsSpace` for a UTF-16 code unit (no whitespace lies outside the BMP). */
export function isGoSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0x85) return false;
  return (
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** The narrower "blank" set `[\t\v\f\r ]` of BuildKit's `reWhitespace`. */
export function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0x0d;
}

/** Index of the first non-Go-space code unit of `s[from, to)`, or `to`. */
export function skipGoSpace(s: string, from: number, to: number): number {
  let i = from;
  while (i < to && isGoSpace(s.charCodeAt(i))) i++;
  return i;
}

/** Index just after the last non-Go-space code unit of `s[from, to)`, or `from`. */
export function trimGoSpaceEnd(s: string, from: number, to: number): number {
  let i = to;
  while (i > from && isGoSpace(s.charCodeAt(i - 1))) i--;
  return i;
}

/** Go's `strings.TrimSpace`. */
export function goTrimSpace(s: string): string {
  const start = skipGoSpace(s, 0, s.length);
  const end = trimGoSpaceEnd(s, start, s.length);
  return start === 0 && end === s.length ? s : s.slice(start, end);
}
