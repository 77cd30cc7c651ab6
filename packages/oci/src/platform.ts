/**
 * Platforms (`os/arch[/variant]`): the host's, parsing and formatting specifiers, the
 * normalisation containerd's `platforms` package applies (x86_64 → amd64, aarch64 → arm64,
 * armhf → arm/v7, …), matching, and picking an entry from an image index.
 */
import type { Descriptor, Platform } from './descriptor.js';
import { invalidArgument } from './errors.js';

const KNOWN_OS = new Set([
  'aix',
  'android',
  'darwin',
  'dragonfly',
  'freebsd',
  'hurd',
  'illumos',
  'ios',
  'js',
  'linux',
  'nacl',
  'netbsd',
  'openbsd',
  'plan9',
  'solaris',
  'wasip1',
  'windows',
  'zos',
]);
const KNOWN_ARCH = new Set([
  '386',
  'amd64',
  'amd64p32',
  'arm',
  'armbe',
  'arm64',
  'arm64be',
  'ppc64',
  'ppc64le',
  'loong64',
  'mips',
  'mipsle',
  'mips64',
  'mips64le',
  'mips64p32',
  'mips64p32le',
  'ppc',
  'riscv',
  'riscv64',
  's390',
  's390x',
  'sparc',
  'sparc64',
  'wasm',
]);

const COMPONENT = /^[A-Za-z0-9_-]+$/;
const OS_WITH_VERSION = /^([A-Za-z0-9_-]+)\(([A-Za-z0-9_.-]*)\)$/;

/** Normalises an OS name: lower case, `macos` → `darwin`. */
export function normalizeOs(os: string): string {
  const lower = os.toLowerCase();
  return lower === 'macos' ? 'darwin' : lower;
}

/** Normalises an architecture and variant as containerd does. */
export function normalizeArch(
  architecture: string,
  variant = '',
): { architecture: string; variant: string } {
  const arch = architecture.toLowerCase();
  const v = variant.toLowerCase();
  switch (arch) {
    case 'i386':
      return { architecture: '386', variant: '' };
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return { architecture: 'amd64', variant: v === 'v1' ? '' : v };
    case 'aarch64':
    case 'arm64':
      return { architecture: 'arm64', variant: v === '8' || v === 'v8' ? '' : v };
    case 'armhf':
      return { architecture: 'arm', variant: 'v7' };
    case 'armel':
      return { architecture: 'arm', variant: 'v6' };
    case 'arm':
      switch (v) {
        case '':
        case '7':
          return { architecture: 'arm', variant: 'v7' };
        case '5':
        case '6':
        case '8':
          return { architecture: 'arm', variant: `v${v}` };
        default:
          return { architecture: 'arm', variant: v };
      }
    default:
      return { architecture: arch, variant: v };
  }
}

/** The platform with os, architecture and variant normalised (other fields kept). */
export function normalizePlatform(platform: Platform): Platform {
  const { architecture, variant } = normalizeArch(platform.architecture, platform.variant ?? '');
  const out: Platform = { ...platform, os: normalizeOs(platform.os), architecture };
  if (variant === '') delete out.variant;
  else out.variant = variant;
  return out;
}

/** What the host reports; defaults come from `process`. Tests pass their own. */
export interface HostInfo {
  /** `process.platform` value, e.g. `linux`. */
  platform?: string;
  /** `process.arch` value, e.g. `x64`. */
  arch?: string;
  /** ARM version for `arm` (Node's `process.config.variables.arm_version`). */
  armVersion?: string;
}

const NODE_ARCH: Record<string, string> = {
  x64: 'amd64',
  ia32: '386',
  arm: 'arm',
  arm64: 'arm64',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};
const NODE_OS: Record<string, string> = { win32: 'windows', sunos: 'solaris' };

/**
 * The platform of this machine, normalised: `{os: 'linux', architecture: 'amd64'}` on
 * x86-64 Linux. (`ppc64` is Node's name for little-endian POWER on Linux, i.e. `ppc64le`.)
 */
export function hostPlatform(host: HostInfo = {}): Platform {
  const nodePlatform = host.platform ?? process.platform;
  const nodeArch = host.arch ?? process.arch;
  const nodeArmVersion = (process.config.variables as unknown as Record<string, unknown>)
    .arm_version;
  const armVersion =
    host.armVersion ??
    (typeof nodeArmVersion === 'string' || typeof nodeArmVersion === 'number'
      ? String(nodeArmVersion)
      : '');
  const architecture = NODE_ARCH[nodeArch] ?? nodeArch;
  const variant = architecture === 'arm' ? armVersion : '';
  return normalizePlatform({ os: NODE_OS[nodePlatform] ?? nodePlatform, architecture, variant });
}

/**
 * Parses a platform specifier as containerd does: `os`, `arch`, `os/arch`,
 * `os/arch/variant` (a lone known architecture gets the host's OS; a lone OS the host's
 * architecture). The result is normalised. Throws invalid-argument naming the bad part.
 */
