/**
 * What lab records about a container, with docker's field names so `inspect` is a view of
 * these files:
 *
 * - `<root>/containers/<id>/config.json` — {@link ContainerConfig}, written once at creation.
 * - `<root>/containers/<id>/state.json` — {@link ContainerState}, rewritten atomically (temp +
 *   fsync + rename) on every transition, under the container's lock.
 */
import type { Digest, ImageConfig } from '@lab/oci';
import type { ContainerStatus } from './status.js';

/** docker's `HostConfig.RestartPolicy`. */
export interface RestartPolicy {
  Name: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  /** For `on-failure`: give up after this many restarts (0 = no limit). */
  MaximumRetryCount: number;
}

/** A bind mount or tmpfs as `inspect` shows it under `Mounts`. */
export interface MountPoint {
  Type: 'bind' | 'tmpfs' | 'volume';
  Source: string;
  Destination: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** Volume name, for `Type: 'volume'` (filled by a {@link VolumeProvider}). */
  Name?: string;
}

/** `-p` as parsed: docker's `PortBindings` entry. */
export interface PortBinding {
  /** `80/tcp`. */
  ContainerPort: string;
  HostIp: string;
  HostPort: string;
}

/** The user's `run`/`create` choices (docker's `Config`). */
export interface ContainerUserConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  Env: string[];
  Cmd: string[] | null;
  Entrypoint: string[] | null;
  Image: string;
  WorkingDir: string;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  ExposedPorts?: Record<string, object>;
}

/** docker's `HostConfig` (the fields lab implements). */
export interface HostConfig {
  Binds: string[];
  /** `--tmpfs /dst[:opts]`: destination → options. */
  Tmpfs: Record<string, string>;
  NetworkMode: string;
  PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
  RestartPolicy: RestartPolicy;
  AutoRemove: boolean;
  ReadonlyRootfs: boolean;
  Memory: number;
  NanoCpus: number;
  PidsLimit: number | null;
  Runtime: string;
  Init: boolean;
}

/** A volume mount the next layer resolves (named volumes, `--mount type=volume`). */
export interface VolumeRequest {
  name: string;
  destination: string;
  readonly: boolean;
}

/** config.json of a container: immutable after creation. */
export interface ContainerConfig {
  Id: string;
  /** `/web`: docker's name with the leading slash. */
  Name: string;
  /** RFC 3339 with nanoseconds. */
  Created: string;
  /** The image ID (config digest). */
  Image: Digest;
  /** The manifest digest of the image when created. */
  ImageDigest: Digest;
  /** What the user typed (`busybox`), shown by `ps`. */
  ImageName: string;
  /** The first argument of the process and the rest (after ENTRYPOINT/CMD merging). */
  Path: string;
  Args: string[];
  Config: ContainerUserConfig;
  HostConfig: HostConfig;
  /** The image's config (env, user, stop signal… are taken from it at start). */
  ImageConfig: ImageConfig;
  /** ChainIDs of the image's layers, base first (kept alive for gc). */
  ChainIDs: string[];
  /** The snapshotter and the key of the container's writable snapshot. */
  Snapshotter: 'overlay' | 'native';
  SnapshotKey: string;
  /** Tmpfs and bind mounts (named volumes are added by a VolumeProvider). */
  Mounts: MountPoint[];
  Volumes: VolumeRequest[];
  Platform: string;
  Driver: string;
  /** Host path of a static init for `--init`, resolved at create. */
  InitPath?: string;
}

/** state.json: the mutable part. Times are RFC 3339; docker's zero time when unset. */
export interface ContainerState {
  Status: ContainerStatus;
  Pid: number;
  ExitCode: number;
  Error: string;
  OOMKilled: boolean;
  StartedAt: string;
  FinishedAt: string;
  RestartCount: number;
  /** A stop/kill by the user: restart policies no longer apply (docker's HasBeenManuallyStopped). */
  ManuallyStopped: boolean;
  /** The runtime the current or last run used. */
  Runtime: string;
  /** The monitor of the current run (pid + /proc start time), 0 when none. */
  MonitorPid: number;
  MonitorStartTime: number;
  /** The rootfs is mounted at `<dir>/rootfs`. */
  Mounted: boolean;
  /** The restart back-off used last (ms), for docker's doubling. */
  BackoffMs?: number;
}

/** docker's "zero" time, printed for times that never happened. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** A container as the store returns it. */
export interface Container {
  id: string;
  /** Without the leading slash. */
  name: string;
  dir: string;
  config: ContainerConfig;
  state: ContainerState;
}
