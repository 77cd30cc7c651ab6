export { lint, type LintError, type LintOptions, type LintResult } from './lint.js';
export {
  Linter,
  parseLintConfig,
  configFromComments,
  DEFAULT_LINT_CONFIG,
  type LintConfig,
  type LintWarning,
} from './linter.js';
export { RULES, type LintRule, type RuleInfo } from './rules.js';
export * as lintRules from './rules.js';
export { isValidImageReference } from './reference.js';
export {
  parseDockerignore,
  createPatternMatcher,
  cleanPath,
  type PatternMatcher,
} from './dockerignore.js';
