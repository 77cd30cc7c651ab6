import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The state directory: `--root`, else `LAB_ROOT`, else `/var/lib/lab` for root and
 * `$XDG_DATA_HOME/lab` (or `~/.local/share/lab`) for everyone else.
 */
export function resolveRoot(
  flag: string | undefined,
  env: Record<string, string | undefined>,
  uid: number | undefined = process.getuid?.(),
): string {
  if (flag !== undefined && flag !== '') return flag;
  const fromEnv = env.LAB_ROOT;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (uid === 0) return '/var/lib/lab';
  const xdg = env.XDG_DATA_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.local', 'share'), 'lab');
}
