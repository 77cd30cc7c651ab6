/**
 * `--format` as docker reads it: `table` (the default table), `json` (one JSON object per
 * line), `table <template>` (a header row plus aligned rows), or a Go-template-like string
 * such as `{{.Repository}}:{{.Tag}}`. The template language is the subset docker users
 * write: `{{.Field}}`, `{{json .}}`, `{{json .Field}}`, `{{upper .F}}`, `{{lower .F}}`,
 * `{{truncate .F 12}}`, `{{join .F ","}}`, `{{println .F}}`; `\t` and `\n` are unescaped.
 */
import { invalidArgument } from '@lab/oci';
import { alignTabs } from './tab-writer.js';

/** A row of a listing: field name → value (`ID`, `Repository`, …). */
export type Row = Readonly<Record<string, unknown>>;

/** What a listing command knows about its own table. */
export interface TableSpec {
  /** The default `table …` template, e.g. `table {{.Repository}}\t{{.Tag}}`. */
  defaultTable: string;
  /** Column header for each field: `ID` → `IMAGE ID`. */
  headers: Readonly<Record<string, string>>;
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; fn: string | undefined; args: Arg[]; source: string };
type Arg = { kind: 'field'; path: string[] } | { kind: 'literal'; value: string | number };

const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/g;

function parseArg(token: string, source: string): Arg {
  if (token === '.') return { kind: 'field', path: [] };
  if (token.startsWith('.')) return { kind: 'field', path: token.slice(1).split('.') };
  if (/^-?\d+$/.test(token)) return { kind: 'literal', value: Number(token) };
  const quoted = /^"((?:[^"\\]|\\.)*)"$/.exec(token) ?? /^`([^`]*)`$/.exec(token);
  if (quoted) return { kind: 'literal', value: JSON.parse(`"${quoted[1] ?? ''}"`) as string };
  throw invalidArgument(`template ${source}: unsupported argument "${token}"`);
}

function tokenize(body: string): string[] {
  return body.match(/"(?:[^"\\]|\\.)*"|`[^`]*`|\S+/g) ?? [];
}

/** Parses a template into text and actions; throws invalid-argument naming the action. */
export function parseTemplate(template: string): Node[] {
  const nodes: Node[] = [];
  let last = 0;
  for (const m of template.matchAll(ACTION)) {
    if (m.index > last) nodes.push({ kind: 'text', text: template.slice(last, m.index) });
    last = m.index + m[0].length;
    const source = m[0];
    const tokens = tokenize(m[1] ?? '');
    const first = tokens[0];
    if (first === undefined) throw invalidArgument(`template ${source}: empty action`);
    if (first.startsWith('.')) {
      if (tokens.length > 1)
        throw invalidArgument(`template ${source}: unexpected "${tokens[1] ?? ''}"`);
      nodes.push({ kind: 'action', fn: undefined, args: [parseArg(first, source)], source });
    } else {
      if (!FUNCTIONS.has(first)) {
        throw invalidArgument(
          `template ${source}: function "${first}" not defined; known: ${[...FUNCTIONS].join(', ')}`,
        );
      }
      nodes.push({
        kind: 'action',
        fn: first,
        args: tokens.slice(1).map((t) => parseArg(t, source)),
        source,
      });
    }
  }
  if (last < template.length) nodes.push({ kind: 'text', text: template.slice(last) });
  if (template.slice(last).includes('{{')) {
    throw invalidArgument(`template "${template}": unclosed action`);
  }
  return nodes;
}

const FUNCTIONS = new Set([
  'json',
  'upper',
  'lower',
  'title',
  'truncate',
  'join',
  'println',
  'print',
]);

function lookup(row: unknown, path: readonly string[], source: string): unknown {
  let value = row;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !(key in value)) {
      throw invalidArgument(`template: executing ${source}: can't evaluate field ${key}`);
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Go's `fmt` `%v` for the values listings hold. */
function show(value: unknown): string {
  if (value === undefined || value === null) return '<no value>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(show).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([k, v]) => `${k}:${show(v)}`).join(' ')}]`;
  }
  return JSON.stringify(value);
}

function evaluate(node: Extract<Node, { kind: 'action' }>, row: unknown): string {
  const values = node.args.map((a) =>
    a.kind === 'field' ? lookup(row, a.path, node.source) : a.value,
  );
  const [first, second] = values;
  switch (node.fn) {
    case undefined:
      return show(first);
    case 'json':
      return JSON.stringify(first ?? null);
    case 'upper':
      return show(first).toUpperCase();
    case 'lower':
      return show(first).toLowerCase();
    case 'title':
      return show(first).replace(/\b\w/g, (c) => c.toUpperCase());
    case 'truncate': {
      const s = Array.from(show(first));
      return s.slice(0, typeof second === 'number' ? second : s.length).join('');
    }
    case 'join':
      return Array.isArray(first) ? first.map(show).join(show(second ?? ' ')) : show(first);
    case 'println':
      return `${values.map(show).join(' ')}\n`;
    case 'print':
      return values.map(show).join('');
    default:
      throw invalidArgument(`template ${node.source}: function "${node.fn}" not defined`);
  }
}

/** Executes a parsed template against one row. */
export function executeTemplate(nodes: readonly Node[], row: unknown): string {
  return nodes.map((n) => (n.kind === 'text' ? n.text : evaluate(n, row))).join('');
}

/** The header row of a `table` template: each `.Field` replaced by its column header. */
function headerRow(nodes: readonly Node[], headers: Readonly<Record<string, string>>): string {
  return nodes
    .map((n) => {
      if (n.kind === 'text') return n.text;
      const arg = n.args[0];
      if (arg?.kind !== 'field') return '';
      const name = arg.path.join('.');
      return headers[name] ?? name.toUpperCase();
    })
    .join('');
}

function unescape(format: string): string {
  return format.replaceAll('\\t', '\t').replaceAll('\\n', '\n');
}

/**
 * Renders rows the way docker's `--format` does. `undefined` or `table` gives the default
 * table; `json` one compact JSON object per line; `table TEMPLATE` a header and aligned rows;
 * anything else is a template executed once per row, each followed by a newline.
 */
export function renderRows(
  format: string | undefined,
  rows: readonly Row[],
  spec: TableSpec,
): string {
  const f =
    format === undefined || format === '' || format === 'table' ? spec.defaultTable : format;
  if (f === 'json') return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  if (f.startsWith('table')) {
    const nodes = parseTemplate(unescape(f.slice('table'.length).trim()));
    const lines = [headerRow(nodes, spec.headers), ...rows.map((r) => executeTemplate(nodes, r))];
    return alignTabs(lines.map((l) => `${l}\n`).join(''));
  }
  const nodes = parseTemplate(unescape(f));
  return rows.map((r) => `${executeTemplate(nodes, r)}\n`).join('');
}
