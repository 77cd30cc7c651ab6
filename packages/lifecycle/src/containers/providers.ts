/**
 * Hooks for what the next layers add: bridge networking with published ports, and named
 * volumes. The container layer implements `--network none|host`, bind mounts and tmpfs
 * itself; anything else is asked of these providers, and refused with a clear message when
 * none is configured.
 *
 * A provider must be constructible from the lab root alone, because the monitor (a separate
 * process) re-creates the container on restarts: register it with
 * {@link registerProviders} in the module that opens containers (the CLI and the monitor
 * both call `openContainers`, which calls `providersFor(root)`).
 */
import type { NetworkMode, ResolvConf } from '../bundle/index.js';
import { labProviders } from '../network/lab-providers.js';
import type { Container, MountPoint, VolumeRequest } from './types.js';

/** What a network provider sets up for one run of a container. */
export interface NetworkAttachment {
  /** How the runtime joins the network (usually `{mode:'path', path: <netns>}`). */
  network: NetworkMode;
  /** The container's address, for its /etc/hosts line and `inspect`. */
  address?: string;
  resolv?: ResolvConf;
  /** `NetworkSettings` for `inspect` (Networks, Ports, IPAddress…). */
  settings?: Record<string, unknown>;
}

/** Bridge networks and port publishing (`--network bridge|<name>`, `-p`). */
export interface NetworkProvider {
  /** Called before the runtime creates the container (each start and restart). */
  attach(container: Container): Promise<NetworkAttachment>;
  /** Called after the container process exited and the runtime deleted it; idempotent. */
  detach(container: Container): Promise<void>;
}

/** Named volumes (`-v name:/dst`, `--mount type=volume`). */
export interface VolumeProvider {
  /** Creates the volume when missing; returns its host directory and the Mounts entry. */
  mount(
    request: VolumeRequest,
    container: Container,
  ): Promise<{ source: string; point: MountPoint }>;
  /** The container is removed (`rm -v`: anonymous volumes go too). */
  release(container: Container, removeAnonymous: boolean): Promise<void>;
}

/** The providers of a lab root. */
export interface Providers {
  network?: NetworkProvider;
  volumes?: VolumeProvider;
}

type ProviderFactory = (root: string) => Providers;

let factory: ProviderFactory | undefined;

/** Installs the factory that gives each lab root its providers (called once at import time). */
export function registerProviders(next: ProviderFactory): void {
  factory = next;
}

/**
 * The providers of `root`: the registered factory's, else lab's own (the `bridge` network
 * and the local volume store, `network/lab-providers.ts`).
 */
export function providersFor(root: string): Providers {
  return factory?.(root) ?? labProviders(root);
}
