export type {
  ArgumentNode,
  Directive,
  DirectiveName,
  Directives,
  EscapeToken,
  Heredoc,
  InstructionNode,
  ParseResult,
  ParseWarning,
  Position,
  SourceRange,
} from './ast.js';
export { parse, MAX_LINE_BYTES } from './parser/parse.js';
export {
  DockerfileParseError,
  isDockerfileParseError,
  type ParseErrorLocation,
} from './parser/errors.js';
export { dump, dumpInstruction, goQuote, goToLower } from './dump.js';
export {
  detectSyntax,
  findDirective,
  parseDirectives,
  DirectiveError,
  type DirectiveLookup,
  type FoundDirective,
} from './parser/directives.js';
export {
  chompHeredocContent,
  heredocsFromLine,
  parseHeredocWord,
  HeredocWordError,
  type HeredocOpener,
} from './parser/heredoc.js';
export { splitWords, type Word } from './parser/words.js';
export { readJsonArray, type JsonArrayResult } from './parser/json-array.js';
export {
  createLexer,
  processWord,
  processWords,
  processWordWithMatches,
  envFromList,
  shellPatternToRegex,
  reversePattern,
  ShellError,
  type ExpansionResult,
  type LexerOptions,
  type ShellEnvironment,
  type ShellLexer,
  type ShellPattern,
} from './shell/index.js';
export * from './instructions/index.js';
export * from './lint/index.js';
