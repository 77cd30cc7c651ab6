/**
 * `lab build [OPTIONS] PATH|-` (also `lab image build`): docker's `build` flags on
 * `@lab/dockerfile/builder`, with RUN steps executed by `@lab/lifecycle`'s runtime. Progress goes
 * to stderr (`--progress auto|plain|tty`), `-q` prints only the image ID, a failed build
 * prints BuildKit's `Dockerfile:LINE` report and exits 1.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { createPatternMatcher, parseDockerignore } from '@lab/dockerfile';
import {
  build,
  formatBuildError,
  type BuildContextSource,
  type BuildSecret,
} from '@lab/dockerfile/builder';
import { createBuiltinRuntime, createRunExecutor } from '@lab/lifecycle';
import { invalidArgument, notFound } from '@lab/oci';
import type { CliContext, GlobalOptions } from '../../context.js';
import type { Register } from '../../program.js';
import { ExitError } from '../../errors.js';
import { plainProgress, ttyProgress, type ProgressRenderer } from './progress.js';
import { defineBuilderPrune } from './prune.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function readStream(stream: AsyncIterable<Uint8Array | string>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream)
    chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

/** `--build-arg K=V` or `--build-arg K` (value from the environment, skipped when unset). */
export function parseBuildArgs(
  values: readonly string[],
  env: Record<string, string | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq === 0) throw invalidArgument(`--build-arg ${v}: the name is empty; use NAME=VALUE`);
    if (eq > 0) out[v.slice(0, eq)] = v.slice(eq + 1);
    else if (env[v] !== undefined) out[v] = env[v];
  }
  return out;
}

/** `--secret id=ID[,src=FILE|,env=VAR]` (docker's forms; `source`/`type=file|env` accepted). */
export function parseSecret(spec: string, cwd: string): BuildSecret {
  const fields = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw invalidArgument(`--secret ${spec}: expected key=value fields (id=…,src=…)`);
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1));
  }
  const id = fields.get('id');
  const src = fields.get('src') ?? fields.get('source');
  const envName = fields.get('env');
  if (id === undefined || id === '') throw invalidArgument(`--secret ${spec}: id= is required`);
  if (envName !== undefined || fields.get('type') === 'env')
    return { id, env: envName ?? src ?? id };
  return { id, file: path.resolve(cwd, src ?? id) };
}

function labelsOf(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    out[eq < 0 ? v : v.slice(0, eq)] = eq < 0 ? '' : v.slice(eq + 1);
  }
  return out;
}

async function readIgnore(
  dockerfile: string | undefined,
  context: string,
): Promise<string | undefined> {
  for (const file of [
    ...(dockerfile === undefined ? [] : [`${dockerfile}.dockerignore`]),
    path.join(context, '.dockerignore'),
  ]) {
    try {
      return await readFile(file, 'utf8');
    } catch {
      // next
    }
  }
  return undefined;
}

/** `Dockerfile` in the context, or `dockerfile` when only that exists (docker's fallback). */
async function defaultDockerfile(dir: string): Promise<string> {
  const upper = path.join(dir, 'Dockerfile');
  const lower = path.join(dir, 'dockerfile');
  const has = (p: string): Promise<boolean> =>
    stat(p).then(
      () => true,
      () => false,
    );
  if (!(await has(upper)) && (await has(lower))) return lower;
  return upper;
}