export function parsePlatform(specifier: string, host: HostInfo = {}): Platform {
  const fail = (why: string): never => {
    throw invalidArgument(
      `invalid platform "${specifier}": ${why}; expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8`,
      {
        details: { platform: specifier },
      },
    );
  };
  const parts = specifier.split('/');
  if (parts.length > 3) fail('too many components');
  // containerd 2 accepts an OS version in parentheses: windows(10.0.17763)/amd64
  const osMatch = OS_WITH_VERSION.exec(parts[0]!);
  const osVersion = osMatch?.[2];
  if (osMatch !== null) parts[0] = osMatch[1]!;
  for (const part of parts) if (!COMPONENT.test(part)) fail(`"${part}" is not a valid component`);
  const withVersion = (p: Platform): Platform =>
    osVersion === undefined || osVersion === '' ? p : { ...p, 'os.version': osVersion };
  const defaults = hostPlatform(host);
  if (parts.length === 1) {
    const only = parts[0]!;
    if (KNOWN_OS.has(normalizeOs(only))) {
      return withVersion(
        normalizePlatform({
          os: only,
          architecture: defaults.architecture,
          ...(defaults.variant === undefined ? {} : { variant: defaults.variant }),
        }),
      );
    }
    const arch = normalizeArch(only);
    if (osVersion === undefined && KNOWN_ARCH.has(arch.architecture)) {
      return normalizePlatform({ os: defaults.os, architecture: only });
    }
    fail('unknown operating system or architecture');
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return withVersion(
    normalizePlatform({ os, architecture, ...(variant === undefined ? {} : { variant }) }),
  );
}

/** Formats a platform as `os[(os.version)]/arch[/variant]`, keeping the OS version. */
export function formatPlatformAll(platform: Platform): string {
  const osVersion = platform['os.version'] ?? '';
  const os = osVersion === '' ? platform.os : `${platform.os}(${osVersion})`;
  return formatPlatform({ ...platform, os });
}

/** Formats a platform as `os/arch[/variant]` (the docker `--platform` form; no OS version). */
export function formatPlatform(platform: Platform): string {
  const variant = platform.variant ?? '';
  return variant === ''
    ? `${platform.os}/${platform.architecture}`
    : `${platform.os}/${platform.architecture}/${variant}`;
}

/** True when two platforms are the same after normalisation (os, architecture, variant). */
export function platformEquals(a: Platform, b: Platform): boolean {
  const x = normalizePlatform(a);
  const y = normalizePlatform(b);
  return (
    x.os === y.os && x.architecture === y.architecture && (x.variant ?? '') === (y.variant ?? '')
  );
}

/**
 * The variants a host of `platform` can run, best first (containerd's `Only`):
 * arm/v8 runs v8, v7, v6, v5; arm64 also runs arm/v8…v5; amd64/v3 runs v3, v2, v1; 386 on amd64.
 */
export function compatiblePlatforms(platform: Platform): Platform[] {
  const p = normalizePlatform(platform);
  const out: Platform[] = [p];
  const add = (architecture: string, variant: string): void => {
    out.push({ os: p.os, architecture, ...(variant === '' ? {} : { variant }) });
  };
  const armDown = (from: number): void => {
    for (let v = from; v >= 5; v--) add('arm', `v${v}`);
  };
  if (p.architecture === 'arm') {
    const n = Number((p.variant ?? 'v7').slice(1));
    if (Number.isInteger(n)) {
      out.length = 0;
      armDown(n);
    }
  } else if (p.architecture === 'arm64') {
    armDown(8);
  } else if (p.architecture === 'amd64') {
    const n = p.variant === undefined ? 1 : Number(p.variant.slice(1));
    if (Number.isInteger(n) && n > 1) {
      out.length = 0;
      for (let v = n; v >= 2; v--) add('amd64', `v${v}`);
      add('amd64', '');
    }
    add('386', '');
  }
  return out;
}

/** True when an image for `candidate` runs on a host of `host` (exact or compatible variant). */
export function platformMatches(host: Platform, candidate: Platform): boolean {
  return compatiblePlatforms(host).some((p) => platformEquals(p, candidate));
}

/**
 * Picks the manifest for `host` from an index's entries: the first entry that equals the host
 * platform, else the first entry of the best compatible platform (e.g. arm/v7 on an arm/v8
 * host). Entries without a platform are skipped. Returns undefined when nothing fits.
 */
export function selectPlatformManifest<D extends Descriptor>(
  entries: readonly D[],
  host: Platform,
): D | undefined {
  for (const candidate of compatiblePlatforms(host)) {
    const found = entries.find(
      (e) => e.platform !== undefined && platformEquals(e.platform, candidate),
    );
    if (found !== undefined) return found;
  }
  return undefined;
}
