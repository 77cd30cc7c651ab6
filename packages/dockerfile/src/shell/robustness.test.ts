import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { processWordWithMatches, ShellError } from './index.js';

const PIECES = [
  '$',
  '{',
  '}',
  ':',
  '-',
  '+',
  '?',
  '#',
  '%',
  '/',
  '\\',
  "'",
  '"',
  'A',
  'x',
  ' ',
  '<<',
];

describe('the lexer on arbitrary input', () => {
  it('either expands or fails with a ShellError, in every mode', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 3 })), {
          maxLength: 12,
        }),
        fc.record({
          rawQuotes: fc.boolean(),
          rawEscapes: fc.boolean(),
          skipProcessQuotes: fc.boolean(),
          skipUnsetEnv: fc.boolean(),
          escapeToken: fc.constantFrom('\\' as const, '`' as const),
        }),
        (parts, opts) => {
          const word = parts.join('');
          try {
            const r = processWordWithMatches(word, { A: 'a b', x: '' }, opts);
            expect(typeof r.result).toBe('string');
            for (const name of r.matched) expect(['A', 'x']).toContain(name);
          } catch (err) {
            expect(err).toBeInstanceOf(ShellError);
            expect((err as ShellError).message.startsWith('failed to process ')).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
