import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from '@commander-js/extra-typings';
import { dump, isDockerfileParseError, parse, type ParseResult } from '@lab/dockerfile';
import { invalidArgument, notFound } from '@lab/oci';
import type { CliContext } from '../../context.js';
import { ExitError } from '../../errors.js';

/** Reads a whole stream as bytes. */
async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks);
}

/** Reads FILE (relative to the context's cwd) or standard input for `-`. */
export async function readDockerfile(
  file: string,
  ctx: CliContext,
): Promise<{ name: string; text: string }> {
  if (file === '-') {
    const bytes = await readAll(ctx.stdin);
    return { name: '<stdin>', text: new TextDecoder('utf-8').decode(bytes) };
  }
  const full = path.resolve(ctx.cwd, file);
  try {
    const bytes = await readFile(full);
    return { name: file, text: new TextDecoder('utf-8').decode(bytes) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw notFound(
        `${file}: no such file; pass the path of a Dockerfile, or - for standard input`,
        {
          cause: err,
          details: { path: full },
        },
      );
    }
    if (code === 'EISDIR') {
      throw invalidArgument(
        `${file} is a directory; pass the Dockerfile inside it (e.g. ${path.join(file, 'Dockerfile')})`,
        {
          details: { path: full },
        },
      );
    }
    throw err;
  }
}

/** Parses, printing `NAME:LINE:COL: message` and exiting 1 on a Dockerfile syntax error. */
export function parseOrReport(name: string, text: string, ctx: CliContext): ParseResult {
  try {
    return parse(text);
  } catch (err) {
    if (isDockerfileParseError(err)) {
      ctx.stderr.write(`${name}:${String(err.line)}:${String(err.column)}: ${err.message}\n`);
      throw new ExitError(1);
    }
    throw err;
  }
}

/** `lab dockerfile parse [--dump | --json] FILE|-` */
export function registerParse(group: Command, ctx: CliContext): void {
  group
    .command('parse')
    .description("parse a Dockerfile with BuildKit's rules and print its syntax tree")
    .argument('<file>', 'the Dockerfile, or - for standard input')
    .addOption(
      new Option('--dump', "print BuildKit's s-expression dump (default)").conflicts('json'),
    )
    .addOption(
      new Option('--json', 'print the syntax tree with source positions as JSON').conflicts('dump'),
    )
    .action(async (file, options) => {
      const { name, text } = await readDockerfile(file, ctx);
      const result = parseOrReport(name, text, ctx);
      for (const w of result.warnings) {
        ctx.stderr.write(
          `${name}:${String(w.range.start.line)}:${String(w.range.start.column)}: warning: ${w.message}\n`,
        );
      }
      if (options.json === true) {
        ctx.stdout.write(JSON.stringify(result, null, 2) + '\n');
      } else {
        ctx.stdout.write(dump(result) + '\n');
      }
    });
}
