/**
 * Capability arithmetic for the builtin runtime's privilege drop.
 *
 * The drop is split around pivot_root because util-linux `setpriv` (the only tool that can
 * shrink the bounding set) is dynamically linked and unusable once the host root is gone:
 *
 * 1. before the namespaces are set up, host `setpriv` raises the *inheritable* set to every
 *    capability busybox can name (0..CAP_AUDIT_READ) that the engine has, then a second
 *    `setpriv` shrinks the *bounding* set to the spec's. For uid 0, execve gives
 *    permitted = inheritable ∪ bounding, so the setup shell keeps CAP_SYS_ADMIN & co. for
 *    mounts and pivot_root while the bounding set is already final;
 * 2. after pivot_root, busybox's `setpriv --inh-caps` (run via /proc/self/exe: busybox-static
 *    is still mapped) empties the inheritable set again (and sets the spec's inheritable and
 *    ambient sets), so the user program's execve yields permitted = effective = bounding for
 *    root, and nothing for another uid (setuid clears them, as execve without file caps).
 */
import { invalidArgument } from '@lab/oci';
import { CAPABILITY_NAMES } from '../../bundle/create-spec.js';

/** The last capability busybox 1.35's setpriv knows by name (CAP_AUDIT_READ = 37). */
const BUSYBOX_LAST_CAP = 37;

/** `CAP_SYS_ADMIN` → `sys_admin`. */
export function shortCapName(name: string): string {
  return name.toLowerCase().replace(/^cap_/, '');
}

/** Parses a `CapBnd:`-style hex mask into capability names. */
export function capsFromMask(hex: string): string[] {
  const mask = BigInt(`0x${hex}`);
  return CAPABILITY_NAMES.filter((_, i) => ((mask >> BigInt(i)) & 1n) === 1n);
}

/** The hex mask (`CapEff` format, 16 digits) of a set of capability names. */
export function capMask(names: readonly string[]): string {
  let mask = 0n;
  for (const name of names) {
    const i = (CAPABILITY_NAMES as readonly string[]).indexOf(
      name.toUpperCase().startsWith('CAP_') ? name.toUpperCase() : `CAP_${name.toUpperCase()}`,
    );
    if (i >= 0) mask |= 1n << BigInt(i);
  }
  return mask.toString(16).padStart(16, '0');
}

/** Step 1a: the inheritable set to raise (what busybox can clear later, and we hold). */
export function setupInheritable(engineBounding: readonly string[]): string {
  const names = CAPABILITY_NAMES.slice(0, BUSYBOX_LAST_CAP + 1).filter((c) =>
    engineBounding.includes(c),
  );
  return ['-all', ...names.map((c) => `+${shortCapName(c)}`)].join(',');
}

/** Step 1b: util-linux `--bounding-set` argument for the spec's bounding set. */
export function boundingArgument(bounding: readonly string[]): string {
  return ['-all', ...bounding.map((c) => `+${shortCapName(c)}`)].join(',');
}

function checkNamable(names: readonly string[], set: string): void {
  for (const name of names) {
    const i = (CAPABILITY_NAMES as readonly string[]).indexOf(name);
    if (i < 0 || i > BUSYBOX_LAST_CAP) {
      throw invalidArgument(
        `the builtin runtime cannot put ${name} in the ${set} capability set (busybox setpriv knows capabilities up to CAP_AUDIT_READ); use the runc runtime`,
        { details: { capability: name, set } },
      );
    }
  }
}

/** Step 2: busybox `setpriv` arguments: clear inheritable, then add the spec's inheritable/ambient. */
export function finalCapabilityArgs(
  inheritable: readonly string[],
  ambient: readonly string[],
): string[] {
  checkNamable(inheritable, 'inheritable');
  checkNamable(ambient, 'ambient');
  const clear = CAPABILITY_NAMES.slice(0, BUSYBOX_LAST_CAP + 1).map((c) => `-${shortCapName(c)}`);
  const add = [...new Set([...inheritable, ...ambient])].map((c) => `+${shortCapName(c)}`);
  const args = ['--inh-caps', [...clear, ...add].join(',')];
  if (ambient.length > 0)
    args.push('--ambient-caps', ambient.map((c) => `+${shortCapName(c)}`).join(','));
  return args;
}
