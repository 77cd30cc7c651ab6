/**
 * Checks over all stages at once (BuildKit `validateStageNames`, `validateCommandCasing`):
 * ReservedStageName, DuplicateStageName and ConsistentInstructionCasing.
 */
import type { SourceRange } from '../ast.js';
import type { Stage } from '../instructions/types.js';
import type { Linter } from './linter.js';
import * as R from './rules.js';

const RESERVED_STAGE_NAMES = new Set(['context', 'scratch']);

function isSelfConsistent(s: string): boolean {
  return s === s.toLowerCase() || s === s.toUpperCase();
}

export function validateStageNames(stages: readonly Stage[], linter: Linter): void {
  const seen = new Set<string>();
  for (const stage of stages) {
    const name = stage.name;
    if (name === undefined) continue;
    const { range, comments } = stage.from;
    if (RESERVED_STAGE_NAMES.has(name)) {
      linter.run(R.ReservedStageName, range, R.ReservedStageName.format(name), comments);
    }
    if (seen.has(name)) {
      linter.run(R.DuplicateStageName, range, R.DuplicateStageName.format(name), comments);
    }
    seen.add(name);
  }
}

export function validateCommandCasing(stages: readonly Stage[], linter: Linter): void {
  let lower = 0;
  let upper = 0;
  const count = (name: string): void => {
    if (!isSelfConsistent(name)) return;
    if (name === name.toLowerCase()) lower++;
    else upper++;
  };
  for (const stage of stages) {
    count(stage.from.keyword);
    stage.commands.forEach((c) => {
      count(c.keyword);
    });
  }
  const majorityLower = lower > upper;
  const check = (name: string, range: SourceRange, comments: readonly string[]): void => {
    let casing = '';
    if (majorityLower && name.toLowerCase() !== name) casing = 'lowercase';
    else if (!majorityLower && name.toUpperCase() !== name) casing = 'uppercase';
    if (casing !== '') {
      linter.run(
        R.ConsistentInstructionCasing,
        range,
        R.ConsistentInstructionCasing.format(name, casing),
        comments,
      );
    }
  };
  for (const stage of stages) {
    check(stage.from.keyword, stage.from.range, stage.from.comments);
    for (const c of stage.commands) check(c.keyword, c.range, c.comments);
  }
}
