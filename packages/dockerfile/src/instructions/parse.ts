/**
 * AST → typed instructions grouped into stages (BuildKit `instructions/parse.go`):
 * argument counts, flags, exec/shell form, heredoc sources, RUN mounts, ARG scoping of the
 * instructions before the first FROM, and the lint checks BuildKit runs while parsing
 * (StageNameCasing, FromAsCasing, MaintainerDeprecated, InvalidDefinitionDescription).
 */
import type { InstructionNode, ParseResult } from '../ast.js';
import { goQuote } from '../shell/go-text.js';
import { chompHeredocContent, parseHeredocWord, type HeredocOpener } from '../parser/heredoc.js';
import { DEFAULT_LINT_CONFIG, Linter, parseLintConfig, type LintConfig } from '../lint/linter.js';
import {
  FromAsCasing,
  InvalidDefinitionDescription,
  MaintainerDeprecated,
  StageNameCasing,
} from '../lint/rules.js';
import { DockerfileError, errorAt } from './error.js';
import { InstructionFlags } from './flags.js';
import { formatGoDuration, parseGoDuration, parseGoInt32 } from './go-parse.js';
import { checkMount } from './mount.js';
import { withSuggestion } from './suggest.js';
import type {
  AddInstruction,
  ArgDefinition,
  ArgInstruction,
  CmdInstruction,
  Command,
  CommandLine,
  CopyInstruction,
  EntrypointInstruction,
  EnvInstruction,
  ExposeInstruction,
  FromInstruction,
  HealthcheckInstruction,
  InlineFile,
  Instruction,
  InstructionBase,
  KeyValuePair,
  LabelInstruction,
  MaintainerInstruction,
  OnbuildInstruction,
  ParsedDockerfile,
  RunInstruction,
  RunMount,
  ShellInstruction,
  SourcesAndDest,
  Stage,
  StopSignalInstruction,
  UserInstruction,
  VolumeInstruction,
  WorkdirInstruction,
} from './types.js';

/** The instruction keywords BuildKit knows (`command.Commands`). */
export const INSTRUCTION_NAMES = [
  'add',
  'arg',
  'cmd',
  'copy',
  'entrypoint',
  'env',
  'expose',
  'from',
  'healthcheck',
  'label',
  'maintainer',
  'onbuild',
  'run',
  'shell',
  'stopsignal',
  'user',
  'volume',
  'workdir',
] as const;

interface Request {
  readonly node: InstructionNode;
  readonly keyword: string;
  readonly args: readonly string[];
  readonly flags: InstructionFlags;
  readonly base: InstructionBase;
}

function nodeArgs(node: InstructionNode): string[] {
  // ONBUILD's only argument is its trigger instruction (BuildKit's single child node).
  if (node.keyword === 'onbuild') {
    return node.onbuild === undefined ? [] : [node.onbuild.rawKeyword, ...nodeArgs(node.onbuild)];
  }
  return node.args.map((a) => a.value);
}

function request(node: InstructionNode): Request {
  return {
    node,
    keyword: node.rawKeyword,
    args: nodeArgs(node),
    flags: new InstructionFlags(node.flags),
    base: {
      keyword: node.rawKeyword,
      original: node.original,
      range: node.range,
      comments: node.prevComments,
      node,
    },
  };
}

const atLeastOne = (cmd: string): Error => new Error(`${cmd} requires at least one argument`);
const exactlyOne = (cmd: string): Error => new Error(`${cmd} requires exactly one argument`);
const noDestination = (cmd: string): Error =>
  new Error(
    `${cmd} requires at least two arguments, but only one was provided. Destination could not be determined`,
  );

/** BuildKit `handleJSONArgs`: exec form as is, shell form joined into one string. */
function jsonArgs(args: readonly string[], json: boolean): string[] {
  if (args.length === 0) return [];
  if (json) return [...args];
  return [args.join(' ')];
}

function description(comments: readonly string[], name: string | undefined): string | undefined {
  if (name === undefined || name === '') return undefined;
  for (const line of comments) {
    if (line.startsWith(`${name} `)) return line.slice(name.length + 1);
  }
  return undefined;
}

function parseKvps(args: readonly string[], cmd: string): KeyValuePair[] {
  if (args.length === 0) throw atLeastOne(cmd);
  if (args.length % 3 !== 0) throw new Error(`Bad input to ${cmd}, too many arguments`);
  const pairs: KeyValuePair[] = [];
  for (let i = 0; i < args.length; i += 3) {
    const key = args[i]!;
    if (key === '') throw new Error(`${cmd} names can not be blank`);
    pairs.push({ key, value: args[i + 1]!, noDelim: args[i + 2] === '' });
  }
  return pairs;
}

