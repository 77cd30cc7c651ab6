export {
  createLexer,
  processWord,
  processWords,
  processWordWithMatches,
  type ExpansionResult,
  type LexerOptions,
  type ShellEnvironment,
  type ShellLexer,
} from './lex.js';
export { envFromList } from './env.js';
export {
  shellPatternToRegex,
  reversePattern,
  trimPrefix,
  trimSuffix,
  replacePattern,
  type ShellPattern,
} from './pattern.js';
export { ShellError } from './error.js';
export { goQuote } from './go-text.js';
