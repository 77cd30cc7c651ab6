/**
 * Which runtime runs a container (`--runtime builtin|runc|<path>`), and where its state lives:
 * `<root>/runtime/<name>/` — inside the lab root, so test roots never collide.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { invalidArgument } from '@lab/oci';
import { createBuiltinRuntime } from '../runtime/builtin/builtin-runtime.js';
import { createOciRuntime } from '../runtime/oci/oci-runtime.js';
import type { Runtime } from '../runtime/runtime.js';

/** The default runtime. */
export const DEFAULT_RUNTIME = 'builtin';

/** Checks a `--runtime` value: `builtin`, `runc`, or an absolute path to an OCI runtime binary. */
export function checkRuntimeName(name: string): string {
  if (name === 'builtin' || name === 'runc' || name.startsWith('/')) return name;
  throw invalidArgument(
    `unknown runtime "${name}": use builtin, runc, or the absolute path of an OCI runtime binary`,
    { details: { runtime: name } },
  );
}

/** Opens the runtime `name` of the lab root `root`. */
export function openContainerRuntime(root: string, name: string): Runtime {
  checkRuntimeName(name);
  if (name === 'builtin') return createBuiltinRuntime({ root: join(root, 'runtime', 'builtin') });
  if (name === 'runc') return createOciRuntime({ root: join(root, 'runtime', 'runc') });
  const tag = createHash('sha256').update(name).digest('hex').slice(0, 12);
  return createOciRuntime({ root: join(root, 'runtime', `oci-${tag}`), binary: name });
}
