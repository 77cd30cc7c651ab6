/**
 * Typed Dockerfile instructions (BuildKit `frontend/dockerfile/instructions/commands.go`):
 * a discriminated union on `kind`, grouped into stages by {@link parseInstructions}. Values
 * are as written in the Dockerfile (quotes of ENV/LABEL/ARG kept, variables unexpanded);
 * {@link expandInstruction} applies BuildKit's per-instruction variable expansion.
 */
import type { InstructionNode, SourceRange } from '../ast.js';
import type { LintWarning } from '../lint/linter.js';

/** What every instruction carries. */
export interface InstructionBase {
  /** The keyword exactly as written (`RUN`, `run`, `Run`…): BuildKit's `Name()`. */
  readonly keyword: string;
  /** The logical instruction text (continuations joined). */
  readonly original: string;
  /** Where the instruction is, from its keyword to its last physical line. */
  readonly range: SourceRange;
  /** The comment lines directly above the instruction. */
  readonly comments: readonly string[];
  /** The AST node it was built from. */
  readonly node: InstructionNode;
}

/** `KEY=VALUE` of ENV and LABEL; `noDelim` marks the legacy `ENV KEY VALUE` form. */
export interface KeyValuePair {
  readonly key: string;
  readonly value: string;
  readonly noDelim: boolean;
}

/** One name of an ARG instruction, with its default when given. */
export interface ArgDefinition {
  readonly key: string;
  /** The default as written (`ARG a=` gives `""`); undefined for `ARG a`. */
  readonly value?: string;
  /** The description from a `# <name> <description>` comment above the instruction. */
  readonly comment?: string;
}

/** A heredoc body used by RUN (`Files`) or as COPY/ADD source content. */
export interface InlineFile {
  readonly name: string;
  readonly data: string;
  /** `<<-`: strip leading tabs from every line when the body is used. */
  readonly chomp: boolean;
  /** Unquoted delimiter: COPY/ADD bodies are variable-expanded. */
  readonly expand: boolean;
}

/** A RUN `--mount` (BuildKit `instructions.Mount`). */
export interface RunMount {
  readonly type: 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
  readonly from?: string;
  readonly source?: string;
  readonly target?: string;
  readonly readOnly: boolean;
  /** `id=` (cache id, secret id, ssh id). */
  readonly id?: string;
  readonly sharing?: 'shared' | 'private' | 'locked';
  readonly required: boolean;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** tmpfs `size=` in bytes. */
  readonly size?: number;
  /** secret `env=`: expose the secret as this environment variable. */
  readonly env?: string;
}

/** A health check as the image config stores it (durations in nanoseconds, 0 = unset). */
export interface HealthConfig {
  /** `["NONE"]`, `["CMD", …]` or `["CMD-SHELL", "<command>"]`. */
  readonly test: readonly string[];
  readonly interval: number;
  readonly timeout: number;
  readonly startPeriod: number;
  readonly startInterval: number;
  readonly retries: number;
}

/** A command line that may be shell form (wrapped in SHELL later) or exec form. */
export interface CommandLine {
  /** Exec form: the JSON array; shell form: one element holding the text. */
  readonly command: readonly string[];
  /** True for shell form: the stage's SHELL is prepended when building. */
  readonly prependShell: boolean;
  /** Heredoc bodies (RUN only). */
  readonly files: readonly InlineFile[];
}

export interface RunInstruction extends InstructionBase, CommandLine {
  readonly kind: 'run';
  readonly mounts: readonly RunMount[];
  /** The raw `--mount` values, for re-parsing with variable expansion. */
  readonly mountSpecs: readonly string[];
  readonly network: 'default' | 'none' | 'host';
  readonly security: 'sandbox' | 'insecure';
  /** Flags that appeared (`mount`, `network`, `security`). */
  readonly flagsUsed: readonly string[];
}

export interface CmdInstruction extends InstructionBase, CommandLine {
  readonly kind: 'cmd';
}

export interface EntrypointInstruction extends InstructionBase, Omit<CommandLine, 'command'> {
  readonly kind: 'entrypoint';
  /** Null for `ENTRYPOINT []` (clears the entrypoint). */
  readonly command: readonly string[] | null;
}

export interface ShellInstruction extends InstructionBase {
  readonly kind: 'shell';
  readonly shell: readonly string[];
}

export interface EnvInstruction extends InstructionBase {
  readonly kind: 'env';
  readonly env: readonly KeyValuePair[];
}

