/** Shell quoting for the scripts the builtin runtime hands to busybox `sh -c`. */

/** `value` as one single-quoted shell word. */
export function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
