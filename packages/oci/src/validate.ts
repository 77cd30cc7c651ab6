/**
 * The boundary between untrusted JSON and typed values: decode bytes, parse JSON with a
 * line:column on syntax errors, validate with a zod schema, and turn the first problem into
 * an `invalid-argument` LabError that names the field path (`manifest.layers[2].digest: …`).
 */
import type { z } from 'zod';
import { invalidArgument } from './errors.js';

/** What the `parseX` functions accept: JSON text, its UTF-8 bytes, or an already-parsed value. */
export type JsonInput = string | Uint8Array | object;

/** One validation problem, with its path in the document. */
export interface ValidationIssue {
  /** The field path, e.g. `manifest.layers[2].digest`. */
  path: string;
  /** What is wrong there. */
  message: string;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Formats a path as JavaScript-ish accessors: `root.a[2]["80/tcp"]`. */
export function formatFieldPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

function lineColumn(text: string, position: number): string {
  let line = 1;
  let column = 1;
  for (let i = 0; i < position && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      column = 1;
    } else column++;
  }
  return `${line}:${column}`;
}

/**
 * The offset of the first syntax error in `text` (a small recursive-descent scan used only
 * after JSON.parse failed, because V8 does not always say where: "Unexpected token '}'").
 */
class SyntaxErrorAt extends Error {
  constructor(readonly offset: number) {
    super(`JSON syntax error at offset ${offset}`);
  }
}

function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw new SyntaxErrorAt(i);
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = (): void => {
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return;
        } else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else fail();
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else {
      const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
      if (m === null) fail();
      i += m![0].length;
    }
  };
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (err) {
    if (err instanceof SyntaxErrorAt) return err.offset;
    throw err;
  }
}

/**
 * Parses JSON text (or UTF-8 bytes) and throws invalid-argument with `source:line:column`
 * on a syntax error. A non-string, non-bytes value is returned as it is.
 */
export function decodeJson(input: JsonInput, source = '<input>'): unknown {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) return input;
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8').decode(input);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const reported = /position (\d+)/.exec(message)?.[1];
    const position = reported === undefined ? jsonErrorOffset(text) : Number(reported);
    const where = position < 0 ? source : `${source}:${lineColumn(text, position)}`;
    // V8 quotes the whole input in some messages; keep only the reason.
    const reason = message
      .replace(/, ".*" is not valid JSON$/s, '')
      .replace(/ in JSON at position \d+.*$/s, '');
    throw invalidArgument(`${where}: not valid JSON (${reason}); fix the file or re-create it`, {
      cause: err,
      details: { source },
    });
  }
}

/** Friendlier wording for zod's generic messages (schema-specific messages take precedence). */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return `required field is missing (expected ${issue.expected})`;
    const got =
      issue.input === null ? 'null' : Array.isArray(issue.input) ? 'array' : typeof issue.input;
    return `expected ${issue.expected}, got ${got}`;
  }
  return undefined;
}

/** The issues of a failed zod parse, with formatted paths under `root`. */
export function zodIssues(error: z.ZodError, root: string): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: formatFieldPath(root, issue.path),
    message: issue.message,
  }));
}

/**
 * Validates `input` with `schema`; throws invalid-argument naming the first problem's field
 * path (and how many more there are). `root` names the document (`manifest`, `config`…);
 * `source` (a file name, a URL) is prefixed to the message when given.
 */
export function parseWithSchema<S extends z.ZodType>(
  schema: S,
  input: JsonInput,
  root: string,
  source?: string,
): z.output<S> {
  const value = decodeJson(input, source ?? root);
  const result = schema.safeParse(value, { error: describeIssue });
  if (result.success) return result.data;
  const issues = zodIssues(result.error, root);
  const first = issues[0]!;
  const more =
    issues.length > 1
      ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})`
      : '';
  const prefix = source === undefined ? '' : `${source}: `;
  throw invalidArgument(`${prefix}${first.path}: ${first.message}${more}`, {
    cause: result.error,
    details: { source, issues },
  });
}
