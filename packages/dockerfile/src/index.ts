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
