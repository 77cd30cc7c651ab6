/* global process, console, Buffer */
// Dockerfile parse throughput: lab's BuildKit-exact parser (packages/dockerfile/dist)
// vs the npm package dockerfile-ast, over every Dockerfile of the BuildKit conformance
// data, in the same process. Build first: pnpm --filter @lab/dockerfile build
//
//   node bench/dockerfile/parse.mjs [seconds-per-side]   (default 5)
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const dataDir =
  process.env.LAB_BUILDKIT_CONFORMANCE ?? path.resolve(repoRoot, '../shared/conformance/buildkit');
const dist = path.join(repoRoot, 'packages/dockerfile/dist/index.js');
if (!existsSync(dist)) {
  console.error(`${dist} is missing: run pnpm --filter @lab/dockerfile build first`);
  process.exit(1);
}
const lab = await import(dist);
const require = createRequire(import.meta.url);
const { DockerfileParser } = require('dockerfile-ast');

// Every Dockerfile that parses (the negative cases are left out: they throw in lab).
const files = [];
for (const dir of [
  'parser',
  'parser-line',
  'parser-heredoc',
  'parser-heredoc-json',
  'parser-warnings',
]) {
  const base = path.join(dataDir, dir);
  const names = existsSync(path.join(base, 'Dockerfile')) ? [''] : readdirSync(base);
  for (const name of names) files.push(readFileSync(path.join(base, name, 'Dockerfile'), 'utf8'));
}
const bytes = files.reduce((n, f) => n + Buffer.byteLength(f), 0);
const seconds = Number(process.argv[2] ?? 5);

function measure(name, parseOne) {
  let sink = 0;
  // Warm up (JIT).
  for (let i = 0; i < 200; i++) for (const f of files) sink += parseOne(f) ? 1 : 0;
  let rounds = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 20; i++) for (const f of files) sink += parseOne(f) ? 1 : 0;
    rounds += 20;
    now = process.hrtime.bigint();
  }
  const secs = Number(now - start) / 1e9;
  const opsPerSec = (rounds * files.length) / secs;
  const mbPerSec = (rounds * bytes) / secs / 1e6;
  console.log(
    `${name.padEnd(16)} ${opsPerSec.toFixed(0).padStart(9)} files/s ${mbPerSec.toFixed(2).padStart(8)} MB/s  (${rounds} rounds in ${secs.toFixed(2)} s, sink ${sink})`,
  );
  return opsPerSec;
}

console.log(
  `${files.length} Dockerfiles, ${bytes} bytes per round, node ${process.version}, ${seconds} s per parser`,
);
const labOps = measure('lab parse', (t) => lab.parse(t).instructions.length);
const astOps = measure('dockerfile-ast', (t) => DockerfileParser.parse(t).getInstructions().length);
console.log(`ratio: lab is ${(labOps / astOps).toFixed(2)}x the throughput of dockerfile-ast`);
