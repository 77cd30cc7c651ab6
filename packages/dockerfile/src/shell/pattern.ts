/**
 * The glob patterns of `${v#p}`, `${v%p}` and `${v/p/r}` (BuildKit `shell/lex.go`
 * convertShellPatternToRegex, reversePattern, trimPrefix, trimSuffix): `*` any run, `?` one
 * character, `\*` `\?` `\\` literals, `\}` and `\/` stand for `}` and `/`; no bracket
 * expressions.
 */
import { ShellError } from './error.js';

/** A compiled pattern: the RE2 source BuildKit builds, and the equivalent JavaScript RegExp. */
export interface ShellPattern {
  /** The regular-expression source as BuildKit writes it (valid RE2 and JavaScript). */
  readonly source: string;
  /** A RegExp with Go's semantics (`.` matches anything but `\n`, code-point based). */
  readonly regexp: RegExp;
}

const REGEX_SPECIAL = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

/**
 * Converts a shell glob to a regular expression. `greedy` picks `.*` over `.*?` for `*`;
 * `anchored` prefixes `^`. Throws for a backslash escape of anything but `*`, `?`, `\`,
 * `}`, `/` (and for a trailing backslash).
 */
export function shellPatternToRegex(
  pattern: string,
  greedy: boolean,
  anchored: boolean,
): ShellPattern {
  const chars = Array.from(pattern);
  let source = anchored ? '^' : '';
  // JavaScript's `.` also refuses \r, U+2028 and U+2029; Go's only refuses \n.
  let js = source;
  const star = greedy ? '.*' : '.*?';
  const jsStar = greedy ? '[^\\n]*' : '[^\\n]*?';
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i]!;
    if (ch === '*') {
      source += star;
      js += jsStar;
      continue;
    }
    if (ch === '?') {
      source += '.';
      js += '[^\\n]';
      continue;
    }
    if (ch === '\\') {
      const next = chars[i + 1];
      if (next === '}' || next === '/') continue;
      i++;
      if (next !== '*' && next !== '?' && next !== '\\') {
        // Go prints EOF (-1) as the replacement character.
        throw new ShellError(`invalid escape '\\${next ?? '\uFFFD'}'`);
      }
      ch = next;
      source += `\\${ch}`;
      js += `\\${ch}`;
      continue;
    }
    if (REGEX_SPECIAL.has(ch)) {
      source += `\\${ch}`;
      js += `\\${ch}`;
      continue;
    }
    source += ch;
    js += ch;
  }
  return { source, regexp: new RegExp(js, 'gu') };
}

/**
 * Reverses a pattern for suffix matching: code points are reversed but a backslash stays in
 * front of the character it escapes (`a\*c` → `c\*a`).
 */
export function reversePattern(pattern: string): string {
  const runes = Array.from(pattern);
  const out: string[] = new Array<string>(runes.length).fill('');
  const last = runes.length - 1;
  for (let i = 0; i <= last;) {
    const tok = runes[i]!;
    const outIdx = last - i;
    if (tok === '\\' && i !== last) {
      out[outIdx - 1] = tok;
      out[outIdx] = runes[i + 1]!;
      i += 2;
    } else {
      out[outIdx] = tok;
      i++;
    }
  }
  return out.join('');
}

function reverseString(s: string): string {
  return Array.from(s).reverse().join('');
}

function compile(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  try {
    return shellPatternToRegex(pattern, greedy, anchored).regexp;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ShellError(`invalid pattern (${pattern}) in substitution: ${reason}`);
  }
}

function firstMatch(re: RegExp, value: string, from = 0): RegExpExecArray | null {
  re.lastIndex = from;
  return re.exec(value);
}

/** `${v#p}` / `${v##p}`: removes the shortest (or with `greedy` the longest) matching prefix. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = firstMatch(compile(pattern, greedy, true), value);
  return m === null ? value : value.slice(m.index + m[0].length);
}

/** `${v%p}` / `${v%%p}`: removes the shortest (or longest) matching suffix. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/**
 * Go's regexp template expansion for a pattern without capture groups: `$$` is `$`, `$0`
 * (or `${0}`) the whole match, any other `$name` / `${name}` is empty, a malformed `$`
 * stays literal.
 */
function expandTemplate(template: string, match: string): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) break;
    out += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === '$') {
      out += '$';
      i++;
      continue;
    }
    const braced = template[i] === '{';
    const m = /^[\p{L}\p{Nd}_]+/u.exec(template.slice(braced ? i + 1 : i));
    const name = m?.[0] ?? '';
    const closes = !braced || template[i + 1 + name.length] === '}';
    if (name === '' || !closes) {
      out += '$';
      continue;
    }
    i += braced ? name.length + 2 : name.length;
    if (/^\d+$/.test(name) && Number(name) === 0) out += match;
  }
  return out + template.slice(i);
}

/**
 * `${v/p/r}` (first match, `r` literal) and `${v//p/r}` (every non-overlapping match, `r`
 * through Go's template expansion; empty matches next to a previous match are skipped).
 */
export function replacePattern(
  pattern: string,
  replacement: string,
  value: string,
  all: boolean,
): string {
  const re = compile(pattern, true, false);
  if (!all) {
    const m = firstMatch(re, value);
    if (m === null) return value;
    return value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length);
  }
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= value.length) {
    const m = firstMatch(re, value, searchPos);
    if (m === null) break;
    const start = m.index;
    const end = start + m[0].length;
    out += value.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expandTemplate(replacement, m[0]);
    lastMatchEnd = end;
    const cp = value.codePointAt(searchPos);
    const width = cp !== undefined && cp > 0xffff ? 2 : 1;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + value.slice(lastMatchEnd);
}
