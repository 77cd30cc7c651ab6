/* global process, console */
// Boundary validation cost: lab's zod parsers (@lab/oci) vs Ajv with the upstream OCI JSON
// Schemas (the reference validator), on the same documents, in one run.
// Run: pnpm --filter @lab/oci build && node bench/oci/validate.mjs
import { createHash } from 'node:crypto';
import {
  canonicalJson,
  createDescriptor,
  createImageConfig,
  createImageManifest,
  parseImageConfig,
  parseImageManifest,
  parseReference,
} from '../../packages/oci/dist/index.js';
import { createSchemaValidator } from '../../packages/oci/dist/testing.js';

const N = Number(process.env.N ?? 20000);
const sha = (s) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

const layers = Array.from({ length: 20 }, (_, i) =>
  createDescriptor('application/vnd.oci.image.layer.v1.tar+gzip', `layer ${i}`),
);
const config = createImageConfig({
  architecture: 'amd64',
  os: 'linux',
  created: '2024-01-02T03:04:05Z',
  diffIds: layers.map((_, i) => sha(`diff ${i}`)),
  config: {
    Env: ['PATH=/usr/bin:/bin', 'LANG=C.UTF-8'],
    Cmd: ['sh'],
    Labels: { a: 'b' },
    ExposedPorts: { '80/tcp': {} },
  },
  history: layers.map((_, i) => ({ created: '2024-01-02T03:04:05Z', created_by: `RUN step ${i}` })),
});
const manifest = createImageManifest({
  config: createDescriptor('application/vnd.oci.image.config.v1+json', canonicalJson(config)),
  layers,
});
const docs = { config: canonicalJson(config), manifest: canonicalJson(manifest) };
const ajv = createSchemaValidator();

function time(fn) {
  fn(); // warm up
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

console.log(`${N} iterations each (JSON.parse included on both sides)`);
for (const [kind, text, parse] of [
  ['config', docs.config, parseImageConfig],
  ['manifest', docs.manifest, parseImageManifest],
]) {
  const ref = time(() => {
    if (ajv.validate(kind, JSON.parse(text)).length > 0) throw new Error('invalid');
  });
  const lab = time(() => parse(text));
  console.log(
    `${kind.padEnd(9)} (${text.length} B): Ajv+upstream schema ${ref.toFixed(0)} ms, lab zod ${lab.toFixed(0)} ms, ratio lab/ajv ${(lab / ref).toFixed(2)}x`,
  );
}
const refs = [
  'busybox',
  'localhost:5000/team/app:1.0',
  `docker.io/library/busybox:latest@${sha('x')}`,
];
const t = time(() => refs.forEach((r) => parseReference(r)));
console.log(
  `parseReference: ${((N * refs.length) / (t / 1000) / 1e6).toFixed(2)} M references/s (no reference tool parses names in isolation)`,
);
