/**
 * The image config (`application/vnd.oci.image.config.v1+json`, and Docker's
 * `application/vnd.docker.container.image.v1+json` which is a superset). Optional fields may
 * be `null` (Go writes `"Cmd": null`); unknown and Docker-only fields (`Healthcheck`,
 * `OnBuild`, `Shell`, `container_config`, …) are kept so a config survives a round trip.
 */
import { z } from 'zod';
import { Rfc3339Schema, StrictDigestSchema } from './descriptor.js';
import type { Digest } from './digest.js';
import type { JsonInput } from './validate.js';
import { parseWithSchema } from './validate.js';

const StringArray = z.array(z.string());
const EmptyObject = z.looseObject({});

/** An `Env` entry: `NAME=value`; like image-spec's own validator, only the `=` is required. */
const EnvEntrySchema = z.string().refine((entry) => entry.includes('='), {
  error: (issue) => `invalid environment entry ${JSON.stringify(issue.input)}: expected NAME=value`,
});

/** Docker's health check (`HEALTHCHECK`); durations are nanoseconds. */
export const HealthcheckSchema = z.looseObject({
  Test: StringArray.nullish(),
  Interval: z.number().int().nullish(),
  Timeout: z.number().int().nullish(),
  StartPeriod: z.number().int().nullish(),
  StartInterval: z.number().int().nullish(),
  Retries: z.number().int().nullish(),
});

/** Docker's health check settings. `Test`: `[]` inherit, `["NONE"]`, `["CMD", …]`, `["CMD-SHELL", cmd]`. */
export type Healthcheck = z.infer<typeof HealthcheckSchema>;

/** The execution parameters of an image (`config` inside the image config). */
export const ContainerConfigSchema = z.looseObject({
  User: z.string().nullish(),
  ExposedPorts: z.record(z.string(), EmptyObject).nullish(),
  Env: z.array(EnvEntrySchema).nullish(),
  Entrypoint: StringArray.nullish(),
  Cmd: StringArray.nullish(),
  Volumes: z.record(z.string(), EmptyObject).nullish(),
  WorkingDir: z.string().nullish(),
  Labels: z.record(z.string(), z.string()).nullish(),
  StopSignal: z.string().nullish(),
  ArgsEscaped: z.boolean().nullish(),
  Memory: z.number().int().nullish(),
  MemorySwap: z.number().int().nullish(),
  CpuShares: z.number().int().nullish(),
  Healthcheck: HealthcheckSchema.nullish(),
  OnBuild: StringArray.nullish(),
  Shell: StringArray.nullish(),
});

/** The execution parameters of an image: user, env, entrypoint, cmd, ports, volumes, … */
export type ContainerConfig = z.infer<typeof ContainerConfigSchema>;

/** One `history[]` entry. Entries without `empty_layer: true` pair 1:1 with `rootfs.diff_ids`. */
export const HistorySchema = z.looseObject({
  created: Rfc3339Schema.nullish(),
  author: z.string().nullish(),
  created_by: z.string().nullish(),
  comment: z.string().nullish(),
  empty_layer: z.boolean().nullish(),
});

/** One step of an image's build history. */
export type History = z.infer<typeof HistorySchema>;

/** The root filesystem: the DiffIDs (sha256 of the uncompressed layer tars), base first. */
export const RootFsSchema = z.looseObject({
  type: z.literal('layers', {
    error: (issue) => `unsupported rootfs type ${JSON.stringify(issue.input)}: expected "layers"`,
  }),
  diff_ids: z.array(StrictDigestSchema),
});

/** The root filesystem section of an image config. */
export type RootFs = z.infer<typeof RootFsSchema>;

/** An OCI (or Docker) image config. */
export const ImageConfigSchema = z.looseObject({
  created: Rfc3339Schema.nullish(),
  author: z.string().nullish(),
  architecture: z.string(),
  os: z.string(),
  'os.version': z.string().nullish(),
  'os.features': StringArray.nullish(),
  variant: z.string().nullish(),
  config: ContainerConfigSchema.nullish(),
  rootfs: RootFsSchema,
  history: z.array(HistorySchema).nullish(),
});

/** An image config (the image ID is the digest of its bytes). */
export type ImageConfig = z.infer<typeof ImageConfigSchema>;

/** Parses and validates an image config; throws invalid-argument naming the field path. */
export function parseImageConfig(json: JsonInput, source?: string): ImageConfig {
  return parseWithSchema(ImageConfigSchema, json, 'config', source);
}

/** What {@link createImageConfig} needs. */
export interface ImageConfigInit {
  /** GOARCH value, e.g. `amd64`. */
  architecture: string;
  /** GOOS value, e.g. `linux`. */
  os: string;
  /** CPU variant, e.g. `v8` for arm64. */
  variant?: string;
  /** DiffIDs, base layer first. */
  diffIds: readonly Digest[];
  /** Execution parameters. */
  config?: ContainerConfig;
  /** Build history; keep the non-empty entries equal in number to `diffIds`. */
  history?: readonly History[];
  /** Creation time, RFC 3339. */
  created?: string;
  /** Author. */
  author?: string;
}

/** Builds an image config in the field order Docker and BuildKit write. */
export function createImageConfig(init: ImageConfigInit): ImageConfig {
  return {
    ...(init.created === undefined ? {} : { created: init.created }),
    ...(init.author === undefined ? {} : { author: init.author }),
    architecture: init.architecture,
    ...(init.variant === undefined ? {} : { variant: init.variant }),
    os: init.os,
    ...(init.config === undefined ? {} : { config: init.config }),
    rootfs: { type: 'layers', diff_ids: [...init.diffIds] },
    ...(init.history === undefined ? {} : { history: [...init.history] }),
  };
}
