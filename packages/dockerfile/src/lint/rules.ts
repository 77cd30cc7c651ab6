/**
 * BuildKit's build checks (`frontend/dockerfile/linter/ruleset.go`): names, descriptions,
 * documentation links and message formats, kept verbatim so output matches
 * `docker build --check`.
 */
import { goQuote } from '../shell/go-text.js';

/** What identifies a build check. */
export interface RuleInfo {
  readonly name: string;
  readonly description: string;
  /** The documentation link ('' for InvalidBaseImagePlatform, which has none). */
  readonly url: string;
  /** Experimental rules run only when enabled with `# check=experimental=…`. */
  readonly experimental: boolean;
}

/** One build check with its message format. */
export interface LintRule<A extends unknown[]> extends RuleInfo {
  readonly format: (...args: A) => string;
}

function rule<A extends unknown[]>(
  name: string,
  description: string,
  slug: string,
  format: (...args: A) => string,
  experimental = false,
): LintRule<A> {
  const url = slug === '' ? '' : `https://docs.docker.com/go/dockerfile/rule/${slug}/`;
  return { name, description, url, experimental, format };
}

/** Go's `%q`. */
const q = goQuote;

export const StageNameCasing = rule(
  'StageNameCasing',
  'Stage names should be lowercase',
  'stage-name-casing',
  (stageName: string) => `Stage name '${stageName}' should be lowercase`,
);

export const FromAsCasing = rule(
  'FromAsCasing',
  "The 'as' keyword should match the case of the 'from' keyword",
  'from-as-casing',
  (from: string, as: string) => `'${as}' and '${from}' keywords' casing do not match`,
);

export const NoEmptyContinuation = rule(
  'NoEmptyContinuation',
  'Empty continuation lines will become errors in a future release',
  'no-empty-continuation',
  () => 'Empty continuation line',
);

export const ConsistentInstructionCasing = rule(
  'ConsistentInstructionCasing',
  'All commands within the Dockerfile should use the same casing (either upper or lower)',
  'consistent-instruction-casing',
  (command: string, casing: string) =>
    `Command '${command}' should match the case of the command majority (${casing})`,
);

export const DuplicateStageName = rule(
  'DuplicateStageName',
  'Stage names should be unique',
  'duplicate-stage-name',
  (stageName: string) => `Duplicate stage name ${q(stageName)}, stage names should be unique`,
);

export const ReservedStageName = rule(
  'ReservedStageName',
  'Reserved words should not be used as stage names',
  'reserved-stage-name',
  (stageName: string) =>
    `Stage name should not use the same name as reserved stage ${q(stageName)}`,
);

export const JSONArgsRecommended = rule(
  'JSONArgsRecommended',
  'JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals',
  'json-args-recommended',
  (instruction: string) =>
    `JSON arguments recommended for ${instruction} to prevent unintended behavior related to OS signals`,
);

export const MaintainerDeprecated = rule(
  'MaintainerDeprecated',
  'The MAINTAINER instruction is deprecated, use a label instead to define an image author',
  'maintainer-deprecated',
  () => 'Maintainer instruction is deprecated in favor of using label',
);