function inlineFiles(node: InstructionNode): InlineFile[] {
  const heredocs = node.heredocs.length > 0 ? node.heredocs : (node.onbuild?.heredocs ?? []);
  return heredocs.map((h) => ({ name: h.name, data: h.content, chomp: h.chomp, expand: h.expand }));
}

function commandLine(req: Request): CommandLine {
  return {
    command: jsonArgs(req.args, req.node.json),
    prependShell: !req.node.json,
    files: inlineFiles(req.node),
  };
}

function heredocWord(word: string): HeredocOpener | undefined {
  try {
    return parseHeredocWord(word);
  } catch {
    return undefined;
  }
}

function sourcesAndDest(req: Request, cmd: string): SourcesAndDest {
  const dest = req.args[req.args.length - 1]!;
  if (heredocWord(dest) !== undefined) {
    throw new Error(`${cmd} cannot accept a heredoc as a destination`);
  }
  const byName = new Map(inlineFiles(req.node).map((h) => [h.name, h]));
  const sources: string[] = [];
  const sourceContents: InlineFile[] = [];
  for (const src of req.args.slice(0, -1)) {
    const opener = heredocWord(src);
    if (opener === undefined) {
      sources.push(src);
      continue;
    }
    const data = byName.get(opener.name)?.data ?? '';
    sourceContents.push({
      name: opener.name,
      data: opener.chomp ? chompHeredocContent(data) : data,
      chomp: opener.chomp,
      expand: opener.expand,
    });
  }
  return { sources, sourceContents, dest };
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function parseFrom(req: Request): FromInstruction {
  const args = req.args;
  let name: string | undefined;
  if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
    name = args[2]!.toLowerCase();
    if (!STAGE_NAME.test(name)) {
      throw new Error(
        `invalid name for build stage: ${goQuote(args[2]!)}, name can't start with a number or contain symbols`,
      );
    }
  } else if (args.length !== 1) {
    throw new Error('FROM requires either one or three arguments');
  }
  const platform = req.flags.string('platform');
  req.flags.parse();
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    kind: 'from',
    image: args[0]!,
    ...(name === undefined ? {} : { name, rawName: args[2]!, asKeyword: args[1]! }),
    ...(platform.used ? { platform: platform.value } : {}),
  };
}

function parseRun(req: Request): RunInstruction {
  const mount = req.flags.strings('mount');
  const network = req.flags.string('network', 'default');
  const security = req.flags.string('security', 'sandbox');
  req.flags.parse();
  const mounts: RunMount[] = [];
  for (const spec of mount.values) {
    // A mount whose values hold variables is validated once they are known.
    const m = checkMount(spec);
    if (m !== undefined) mounts.push(m);
  }
  if (!['default', 'none', 'host'].includes(network.value)) {
    throw new Error(`network mode ${goQuote(network.value)} not supported`);
  }
  if (!['sandbox', 'insecure'].includes(security.value)) {
    throw new Error(`security mode ${goQuote(security.value)} not supported`);
  }
  const line = commandLine(req);
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    command: line.command,
    prependShell: line.prependShell,
    files: line.files,
    kind: 'run',
    mounts,
    mountSpecs: mount.values,
    network: network.value as RunInstruction['network'],
    security: security.value as RunInstruction['security'],
    flagsUsed: req.flags.usedNames(),
  };
}

function parseCmd(req: Request): CmdInstruction {
  req.flags.parse();
  const line = commandLine(req);
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    command: line.command,
    prependShell: line.prependShell,
    files: line.files,
    kind: 'cmd',
  };
}

function parseEntrypoint(req: Request): EntrypointInstruction {
  req.flags.parse();
  const line = commandLine(req);
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    prependShell: line.prependShell,
    files: line.files,
    kind: 'entrypoint',
    command: line.command.length === 0 ? null : line.command,
  };
}

function notJson(cmd: string): Error {
  return new Error(`${cmd} requires the arguments to be in JSON form`);
}

function parseShell(req: Request): ShellInstruction {
  req.flags.parse();
  const shell = jsonArgs(req.args, req.node.json);
  if (shell.length === 0) throw atLeastOne('SHELL');
  if (!req.node.json) throw notJson('SHELL');
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    kind: 'shell',
    shell,
  };
}

