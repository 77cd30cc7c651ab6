/**
 * The runtime state object: what an OCI runtime's `state` operation returns, and what hooks
 * read on stdin. runc adds `paused` as a status and `rootfs`, `created`, `owner` as fields;
 * those are accepted and kept.
 */
import { z } from 'zod';
import { AnnotationsSchema } from './descriptor.js';
import type { JsonInput } from './validate.js';
import { parseWithSchema } from './validate.js';

/** The statuses of the runtime spec, plus runc's `paused`. */
export const RUNTIME_STATUSES = ['creating', 'created', 'running', 'stopped', 'paused'] as const;
/** A container status as an OCI runtime reports it. */
export type RuntimeStatus = (typeof RUNTIME_STATUSES)[number];

/** The state of a container as an OCI runtime reports it. */
export const RuntimeStateSchema = z.looseObject({
  ociVersion: z.string(),
  id: z.string(),
  status: z.enum(RUNTIME_STATUSES, {
    error: (issue) =>
      `unknown status ${JSON.stringify(issue.input)}: expected one of ${RUNTIME_STATUSES.join(', ')}`,
  }),
  pid: z.number().int().nonnegative().optional(),
  bundle: z.string(),
  annotations: AnnotationsSchema.optional(),
});
/** The runtime state object (runtime-spec runtime.md "State"). */
export type RuntimeState = z.infer<typeof RuntimeStateSchema>;

/** Parses and validates a runtime state object; throws invalid-argument naming the field path. */
export function parseRuntimeState(json: JsonInput, source?: string): RuntimeState {
  return parseWithSchema(RuntimeStateSchema, json, 'state', source);
}
