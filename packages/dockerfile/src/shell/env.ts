/**
 * An environment given as `KEY=VALUE` strings (BuildKit `shell.BuildEnvs`): an entry
 * without `=` defines KEY as empty; the last duplicate wins.
 */
export function envFromList(list: readonly string[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const entry of list) {
    const eq = entry.indexOf('=');
    if (eq < 0) env.set(entry, '');
    else env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}