export interface LabelInstruction extends InstructionBase {
  readonly kind: 'label';
  readonly labels: readonly KeyValuePair[];
}

export interface ArgInstruction extends InstructionBase {
  readonly kind: 'arg';
  readonly args: readonly ArgDefinition[];
}

export interface MaintainerInstruction extends InstructionBase {
  readonly kind: 'maintainer';
  readonly maintainer: string;
}

export interface ExposeInstruction extends InstructionBase {
  readonly kind: 'expose';
  /** Port specs as written, sorted (BuildKit sorts them); expanded with word splitting later. */
  readonly ports: readonly string[];
}

export interface VolumeInstruction extends InstructionBase {
  readonly kind: 'volume';
  readonly volumes: readonly string[];
}

export interface UserInstruction extends InstructionBase {
  readonly kind: 'user';
  readonly user: string;
}

export interface WorkdirInstruction extends InstructionBase {
  readonly kind: 'workdir';
  readonly path: string;
}

export interface StopSignalInstruction extends InstructionBase {
  readonly kind: 'stopsignal';
  readonly signal: string;
}

export interface HealthcheckInstruction extends InstructionBase {
  readonly kind: 'healthcheck';
  readonly health: HealthConfig;
}

export interface OnbuildInstruction extends InstructionBase {
  readonly kind: 'onbuild';
  /** The trigger text after `ONBUILD` (plus heredoc bodies), run later in child builds. */
  readonly expression: string;
  /** The trigger's keyword, upper-cased. */
  readonly trigger: string;
}

/** Sources and destination of COPY/ADD. */
export interface SourcesAndDest {
  /** Context (or stage/image) paths, URLs and git refs, as written. */
  readonly sources: readonly string[];
  /** Heredoc sources (`COPY <<EOF /dest`). */
  readonly sourceContents: readonly InlineFile[];
  readonly dest: string;
}

export interface CopyInstruction extends InstructionBase, SourcesAndDest {
  readonly kind: 'copy';
  /** `--from`: a stage name, stage index or image; never expanded. */
  readonly from?: string;
  readonly chown?: string;
  readonly chmod?: string;
  readonly link: boolean;
  readonly parents: boolean;
  readonly excludes: readonly string[];
}

export interface AddInstruction extends InstructionBase, SourcesAndDest {
  readonly kind: 'add';
  readonly chown?: string;
  readonly chmod?: string;
  readonly link: boolean;
  readonly keepGitDir: boolean;
  readonly checksum?: string;
  /** `--unpack`: undefined when not given (local archives unpack, URLs don't). */
  readonly unpack?: boolean;
  readonly excludes: readonly string[];
}

/** Every instruction that can appear inside a stage. */
export type Command =
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | EnvInstruction
  | LabelInstruction
  | ArgInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | StopSignalInstruction
  | HealthcheckInstruction
  | OnbuildInstruction
  | CopyInstruction
  | AddInstruction;

/** A FROM instruction: the start of a stage. */
export interface FromInstruction extends InstructionBase {
  readonly kind: 'from';
  /** The base image or stage, unexpanded. */
  readonly image: string;
  /** The stage name lower-cased (`AS Builder` → `builder`); undefined when unnamed. */
  readonly name?: string;
  /** The stage name as written. */
  readonly rawName?: string;
  /** The `AS` keyword as written. */
  readonly asKeyword?: string;
  /** `--platform`, unexpanded. */
  readonly platform?: string;
}

/** Any typed instruction. */
export type Instruction = FromInstruction | Command;

/** A build stage: its FROM and the commands after it. */
export interface Stage {
  /** 0-based position in the file (what `COPY --from=<n>` refers to). */
  readonly index: number;
  readonly from: FromInstruction;
  /** The stage name lower-cased, if any. */
  readonly name?: string;
  /** The description from a `# <name> <description>` comment above FROM. */
  readonly description?: string;
  readonly commands: readonly Command[];
}

/** The result of {@link parseInstructions}. */
export interface ParsedDockerfile {
  /** ARG instructions before the first FROM (global scope). */
  readonly metaArgs: readonly ArgInstruction[];
  readonly stages: readonly Stage[];
  /**
   * The checks BuildKit runs while parsing instructions (StageNameCasing, FromAsCasing,
   * MaintainerDeprecated, InvalidDefinitionDescription), as the file's `# check=` allows.
   * `lint` runs every check.
   */
  readonly warnings: readonly LintWarning[];
}
