import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lint } from './index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const conformance =
  process.env.LAB_BUILDKIT_CONFORMANCE ?? path.resolve(repoRoot, '../shared/conformance/buildkit');
const corpus = readdirSync(path.join(conformance, 'parser'))
  .sort()
  .map((name) => readFileSync(path.join(conformance, 'parser', name, 'Dockerfile'), 'utf8'));

const FRAGMENTS = [
  'FROM ',
  'ARG ',
  'ENV ',
  'RUN --mount=',
  'COPY --from=',
  'ONBUILD ',
  'HEALTHCHECK ',
  'EXPOSE ',
  '${',
  '}',
  '$',
  '\\\n',
  '\n',
  '<<EOF\n',
  'EOF\n',
  '"',
  "'",
  ' AS ',
  '# check=skip=all\n',
  '--platform=',
  '=',
  ':',
  '/',
];

describe('lint never throws for a bad Dockerfile', () => {
  it('returns warnings or an error for mutated real Dockerfiles', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...corpus),
        fc.nat(),
        fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 6 })), {
          maxLength: 6,
        }),
        (base, at, inserts) => {
          const pos = base.length === 0 ? 0 : at % base.length;
          const text = base.slice(0, pos) + inserts.join('') + base.slice(pos);
          const result = lint(text);
          expect(Array.isArray(result.warnings)).toBe(true);
          if (result.error !== undefined) expect(result.error.message.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 400 },
    );
  });
});
