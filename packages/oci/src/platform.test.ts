import { describe, expect, it } from 'vitest';
import { createDescriptor } from './descriptor.js';
import { isInvalidArgument } from './errors.js';
import {
  compatiblePlatforms,
  formatPlatform,
  formatPlatformAll,
  hostPlatform,
  normalizeArch,
  normalizePlatform,
  parsePlatform,
  platformEquals,
  platformMatches,
  selectPlatformManifest,
} from './platform.js';

describe('hostPlatform', () => {
  it('maps Node names to GOOS/GOARCH', () => {
    expect(hostPlatform({ platform: 'linux', arch: 'x64' })).toEqual({
      os: 'linux',
      architecture: 'amd64',
    });
    expect(hostPlatform({ platform: 'linux', arch: 'arm64' })).toEqual({
      os: 'linux',
      architecture: 'arm64',
    });
    expect(hostPlatform({ platform: 'linux', arch: 'arm', armVersion: '6' })).toEqual({
      os: 'linux',
      architecture: 'arm',
      variant: 'v6',
    });
    expect(hostPlatform({ platform: 'win32', arch: 'ia32' })).toEqual({
      os: 'windows',
      architecture: '386',
    });
    expect(hostPlatform({ platform: 'linux', arch: 'ppc64' })).toEqual({
      os: 'linux',
      architecture: 'ppc64le',
    });
  });
  it('describes this machine', () => {
    const host = hostPlatform();
    const expected = { x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64' | 'arm64'];
    expect(host.os).toBe('linux');
    if (expected !== undefined) expect(host.architecture).toBe(expected);
  });
});

describe('normalisation (containerd platforms)', () => {
  it.each([
    ['x86_64', '', 'amd64', ''],
    ['x86-64', 'v1', 'amd64', ''],
    ['AMD64', 'v3', 'amd64', 'v3'],
    ['aarch64', '', 'arm64', ''],
    ['arm64', 'v8', 'arm64', ''],
    ['arm64', '8', 'arm64', ''],
    ['arm64', 'v8.2', 'arm64', 'v8.2'],
    ['armhf', '', 'arm', 'v7'],
    ['armel', '', 'arm', 'v6'],
    ['arm', '', 'arm', 'v7'],
    ['arm', '5', 'arm', 'v5'],
    ['arm', '6', 'arm', 'v6'],
    ['arm', '7', 'arm', 'v7'],
    ['arm', '8', 'arm', 'v8'],
    ['i386', '', '386', ''],
    ['ppc64le', '', 'ppc64le', ''],
    ['riscv64', 'rva20u64', 'riscv64', 'rva20u64'],
  ])('%s/%s → %s/%s', (arch, variant, wantArch, wantVariant) => {
    expect(normalizeArch(arch, variant)).toEqual({ architecture: wantArch, variant: wantVariant });
  });
  it('lower-cases the OS and maps macos to darwin', () => {
    expect(normalizePlatform({ os: 'Linux', architecture: 'x86_64' })).toEqual({
      os: 'linux',
      architecture: 'amd64',
    });
    expect(normalizePlatform({ os: 'macos', architecture: 'arm64', variant: 'v8' })).toEqual({
      os: 'darwin',
      architecture: 'arm64',
    });
  });
});

describe('parsePlatform / formatPlatform', () => {
  const amd64 = { platform: 'linux', arch: 'x64' };
  it.each([
    ['linux/amd64', 'linux/amd64'],
    ['linux/arm64/v8', 'linux/arm64'],
    ['linux/arm/v6', 'linux/arm/v6'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/aarch64', 'linux/arm64'],
    ['Linux/x86_64', 'linux/amd64'],
    ['windows/amd64', 'windows/amd64'],
    ['linux', 'linux/amd64'],
    ['arm64', 'linux/arm64'],
    ['armhf', 'linux/arm/v7'],
  ])('%s → %s', (spec, formatted) => {
    expect(formatPlatform(parsePlatform(spec, amd64))).toBe(formatted);
  });
  it('keeps an OS version given in parentheses', () => {
    const p = parsePlatform('windows(10.0.17763)/amd64', amd64);
    expect(p).toEqual({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763' });
    expect(formatPlatformAll(p)).toBe('windows(10.0.17763)/amd64');
    expect(formatPlatform(p)).toBe('windows/amd64');
    expect(parsePlatform('windows(10.0.20348)', amd64)['os.version']).toBe('10.0.20348');
  });
  it.each([
    '',
    'linux/',
    'linux/amd64/v1/extra',
    'nonsense',
    'linux/amd 64',
    'linux(1/amd64',
    'arm64(1)',
  ])('refuses %j', (spec) => {
    try {
      parsePlatform(spec, amd64);
      expect.unreachable();
    } catch (err) {
      expect(isInvalidArgument(err)).toBe(true);
      expect((err as Error).message).toContain('expected os/arch[/variant]');
    }
  });
});

describe('matching', () => {
  it('compares after normalisation', () => {
    expect(
      platformEquals(
        { os: 'linux', architecture: 'aarch64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ),
    ).toBe(true);
    expect(
      platformEquals(
        { os: 'linux', architecture: 'arm' },
        { os: 'linux', architecture: 'arm', variant: 'v6' },
      ),
    ).toBe(false);
  });
  it('lets a host run older variants, best first', () => {
    expect(
      compatiblePlatforms({ os: 'linux', architecture: 'arm', variant: 'v7' }).map(formatPlatform),
    ).toEqual(['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']);
    expect(compatiblePlatforms({ os: 'linux', architecture: 'arm64' }).map(formatPlatform)).toEqual(
      ['linux/arm64', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5'],
    );
    expect(
      compatiblePlatforms({ os: 'linux', architecture: 'amd64', variant: 'v3' }).map(
        formatPlatform,
      ),
    ).toEqual(['linux/amd64/v3', 'linux/amd64/v2', 'linux/amd64', 'linux/386']);
    expect(
      platformMatches(
        { os: 'linux', architecture: 'arm', variant: 'v6' },
        { os: 'linux', architecture: 'arm', variant: 'v7' },
      ),
    ).toBe(false);
    expect(
      platformMatches(
        { os: 'linux', architecture: 'amd64' },
        { os: 'windows', architecture: 'amd64' },
      ),
    ).toBe(false);
  });
  it('selects the best manifest from an index', () => {
    const entry = (os: string, architecture: string, variant?: string) =>
      createDescriptor(
        'application/vnd.oci.image.manifest.v1+json',
        `${os}/${architecture}/${variant ?? ''}`,
        {
          platform: { os, architecture, ...(variant === undefined ? {} : { variant }) },
        },
      );
    const entries = [
      createDescriptor('application/vnd.in-toto+json', 'attestation'),
      entry('linux', 'arm', 'v6'),
      entry('linux', 'arm', 'v7'),
      entry('linux', 'amd64'),
      entry('linux', 'arm64', 'v8'),
    ];
    expect(selectPlatformManifest(entries, { os: 'linux', architecture: 'amd64' })).toBe(
      entries[3],
    );
    expect(selectPlatformManifest(entries, { os: 'linux', architecture: 'arm64' })).toBe(
      entries[4],
    );
    expect(
      selectPlatformManifest(entries, { os: 'linux', architecture: 'arm', variant: 'v8' }),
    ).toBe(entries[2]);
    expect(
      selectPlatformManifest(entries, { os: 'linux', architecture: 'arm', variant: 'v5' }),
    ).toBeUndefined();
    expect(
      selectPlatformManifest(entries.slice(0, 3), { os: 'linux', architecture: 'arm64' }),
    ).toBe(entries[2]);
  });
});