export const UndefinedArgInFrom = rule(
  'UndefinedArgInFrom',
  'FROM command must use declared ARGs',
  'undefined-arg-in-from',
  (arg: string, suggestion?: string) =>
    `FROM argument '${arg}' is not declared` +
    (suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`),
);

export const WorkdirRelativePath = rule(
  'WorkdirRelativePath',
  'Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes',
  'workdir-relative-path',
  (workdir: string) =>
    `Relative workdir ${q(workdir)} can have unexpected results if the base image changes`,
);

export const UndefinedVar = rule(
  'UndefinedVar',
  'Variables should be defined before their use',
  'undefined-var',
  (name: string, suggestion?: string) =>
    `Usage of undefined variable '$${name}'` +
    (suggestion === undefined ? '' : ` (did you mean $${suggestion}?)`),
);

export const MultipleInstructionsDisallowed = rule(
  'MultipleInstructionsDisallowed',
  'Multiple instructions of the same type should not be used in the same stage',
  'multiple-instructions-disallowed',
  (instruction: string) =>
    `Multiple ${instruction} instructions should not be used in the same stage because only the last one will be used`,
);

export const LegacyKeyValueFormat = rule(
  'LegacyKeyValueFormat',
  'Legacy key/value format with whitespace separator should not be used',
  'legacy-key-value-format',
  (command: string) =>
    `"${command} key=value" should be used instead of legacy "${command} key value" format`,
);

export const InvalidBaseImagePlatform = rule(
  'InvalidBaseImagePlatform',
  'Base image platform does not match expected target platform',
  '',
  (image: string, expected: string, actual: string) =>
    `Base image ${image} was pulled with platform ${q(actual)}, expected ${q(expected)} for current build`,
);

export const RedundantTargetPlatform = rule(
  'RedundantTargetPlatform',
  'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior',
  'redundant-target-platform',
  (platformVar: string) =>
    `Setting platform to predefined ${platformVar} in FROM is redundant as this is the default behavior`,
);

export const SecretsUsedInArgOrEnv = rule(
  'SecretsUsedInArgOrEnv',
  'Sensitive data should not be used in the ARG or ENV commands',
  'secrets-used-in-arg-or-env',
  (instruction: string, key: string) =>
    `Do not use ARG or ENV instructions for sensitive data (${instruction} ${q(key)})`,
);

export const InvalidDefaultArgInFrom = rule(
  'InvalidDefaultArgInFrom',
  'Default value for global ARG results in an empty or invalid base image name',
  'invalid-default-arg-in-from',
  (baseName: string) =>
    `Default value for ARG ${baseName} results in empty or invalid base image name`,
);

export const FromPlatformFlagConstDisallowed = rule(
  'FromPlatformFlagConstDisallowed',
  'FROM --platform flag should not use a constant value',
  'from-platform-flag-const-disallowed',
  (platform: string) => `FROM --platform flag should not use constant value ${q(platform)}`,
);

export const CopyIgnoredFile = rule(
  'CopyIgnoredFile',
  'Attempting to Copy file that is excluded by .dockerignore',
  'copy-ignored-file',
  (cmd: string, file: string) =>
    `Attempting to ${cmd} file ${q(file)} that is excluded by .dockerignore`,
);

export const InvalidDefinitionDescription = rule(
  'InvalidDefinitionDescription',
  'Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.',
  'invalid-definition-description',
  (instruction: string, name: string) =>
    `Comment for ${instruction} should follow the format: \`# ${name} <description>\``,
  true,
);

export const ExposeProtoCasing = rule(
  'ExposeProtoCasing',
  'Protocol in EXPOSE instruction should be lowercase',
  'expose-proto-casing',
  (port: string) => `Defined protocol '${port}' in EXPOSE instruction should be lowercase`,
);

export const ExposeInvalidFormat = rule(
  'ExposeInvalidFormat',
  'IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release',
  'expose-invalid-format',
  (port: string) =>
    `EXPOSE instruction should not define an IP address or host-port mapping, found '${port}'`,
);

/** Every rule, by name. */
export const RULES: readonly RuleInfo[] = [
  StageNameCasing,
  FromAsCasing,
  NoEmptyContinuation,
  ConsistentInstructionCasing,
  DuplicateStageName,
  ReservedStageName,
  JSONArgsRecommended,
  MaintainerDeprecated,
  UndefinedArgInFrom,
  WorkdirRelativePath,
  UndefinedVar,
  MultipleInstructionsDisallowed,
  LegacyKeyValueFormat,
  InvalidBaseImagePlatform,
  RedundantTargetPlatform,
  SecretsUsedInArgOrEnv,
  InvalidDefaultArgInFrom,
  FromPlatformFlagConstDisallowed,
  CopyIgnoredFile,
  InvalidDefinitionDescription,
  ExposeProtoCasing,
  ExposeInvalidFormat,
];
