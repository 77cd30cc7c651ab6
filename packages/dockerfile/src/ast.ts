/**
 * The Dockerfile abstract syntax tree produced by {@link parse}. It models BuildKit's
 * `parser.Node` (`frontend/dockerfile/parser/parser.go`) as plain, JSON-serialisable data:
 * one {@link InstructionNode} per logical instruction, each with its keyword, flags,
 * argument chain, heredocs and source positions.
 *
 * Positions are 1-based. `line` counts physical lines (`\n`-terminated) of the input,
 * blank, comment and directive lines included. `column` counts UTF-16 code units
 * (JavaScript string indices) from 1; a UTF-8 BOM on the first line is not counted.
 * Every {@link SourceRange} is half-open: `end` is the position just after the last
 * character it covers.
 */

/** A 1-based line/column position in the Dockerfile text. */
export interface Position {
  /** 1-based physical line number. */
  readonly line: number;
  /** 1-based column, in UTF-16 code units. */
  readonly column: number;
}

/** A half-open span of source text: `start` is the first character, `end` is just past the last. */
export interface SourceRange {
  readonly start: Position;
  readonly end: Position;
}

/** The escape character in effect: set by the `# escape=` directive, `\` by default. */
export type EscapeToken = '\\' | '`';

/**
 * One argument of an instruction: a node of BuildKit's `Next` chain. The value is what
 * BuildKit stores (e.g. a decoded JSON string for exec form, a `name`/`value`/`=` triple
 * element for ENV and LABEL), never lower-cased.
 */
export interface ArgumentNode {
  /** The argument value exactly as BuildKit's parser stores it. */
  readonly value: string;
  /**
   * Where the argument's text is in the source. For decoded JSON strings this is the
   * quoted string literal; for synthetic values (the `=` / `""` markers of ENV/LABEL, the
   * single empty node of an unknown instruction) it is an empty or best-effort range.
   */
  readonly range: SourceRange;
}

/** A heredoc body attached to a RUN, COPY or ADD instruction (`<<EOF … EOF`). */
export interface Heredoc {
  /** The delimiter word with quotes removed (e.g. `EOF` for `<<'EOF'`). */
  readonly name: string;
  /**
   * The body lines verbatim: line endings and leading tabs included. For `<<-`, leading
   * tabs are removed later, when the instruction is evaluated (see `chomp`).
   */
  readonly content: string;
  /** False when any part of the delimiter was quoted (`<<'EOF'`, `<<"EOF"`, `<<E'O'F`). */
  readonly expand: boolean;
  /** True for `<<-`: leading tabs are stripped from every body line when it is used. */
  readonly chomp: boolean;
  /** The file descriptor written before `<<` (`3<<EOF`), 0 when absent. */
  readonly fileDescriptor: number;
  /** From the first body line through the terminator line. */
  readonly range: SourceRange;
}

/** One Dockerfile instruction (a child of BuildKit's root node). */
export interface InstructionNode {
  /** The keyword lower-cased (`from`, `run`, …); unknown keywords are kept as well. */
  readonly keyword: string;
  /** The keyword exactly as written (`FROM`, `run`, `Copy`…). */
  readonly rawKeyword: string;
  /** Leading `--name[=value]` words with quotes and escapes removed, in source order. */
  readonly flags: readonly string[];
  /** The argument chain (BuildKit's `Next` nodes), in order. Empty for ONBUILD. */
  readonly args: readonly ArgumentNode[];
  /**
   * For ONBUILD: the trigger instruction parsed as a complete instruction (BuildKit's
   * single child of the container node). Absent for every other keyword and for a bare
   * `ONBUILD`.
   */
  readonly onbuild?: InstructionNode;
  /** True when the arguments are in exec (JSON array) form. */
  readonly json: boolean;
  /**
   * Heredoc bodies, in opener order (RUN/COPY/ADD shell form only). For
   * `ONBUILD RUN <<EOF`, they are on the ONBUILD node, as in BuildKit.
   */
  readonly heredocs: readonly Heredoc[];
  /**
   * The logical instruction text after joining continuation lines (BuildKit's
   * `Original`), without heredoc bodies.
   */
  readonly original: string;
  /** Comment lines (text after `#`, trimmed) directly above this instruction. */
  readonly prevComments: readonly string[];
  /**
   * From the keyword's first character to the end of the last physical line consumed
   * (continuation lines, heredoc bodies and terminators included).
   */
  readonly range: SourceRange;
}

/** The parser directives BuildKit recognises at the top of a Dockerfile. */
export type DirectiveName = 'syntax' | 'escape' | 'check';

/** One `# name=value` parser directive. */
export interface Directive {
  /** The directive name, lower-cased. */
  readonly name: DirectiveName;
  /** The value with trailing whitespace removed. */
  readonly value: string;
  /** The whole directive line (without its line terminator). */
  readonly range: SourceRange;
}

/** The directives of the prologue, by name, plus the list in source order. */
export interface Directives {
  readonly syntax?: Directive;
  readonly escape?: Directive;
  readonly check?: Directive;
  /** Every directive found, in source order. */
  readonly all: readonly Directive[];
}

/** A non-fatal problem found while parsing (BuildKit's `parser.Warning`). */
export interface ParseWarning {
  /** Stable identifier of the warning kind. */
  readonly code: 'empty-continuation-line';
  /** One-line summary, e.g. `Empty continuation line found in: RUN a b`. */
  readonly message: string;
  /** Longer explanation lines. */
  readonly detail: readonly string[];
  /** Documentation link for the matching lint rule. */
  readonly url: string;
  /** The instruction the warning is about. */
  readonly range: SourceRange;
}

/** The result of {@link parse}: BuildKit's root node plus directives and warnings. */
export interface ParseResult {
  /** The instructions in source order (the root node's children). */
  readonly instructions: readonly InstructionNode[];
  /** From the first instruction's start to the last instruction's end. */
  readonly range: SourceRange;
  /** Parser directives found in the prologue. */
  readonly directives: Directives;
  /** The escape character in effect for the whole file. */
  readonly escapeToken: EscapeToken;
  /** Non-fatal problems, in source order. */
  readonly warnings: readonly ParseWarning[];
}
