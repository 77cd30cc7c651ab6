import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from '@commander-js/extra-typings';
import { lint, parseDockerignore, type LintOptions, type LintResult } from '@lab/dockerfile';
import { openImageStore } from '@lab/layers';
import { isLabError } from '@lab/oci';
import type { CliContext, GlobalOptions } from '../../context.js';
import { ExitError, UsageError } from '../../errors.js';
import { readDockerfile } from './parse.js';

/** Exit codes of `lab dockerfile lint`. */
export const LINT_EXIT = { clean: 0, warnings: 1, error: 2 } as const;

function collectBuildArg(
  value: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) {
    throw new UsageError(`--build-arg ${value}: expected KEY=VALUE (e.g. --build-arg VERSION=1.2)`);
  }
  return { ...(previous ?? {}), [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** What the local store knows of a base image. */
interface LocalImage {
  env: readonly string[];
  platform: { os: string; architecture: string; variant?: string };
}

/**
 * The `Env` and platform of each base image the Dockerfile names that is in the local image
 * store, so UndefinedVar knows what the image defines and InvalidBaseImagePlatform can
 * compare platforms. Images not in the store stay unknown. The store is only read, and only
 * when the root already holds one.
 */
async function localImages(
  text: string,
  options: LintOptions,
  root: string,
): Promise<Map<string, LocalImage>> {
  const refs = new Set<string>();
  lint(text, {
    ...options,
    imageEnv: (ref) => {
      refs.add(ref);
      return undefined;
    },
  });
  const images = new Map<string, LocalImage>();
  if (refs.size === 0 || !existsSync(path.join(root, 'index.json'))) return images;
  const store = await openImageStore(root);
  for (const ref of refs) {
    try {
      const image = await store.resolve(ref);
      const { config } = image;
      images.set(ref, {
        env: config.config?.Env ?? [],
        platform: {
          os: config.os,
          architecture: config.architecture,
          ...(typeof config.variant === 'string' ? { variant: config.variant } : {}),
        },
      });
    } catch (err) {
      if (!isLabError(err)) throw err;
    }
  }
  return images;
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * The `.dockerignore` patterns BuildKit would use: `<Dockerfile>.dockerignore` next to the
 * Dockerfile, else `.dockerignore` at the context root; undefined when neither exists.
 */
async function dockerignoreFor(
  dockerfile: string | undefined,
  context: string | undefined,
): Promise<string[] | undefined> {
  const candidates = [
    ...(dockerfile === undefined ? [] : [`${dockerfile}.dockerignore`]),
    ...(context === undefined ? [] : [path.join(context, '.dockerignore')]),
  ];
  for (const candidate of candidates) {
    const text = await readIfExists(candidate);
    if (text !== undefined) return parseDockerignore(text);
  }
  return undefined;
}

function exitCode(result: LintResult): number {
  const { error } = result;
  // `# check=error=true` turns the warnings into a failure: still "a check fired" (exit 1).
  if (error !== undefined && !error.message.startsWith('lint violation found for rules: ')) {
    return LINT_EXIT.error;
  }
  return result.warnings.length > 0 ? LINT_EXIT.warnings : LINT_EXIT.clean;
}

function renderText(name: string, result: LintResult, ctx: CliContext): void {
  for (const w of result.warnings) {
    ctx.stdout.write(`${name}:${String(w.line)}:${String(w.column)} ${w.rule}: ${w.message}\n`);
  }
  const { error } = result;
  if (error !== undefined) {
    const where =
      error.line === undefined
        ? name
        : `${name}:${String(error.line)}:${String(error.column ?? 1)}`;
    ctx.stderr.write(`${where}: ${error.message}\n`);
  }
}

/** `lab dockerfile lint [--format text|json] [--build-arg K=V]… [--target T] [--check C] FILE|-` */
export function registerLint(group: Command, ctx: CliContext, globals: () => GlobalOptions): void {
  group
    .command('lint')
    .description(
      "check a Dockerfile with BuildKit's build checks (exit 1 when a check fires, 2 when the Dockerfile is invalid)",
    )
    .argument('<file>', 'the Dockerfile, or - for standard input')
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'),
    )
    .option('--build-arg <key=value>', 'set a build-time variable (repeatable)', collectBuildArg)
    .option('--target <stage>', 'check only the stages this target needs')
    .option(
      '--context <dir>',
      "build context whose .dockerignore CopyIgnoredFile uses (default: the Dockerfile's directory)",
    )
    .option(
      '--check <config>',
      'check configuration overriding the # check= directive, e.g. "skip=JSONArgsRecommended"',
    )
    .action(async (file, options) => {
      const { name, text } = await readDockerfile(file, ctx);
      let lintOptions: LintOptions = {
        buildArgs: options.buildArg ?? {},
        ...(options.target === undefined ? {} : { target: options.target }),
        ...(options.check === undefined ? {} : { check: options.check }),
      };
      const dockerfilePath = file === '-' ? undefined : path.resolve(ctx.cwd, file);
      const context =
        options.context !== undefined
          ? path.resolve(ctx.cwd, options.context)
          : dockerfilePath === undefined
            ? undefined
            : path.dirname(dockerfilePath);
      const dockerignore = await dockerignoreFor(dockerfilePath, context);
      if (dockerignore !== undefined) lintOptions = { ...lintOptions, dockerignore };
      const images = await localImages(text, lintOptions, globals().root);
      const result = lint(text, {
        ...lintOptions,
        imageEnv: (ref) => images.get(ref)?.env,
        imagePlatform: (ref) => images.get(ref)?.platform,
      });
      if (options.format === 'json') {
        ctx.stdout.write(`${JSON.stringify({ file: name, ...result }, null, 2)}\n`);
      } else {
        renderText(name, result, ctx);
      }
      const code = exitCode(result);
      if (code !== 0) throw new ExitError(code);
    });
}