function parseEnv(req: Request): EnvInstruction {
  req.flags.parse();
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    kind: 'env',
    env: parseKvps(req.args, 'ENV'),
  };
}

function parseLabel(req: Request): LabelInstruction {
  req.flags.parse();
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    kind: 'label',
    labels: parseKvps(req.args, 'LABEL'),
  };
}

function parseArg(req: Request): ArgInstruction {
  if (req.args.length < 1) throw atLeastOne('ARG');
  const args: ArgDefinition[] = req.args.map((arg) => {
    const eq = arg.indexOf('=');
    const key = eq < 0 ? arg : arg.slice(0, eq);
    if (eq >= 0 && key === '') throw new Error('ARG names can not be blank');
    const comment = description(req.node.prevComments, key);
    return {
      key,
      ...(eq < 0 ? {} : { value: arg.slice(eq + 1) }),
      ...(comment === undefined ? {} : { comment }),
    };
  });
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    kind: 'arg',
    args,
  };
}

function parseMaintainer(req: Request): MaintainerInstruction {
  if (req.args.length !== 1) throw exactlyOne('MAINTAINER');
  req.flags.parse();
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    kind: 'maintainer',
    maintainer: req.args[0]!,
  };
}

function parseExpose(req: Request): ExposeInstruction {
  if (req.args.length === 0) throw atLeastOne('EXPOSE');
  req.flags.parse();
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    kind: 'expose',
    ports: [...req.args].sort(),
  };
}

function parseUser(req: Request): UserInstruction {
  if (req.args.length !== 1) throw exactlyOne('USER');
  req.flags.parse();
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    kind: 'user',
    user: req.args[0]!,
  };
}

function parseWorkdir(req: Request): WorkdirInstruction {
  if (req.args.length !== 1) throw exactlyOne('WORKDIR');
  req.flags.parse();
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    kind: 'workdir',
    path: req.args[0]!,
  };
}

function parseVolume(req: Request): VolumeInstruction {
  if (req.args.length === 0) throw atLeastOne('VOLUME');
  req.flags.parse();
  const volumes = req.args.map((v) => {
    const trimmed = v.replace(/^[\s\u0085]+|[\s\u0085]+$/gu, '');
    if (trimmed === '') throw new Error('VOLUME specified can not be an empty string');
    return trimmed;
  });
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    kind: 'volume',
    volumes,
  };
}

function parseStopSignal(req: Request): StopSignalInstruction {
  // BuildKit never validates STOPSIGNAL's flags.
  if (req.args.length !== 1) throw exactlyOne('STOPSIGNAL');
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    kind: 'stopsignal',
    signal: req.args[0]!,
  };
}

const MINIMUM_DURATION = 1e6; // 1ms

function interval(name: string, value: string): number {
  if (value === '') return 0;
  const d = parseGoDuration(value);
  if (d === 0) return 0;
  if (d < MINIMUM_DURATION) {
    throw new Error(
      `Interval ${goQuote(name)} cannot be less than ${formatGoDuration(MINIMUM_DURATION)}`,
    );
  }
  return d;
}

function parseHealthcheck(req: Request): HealthcheckInstruction {
  if (req.args.length === 0) throw atLeastOne('HEALTHCHECK');
  let type = req.args[0]!.toUpperCase();
  const args = req.args.slice(1);
  if (type === 'NONE') {
    if (args.length !== 0) throw new Error('HEALTHCHECK NONE takes no arguments');
    return {
      keyword: req.base.keyword,
      original: req.base.original,
      range: req.base.range,
      comments: req.base.comments,
      node: req.base.node,
      kind: 'healthcheck',
      health: {
        test: [type],
        interval: 0,
        timeout: 0,
        startPeriod: 0,
        startInterval: 0,
        retries: 0,
      },
    };
  }
  const flInterval = req.flags.string('interval');
  const flTimeout = req.flags.string('timeout');
  const flStartPeriod = req.flags.string('start-period');
  const flStartInterval = req.flags.string('start-interval');
  const flRetries = req.flags.string('retries');
  req.flags.parse();
  if (type !== 'CMD') throw new Error(`Unknown type ${goQuote(type)} in HEALTHCHECK (try CMD)`);
  const cmd = jsonArgs(args, req.node.json);
  if (cmd.length === 0) throw new Error('Missing command after HEALTHCHECK CMD');
  if (!req.node.json) type = 'CMD-SHELL';
  let retries = 0;
  const health = {
    test: [type, ...cmd],
    interval: interval('interval', flInterval.value),
    timeout: interval('timeout', flTimeout.value),
    startPeriod: interval('start-period', flStartPeriod.value),
    startInterval: interval('start-interval', flStartInterval.value),
    retries,
  };
  if (flRetries.value !== '') {
    retries = parseGoInt32(flRetries.value);
    if (retries < 0) throw new Error(`--retries cannot be negative (${retries})`);
  }
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    kind: 'healthcheck',
    health: { ...health, retries },
  };
}

