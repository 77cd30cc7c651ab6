/**
 * `@lab/oci/testing`: validate documents against the upstream OCI JSON Schemas (image-spec
 * and runtime-spec, draft-04) with Ajv, for tests in any lab package.
 *
 * The schemas are read in place from `$LAB_OCI_SCHEMAS` (default `<repo>/../shared/schemas/oci`,
 * where `<repo>` is the nearest directory above this file holding `pnpm-workspace.yaml`).
 * Ajv, ajv-draft-04 and ajv-formats are optional peer dependencies of `@lab/oci`: this entry
 * is only for tests, and the monorepo provides them as root devDependencies. The main
 * `@lab/oci` entry never imports this file.
 *
 * Loading recipe (see the schemas README): one draft-04 Ajv per spec directory, formats
 * added, non-strict (the schemas use non-keyword wrappers), every string-valued `id`
 * stripped so all relative `$ref`s resolve against the file-name keys.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import AjvModule from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { failedPrecondition } from './errors.js';

const Ajv = AjvModule.default;
type Ajv = InstanceType<typeof Ajv>;
const addFormats = addFormatsModule.default;

/** The documents that can be checked, and the upstream schema file of each. */
export const SCHEMA_FILES = {
  descriptor: ['image-spec', 'content-descriptor.json'],
  manifest: ['image-spec', 'image-manifest-schema.json'],
  index: ['image-spec', 'image-index-schema.json'],
  config: ['image-spec', 'config-schema.json'],
  layout: ['image-spec', 'image-layout-schema.json'],
  'runtime-config': ['runtime-spec', 'config-schema.json'],
  'runtime-state': ['runtime-spec', 'state-schema.json'],
  'runtime-features': ['runtime-spec', 'features-schema.json'],
} as const;

/** A kind of document with an upstream schema. */
export type SchemaKind = keyof typeof SCHEMA_FILES;

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/** Where the upstream schemas are: `$LAB_OCI_SCHEMAS` or `<repo>/../shared/schemas/oci`. */
export function schemasDir(): string {
  const fromEnv = process.env.LAB_OCI_SCHEMAS;
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  const root = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
  return resolve(root, '../shared/schemas/oci');
}

function stripIds(node: unknown): unknown {
  if (Array.isArray(node)) node.forEach(stripIds);
  else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (typeof record.id === 'string') delete record.id;
    Object.values(record).forEach(stripIds);
  }
  return node;
}

function loadSchemaDir(dir: string): Ajv {
  if (!existsSync(dir)) {
    throw failedPrecondition(
      `OCI JSON schemas not found at ${dir}: set LAB_OCI_SCHEMAS to the directory holding image-spec/ and runtime-spec/`,
      { details: { dir } },
    );
  }
  const ajv = new Ajv({ allErrors: true, strictSchema: false });
  addFormats(ajv);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    ajv.addSchema(stripIds(JSON.parse(readFileSync(join(dir, file), 'utf8'))) as object, file);
  }
  return ajv;
}

/** Validates documents against the upstream schemas under one directory. */
export interface SchemaValidator {
  /** The problems of `value` as `<json pointer> <message>` strings; empty when valid. */
  validate(kind: SchemaKind, value: unknown): string[];
}

/** A validator over the schemas in `dir` (default {@link schemasDir}). */
export function createSchemaValidator(dir: string = schemasDir()): SchemaValidator {
  const instances = new Map<string, Ajv>();
  return {
    validate(kind, value) {
      const [spec, file] = SCHEMA_FILES[kind];
      let ajv = instances.get(spec);
      if (ajv === undefined) {
        ajv = loadSchemaDir(join(dir, spec));
        instances.set(spec, ajv);
      }
      const check = ajv.getSchema(file);
      if (check === undefined) {
        throw failedPrecondition(`schema ${spec}/${file} is missing under ${dir}`, {
          details: { dir, kind },
        });
      }
      if (check(value)) return [];
      return (check.errors ?? []).map(
        (e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? e.keyword}`,
      );
    },
  };
}

let shared: { dir: string; validator: SchemaValidator } | undefined;

/**
 * Validates `value` against the upstream schema for `kind`; returns the problems (empty
 * when valid). Uses the schemas at {@link schemasDir}, loaded once per directory.
 */
export function validateAgainstSchema(kind: SchemaKind, value: unknown): string[] {
  const dir = schemasDir();
  if (shared?.dir !== dir) shared = { dir, validator: createSchemaValidator(dir) };
  return shared.validator.validate(kind, value);
}

/**
 * Throws (a plain `Error`, for test output) listing every problem when `value` does not
 * validate against the upstream schema for `kind`.
 */
export function assertValidAgainstSchema(kind: SchemaKind, value: unknown): void {
  const problems = validateAgainstSchema(kind, value);
  if (problems.length > 0) {
    throw new Error(`not a valid ${kind} per the OCI schema:\n  ${problems.join('\n  ')}`);
  }
}
