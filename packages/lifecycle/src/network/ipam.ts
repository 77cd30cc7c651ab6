/**
 * IPv4 address management for one bridge network: the subnet's arithmetic, and the choice of
 * the next free host address given the ones in use (the caller keeps them in the network's
 * state file, under its lock: see `network-state.ts`).
 */
import { failedPrecondition, invalidArgument } from '@lab/oci';

/** A parsed IPv4 subnet (`10.89.0.0/24`). */
export interface Subnet {
  /** The network address as a 32-bit unsigned number. */
  base: number;
  prefix: number;
  /** `10.89.0.0/24`, normalised. */
  cidr: string;
}

/** `10.0.0.1` → 167772161; invalid-argument for anything else. */
export function parseIPv4(text: string): number {
  const parts = text.split('.');
  if (
    parts.length !== 4 ||
    parts.some((p) => !/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255)
  ) {
    throw invalidArgument(
      `invalid IPv4 address "${text}": expected four numbers 0-255 separated by dots`,
    );
  }
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** 167772161 → `10.0.0.1`. */
export function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Parses `a.b.c.d/len` (host bits must be zero; prefix 8–30). */
export function parseSubnet(cidr: string): Subnet {
  const slash = cidr.indexOf('/');
  if (slash < 0)
    throw invalidArgument(`invalid subnet "${cidr}": expected a CIDR such as 10.89.0.0/24`);
  const base = parseIPv4(cidr.slice(0, slash));
  const prefixText = cidr.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^[0-9]+$/.test(prefixText) || prefix < 8 || prefix > 30) {
    throw invalidArgument(`invalid subnet "${cidr}": the prefix length must be between 8 and 30`);
  }
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) {
    throw invalidArgument(
      `invalid subnet "${cidr}": host bits are set; did you mean ${formatIPv4(base - (base % size))}/${String(prefix)}?`,
    );
  }
  return { base, prefix, cidr: `${formatIPv4(base)}/${String(prefix)}` };
}

/** The gateway (the bridge's own address): the first host address, as docker and podman choose. */
export function gatewayOf(subnet: Subnet): string {
  return formatIPv4(subnet.base + 1);
}

/** Whether `address` lies in `subnet`. */
export function contains(subnet: Subnet, address: string): boolean {
  const n = parseIPv4(address);
  return n >= subnet.base && n < subnet.base + 2 ** (32 - subnet.prefix);
}

/**
 * The lowest free host address of `subnet` that is neither the network, the gateway, the
 * broadcast address, nor in `used`. Throws resource-exhausted when none is left.
 */
export function nextFreeAddress(subnet: Subnet, used: ReadonlySet<string>): string {
  const size = 2 ** (32 - subnet.prefix);
  for (let i = 2; i < size - 1; i++) {
    const candidate = formatIPv4(subnet.base + i);
    if (!used.has(candidate)) return candidate;
  }
  throw failedPrecondition(
    `no free IPv4 address left in ${subnet.cidr}: remove stopped containers (lab rm) or configure a larger subnet`,
    { details: { subnet: subnet.cidr } },
  );
}

/** docker's MAC for an IPv4 address: `02:42` followed by the address's four bytes. */
export function macFor(address: string): string {
  const n = parseIPv4(address);
  const bytes = [24, 16, 8, 0].map((s) =>
    (Math.floor(n / 2 ** s) % 256).toString(16).padStart(2, '0'),
  );
  return `02:42:${bytes.join(':')}`;
}