function parseOnbuild(req: Request): OnbuildInstruction {
  if (req.args.length === 0) throw atLeastOne('ONBUILD');
  req.flags.parse();
  const trigger = req.args[0]!.replace(/^[\s\u0085]+|[\s\u0085]+$/gu, '').toUpperCase();
  if (trigger === 'ONBUILD')
    throw new Error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (trigger === 'MAINTAINER' || trigger === 'FROM') {
    throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
  }
  let expression = req.node.original.replace(/^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*/i, '');
  for (const h of inlineFiles(req.node)) expression += `\n${h.data}${h.name}`;
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    kind: 'onbuild',
    expression,
    trigger,
  };
}

function parseCopy(req: Request): CopyInstruction {
  if (req.args.length < 2) throw noDestination('COPY');
  const excludes = req.flags.strings('exclude');
  const parents = req.flags.bool('parents');
  const chown = req.flags.string('chown');
  const from = req.flags.string('from');
  const chmod = req.flags.string('chmod');
  const link = req.flags.bool('link');
  req.flags.parse();
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    ...sourcesAndDest(req, 'COPY'),
    kind: 'copy',
    ...(from.value === '' ? {} : { from: from.value }),
    ...(chown.value === '' ? {} : { chown: chown.value }),
    ...(chmod.value === '' ? {} : { chmod: chmod.value }),
    link: link.value === 'true',
    parents: parents.value === 'true',
    excludes: excludes.values,
  };
}

function parseAdd(req: Request): AddInstruction {
  if (req.args.length < 2) throw noDestination('ADD');
  const excludes = req.flags.strings('exclude');
  const chown = req.flags.string('chown');
  const chmod = req.flags.string('chmod');
  const link = req.flags.bool('link');
  const keepGitDir = req.flags.bool('keep-git-dir');
  const checksum = req.flags.string('checksum');
  const unpack = req.flags.bool('unpack');
  req.flags.parse();
  return {
    keyword: req.base.keyword,
    original: req.base.original,
    range: req.base.range,
    comments: req.base.comments,
    node: req.base.node,
    ...sourcesAndDest(req, 'ADD'),
    kind: 'add',
    ...(chown.value === '' ? {} : { chown: chown.value }),
    ...(chmod.value === '' ? {} : { chmod: chmod.value }),
    link: link.value === 'true',
    keepGitDir: keepGitDir.value === 'true',
    ...(checksum.value === '' ? {} : { checksum: checksum.value }),
    ...(unpack.used ? { unpack: unpack.value === 'true' } : {}),
    excludes: excludes.values,
  };
}

/** The configuration of a `# check=` directive value; the default when it is malformed. */
function directiveConfig(value: string | undefined): LintConfig {
  try {
    return parseLintConfig((value ?? '').split(' ')[0] ?? '');
  } catch {
    return DEFAULT_LINT_CONFIG;
  }
}

/** Options of {@link parseInstruction} and {@link parseInstructions}. */
export interface ParseInstructionsOptions {
  /** Receives the checks BuildKit runs while parsing (StageNameCasing, FromAsCasing…). */
  readonly linter?: Linter;
}

function lintDefinition(
  linter: Linter | undefined,
  instruction: string,
  keys: readonly string[],
  node: InstructionNode,
): void {
  const comments = node.prevComments;
  if (linter === undefined || comments.length === 0 || keys.length === 0) return;
  const first = comments[comments.length - 1]!.split(' ')[0]!;
  if (keys.includes(first)) return;
  const example = keys.length > 1 ? '<arg_key>' : keys[0]!;
  linter.run(
    InvalidDefinitionDescription,
    node.range,
    InvalidDefinitionDescription.format(instruction, example),
    comments,
  );
}

