/**
 * The runtime features document (runtime-spec features.md): what `runc features` /
 * `crun features` print, so an engine can tell what the installed runtime supports.
 */
import { z } from 'zod';
import { AnnotationsSchema } from './descriptor.js';
import type { JsonInput } from './validate.js';
import { parseWithSchema } from './validate.js';

const StringArray = z.array(z.string());
const Enabled = z.looseObject({ enabled: z.boolean().optional() });

/** The Linux part of a features document. */
export const LinuxFeaturesSchema = z.looseObject({
  namespaces: StringArray.optional(),
  capabilities: StringArray.optional(),
  cgroup: z
    .looseObject({
      v1: z.boolean().optional(),
      v2: z.boolean().optional(),
      systemd: z.boolean().optional(),
      systemdUser: z.boolean().optional(),
      rdma: z.boolean().optional(),
    })
    .optional(),
  seccomp: z
    .looseObject({
      enabled: z.boolean().optional(),
      actions: StringArray.optional(),
      operators: StringArray.optional(),
      archs: StringArray.optional(),
      knownFlags: StringArray.optional(),
      supportedFlags: StringArray.optional(),
    })
    .optional(),
  apparmor: Enabled.optional(),
  selinux: Enabled.optional(),
  intelRdt: Enabled.optional(),
  mountExtensions: z.looseObject({ idmap: Enabled.optional() }).optional(),
});

/** What an OCI runtime supports. */
export const RuntimeFeaturesSchema = z.looseObject({
  ociVersionMin: z.string(),
  ociVersionMax: z.string(),
  hooks: StringArray.optional(),
  mountOptions: StringArray.optional(),
  annotations: AnnotationsSchema.optional(),
  potentiallyUnsafeConfigAnnotations: StringArray.optional(),
  linux: LinuxFeaturesSchema.optional(),
});

/** The features document of an OCI runtime. */
export type RuntimeFeatures = z.infer<typeof RuntimeFeaturesSchema>;

/** Parses `runc features` output; throws invalid-argument naming the field path. */
export function parseRuntimeFeatures(json: JsonInput, source?: string): RuntimeFeatures {
  return parseWithSchema(RuntimeFeaturesSchema, json, 'features', source);
}