/** Defines `build` under `parent`. */
export function defineBuild(
  parent: Command,
  name: string,
  ctx: CliContext,
  globals: () => GlobalOptions,
): void {
  parent
    .command(name)
    .description('build an image from a Dockerfile')
    .argument('<context>', 'the build context directory, or - to read a Dockerfile from stdin')
    .option('-t, --tag <name>', 'name and optionally a tag (name:tag), repeatable', collect, [])
    .option('-f, --file <path>', 'the Dockerfile (default: PATH/Dockerfile; - for stdin)')
    .option('--build-arg <arg>', 'set a build-time variable (NAME=VALUE or NAME)', collect, [])
    .option('--target <stage>', 'build this stage')
    .option('--no-cache', 'do not use the cache when building the image')
    .option('--label <label>', 'set metadata on the image (KEY=VALUE), repeatable', collect, [])
    .option('--network <mode>', 'network of RUN steps: default, host or none', 'default')
    .option('--progress <type>', 'progress output: auto, plain, tty or quiet', 'auto')
    .option('-q, --quiet', 'print only the image ID on success')
    .option('--iidfile <file>', 'write the image ID to the file')
    .option('--secret <spec>', 'secret for RUN --mount=type=secret (id=ID,src=FILE)', collect, [])
    .action(async (contextArg, options) => {
      const root = globals().root;
      let dockerfileText: string;
      let dockerfilePath: string | undefined;
      let context: BuildContextSource;
      if (contextArg === '-') {
        if (options.file !== undefined && options.file !== '-') {
          throw invalidArgument('with a context of -, the Dockerfile comes from stdin; drop -f');
        }
        dockerfileText = await readStream(ctx.stdin as AsyncIterable<Uint8Array>);
        context = { kind: 'none' };
      } else {
        const dir = path.resolve(ctx.cwd, contextArg);
        const st = await stat(dir).catch((err: unknown) => {
          throw notFound(
            `unable to prepare context: path ${JSON.stringify(contextArg)} not found`,
            {
              cause: err,
            },
          );
        });
        if (!st.isDirectory()) {
          throw invalidArgument(`unable to prepare context: ${contextArg} is not a directory`);
        }
        if (options.file === '-') {
          dockerfileText = await readStream(ctx.stdin as AsyncIterable<Uint8Array>);
        } else {
          dockerfilePath =
            options.file === undefined
              ? await defaultDockerfile(dir)
              : path.resolve(ctx.cwd, options.file);
          dockerfileText = await readFile(dockerfilePath, 'utf8').catch((err: unknown) => {
            throw notFound(
              `failed to read dockerfile: open ${dockerfilePath ?? ''}: no such file or directory; pass -f FILE`,
              { cause: err },
            );
          });
        }
        const ignore = await readIgnore(dockerfilePath, dir);
        const matcher =
          ignore === undefined ? undefined : createPatternMatcher(parseDockerignore(ignore));
        context = {
          kind: 'directory',
          path: dir,
          ...(matcher === undefined
            ? {}
            : {
                shouldInclude: (p: string) => !matcher.matchesOrParentMatches(p),
                reincludes: matcher.exclusions,
              }),
        };
      }
      const network = options.network;
      if (network !== 'default' && network !== 'host' && network !== 'none') {
        throw invalidArgument(`--network ${network}: use default, host or none`);
      }
      const progressMode = options.quiet === true ? 'quiet' : options.progress;
      let renderer: ProgressRenderer | undefined;
      if (progressMode === 'plain') renderer = plainProgress(ctx.stderr);
      else if (progressMode === 'tty') renderer = ttyProgress(ctx.stderr);
      else if (progressMode === 'auto') {
        renderer = ctx.stderr.isTTY === true ? ttyProgress(ctx.stderr) : plainProgress(ctx.stderr);
      } else if (progressMode !== 'quiet') {
        throw invalidArgument(`--progress ${progressMode}: use auto, plain, tty or quiet`);
      }
      const epoch = ctx.env.SOURCE_DATE_EPOCH;
      if (epoch !== undefined && epoch !== '' && !/^\d+$/.test(epoch)) {
        throw invalidArgument(`SOURCE_DATE_EPOCH=${epoch}: expected seconds since 1970`);
      }
      const executor = createRunExecutor({
        runtime: createBuiltinRuntime({ root: path.join(root, 'runtime', 'builtin') }),
        bundleRoot: path.join(root, 'buildcache', 'bundles'),
      });
      let result;
      try {
        result = await build({
          root,
          dockerfile: dockerfileText,
          dockerfileName:
            dockerfilePath === undefined ? 'Dockerfile' : path.basename(dockerfilePath),
          context,
          executor,
          tags: options.tag,
          buildArgs: parseBuildArgs(options.buildArg, ctx.env),
          ...(options.target === undefined ? {} : { target: options.target }),
          noCache: !options.cache,
          labels: labelsOf(options.label),
          ...(network === 'default' ? {} : { network }),
          secrets: options.secret.map((s) => parseSecret(s, ctx.cwd)),
          environment: ctx.env,
          ...(epoch === undefined || epoch === '' ? {} : { sourceDateEpoch: Number(epoch) }),
          ...(renderer === undefined
            ? {}
            : {
                onProgress: (e) => {
                  renderer.onEvent(e);
                },
              }),
        });
      } catch (err) {
        renderer?.finish(false);
        ctx.stderr.write(
          formatBuildError(
            err,
            dockerfileText,
            dockerfilePath === undefined ? 'Dockerfile' : path.basename(dockerfilePath),
          ),
        );
        throw new ExitError(1);
      }
      renderer?.finish(true);
      if (options.iidfile !== undefined) {
        await writeFile(path.resolve(ctx.cwd, options.iidfile), result.id);
      }
      if (options.quiet === true) ctx.stdout.write(`${result.id}\n`);
    });
}

/**
 * `lab build` at the top level (`lab image build` is defined by the image group) and the
 * `lab builder` group (`prune`).
 */
export const registerBuild: Register = (program, ctx, globals) => {
  defineBuild(program, 'build', ctx, globals);
  const builder = program.command('builder').description('manage builds');
  defineBuilderPrune(builder, ctx, globals);
};