function lintFrom(linter: Linter | undefined, req: Request): void {
  if (linter === undefined) return;
  const { args, keyword, node } = req;
  if (args.length === 3 && args[2] !== args[2]!.toLowerCase()) {
    linter.run(StageNameCasing, node.range, StageNameCasing.format(args[2]!), node.prevComments);
  }
  if (args.length >= 3) {
    const lower = keyword === keyword.toLowerCase();
    const upper = keyword === keyword.toUpperCase();
    const as = args[1]!;
    const mismatch =
      (lower && as !== as.toLowerCase()) || (!lower && upper && as !== as.toUpperCase());
    if ((lower || upper) && mismatch) {
      linter.run(FromAsCasing, node.range, FromAsCasing.format(keyword, as), node.prevComments);
    }
  }
}

function dispatchParse(req: Request, linter: Linter | undefined): Instruction {
  switch (req.node.keyword) {
    case 'env':
      return parseEnv(req);
    case 'maintainer':
      linter?.run(
        MaintainerDeprecated,
        req.node.range,
        MaintainerDeprecated.format(),
        req.node.prevComments,
      );
      return parseMaintainer(req);
    case 'label':
      return parseLabel(req);
    case 'add':
      return parseAdd(req);
    case 'copy':
      return parseCopy(req);
    case 'from': {
      lintFrom(linter, req);
      const from = parseFrom(req);
      if (from.name !== undefined) lintDefinition(linter, 'FROM', [from.name], req.node);
      return from;
    }
    case 'onbuild':
      return parseOnbuild(req);
    case 'workdir':
      return parseWorkdir(req);
    case 'run':
      return parseRun(req);
    case 'cmd':
      return parseCmd(req);
    case 'healthcheck':
      return parseHealthcheck(req);
    case 'entrypoint':
      return parseEntrypoint(req);
    case 'expose':
      return parseExpose(req);
    case 'user':
      return parseUser(req);
    case 'volume':
      return parseVolume(req);
    case 'stopsignal':
      return parseStopSignal(req);
    case 'arg': {
      const arg = parseArg(req);
      lintDefinition(
        linter,
        'ARG',
        arg.args.map((a) => a.key),
        req.node,
      );
      return arg;
    }
    case 'shell':
      return parseShell(req);
    default:
      throw new Error(
        withSuggestion(
          `unknown instruction: ${req.keyword}`,
          req.keyword,
          INSTRUCTION_NAMES.map((n) => n.toUpperCase()),
          false,
        ),
      );
  }
}

/**
 * Converts one AST node to a typed instruction (BuildKit `ParseInstruction`). Throws a
 * {@link DockerfileError} located at the instruction.
 */
export function parseInstruction(
  node: InstructionNode,
  options: ParseInstructionsOptions = {},
): Instruction {
  try {
    return dispatchParse(request(node), options.linter);
  } catch (err) {
    if (err instanceof DockerfileError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new DockerfileError(message, node.range, {
      cause: err,
      buildkitMessage: `dockerfile parse error on line ${String(node.range.start.line)}: ${message}`,
    });
  }
}

/**
 * Groups a parsed Dockerfile's instructions into stages (BuildKit `instructions.Parse`):
 * ARGs before the first FROM become meta args; any other instruction before FROM fails
 * with `no build stage in current context`. Throws a {@link DockerfileError} for the first
 * invalid instruction.
 */
export function parseInstructions(
  parsed: Pick<ParseResult, 'instructions'> & Partial<Pick<ParseResult, 'directives'>>,
  options: ParseInstructionsOptions = {},
): ParsedDockerfile {
  let linter = options.linter;
  if (linter === undefined) {
    linter = new Linter(directiveConfig(parsed.directives?.check?.value));
    linter.ignoreDirectiveComments(parsed);
  }
  options = { ...options, linter };
  const metaArgs: ArgInstruction[] = [];
  const stages: { from: FromInstruction; commands: Command[] }[] = [];
  for (const node of parsed.instructions) {
    const instruction = parseInstruction(node, options);
    if (instruction.kind === 'from') {
      stages.push({ from: instruction, commands: [] });
      continue;
    }
    const current = stages[stages.length - 1];
    if (current === undefined) {
      if (instruction.kind === 'arg') {
        metaArgs.push(instruction);
        continue;
      }
      throw errorAt(node, 'no build stage in current context');
    }
    current.commands.push(instruction);
  }
  return {
    metaArgs,
    warnings: [...linter.warnings],
    stages: stages.map((s, index): Stage => {
      const desc = description(s.from.comments, s.from.name);
      return {
        index,
        from: s.from,
        ...(s.from.name === undefined ? {} : { name: s.from.name }),
        ...(desc === undefined ? {} : { description: desc }),
        commands: s.commands,
      };
    }),
  };
}
