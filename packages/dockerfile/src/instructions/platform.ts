/**
 * Platform specifiers as containerd's `platforms.Parse` reads them (`linux`, `arm64`,
 * `linux/arm64/v8`), with its error messages.
 */
import { goQuote } from '../shell/go-text.js';
import type { Platform } from './args.js';

const KNOWN_OS = new Set([
  'linux',
  'windows',
  'darwin',
  'freebsd',
  'netbsd',
  'openbsd',
  'solaris',
  'illumos',
  'aix',
  'android',
  'ios',
  'plan9',
  'js',
  'wasip1',
  'dragonfly',
]);
const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
  i386: '386',
};
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

const COMPONENT = /^[A-Za-z0-9_.-]+$/;

/**
 * Parses `os[/arch[/variant]]`. A single component is an OS (with the host architecture) or
 * an architecture (with the host OS). Throws containerd's message for an invalid specifier.
 */
export function parsePlatformSpecifier(specifier: string, host: Platform): Platform {
  const parts = specifier.split('/');
  for (const part of parts) {
    if (!COMPONENT.test(part)) {
      throw new Error(
        `${goQuote(part)} is an invalid component of ${goQuote(specifier)}: platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument`,
      );
    }
  }
  const lower = parts.map((p) => p.toLowerCase());
  const arch = (a: string): string => ARCH_ALIASES[a] ?? a;
  if (lower.length === 1) {
    const p = lower[0]!;
    if (KNOWN_OS.has(p)) return { os: p, architecture: host.architecture };
    if (KNOWN_ARCH.has(arch(p))) return { os: host.os, architecture: arch(p) };
    throw new Error(
      `${goQuote(specifier)}: unknown operating system or architecture: invalid argument`,
    );
  }
  if (lower.length > 3) {
    throw new Error(`${goQuote(specifier)}: cannot parse platform specifier: invalid argument`);
  }
  return {
    os: lower[0]!,
    architecture: arch(lower[1]!),
    ...(lower[2] === undefined ? {} : { variant: lower[2] }),
  };
}
