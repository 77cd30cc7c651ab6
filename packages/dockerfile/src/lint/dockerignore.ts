/**
 * `.dockerignore` files as BuildKit reads and matches them (moby/patternmatcher
 * `ignorefile.ReadAll` and `PatternMatcher.MatchesOrParentMatches`): `*` and `?` stay within
 * a path segment, `**` spans segments, a pattern also matches everything below a matching
 * directory, `!` re-includes, the last matching pattern decides.
 */

/** Go's `path.Clean` (what `filepath.Clean` does on Linux). */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

function goTrimSpace(s: string): string {
  return s.replace(/^[\s\u0085]+|[\s\u0085]+$/gu, '');
}

/**
 * The patterns of a `.dockerignore` text (`ignorefile.ReadAll`): a UTF-8 BOM is dropped,
 * lines starting with `#` are comments, lines are trimmed, empty ones skipped, a leading `!`
 * marks an exception, paths are cleaned and one leading `/` removed.
 */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('#')) continue;
    let pattern = goTrimSpace(line);
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = goTrimSpace(pattern.slice(1));
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

interface Pattern {
  readonly cleaned: string;
  readonly exclusion: boolean;
  readonly type: MatchType;
  readonly regexp?: RegExp;
}

/** Whether Go's `filepath.Match` would call `pattern` malformed (ErrBadPattern). */
function isBadGlob(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      if (i + 1 >= pattern.length) return true;
      i++;
    } else if (ch === '[') {
      i++;
      if (pattern[i] === '^') i++;
      let n = 0;
      for (;;) {
        if (i >= pattern.length) return true;
        if (pattern[i] === ']' && n > 0) break;
        const lo = escChar(pattern, i);
        if (lo === undefined) return true;
        i = lo;
        if (pattern[i] === '-') {
          const hi = escChar(pattern, i + 1);
          if (hi === undefined) return true;
          i = hi;
        }
        n++;
      }
    }
  }
  return false;
}

/** Index after one class character (with its escape), or undefined when malformed. */
function escChar(pattern: string, i: number): number | undefined {
  const ch = pattern[i];
  if (ch === undefined || ch === '-' || ch === ']') return undefined;
  if (ch === '\\') return i + 1 < pattern.length ? i + 2 : undefined;
  return i + 1;
}

const ESCAPE = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

function compile(cleaned: string): { type: MatchType; regexp?: RegExp } {
  let re = '^';
  let type: MatchType = 'exact';
  const chars = Array.from(cleaned);
  for (let i = 0, n = 0; i < chars.length; i++, n++) {
    const ch = chars[i]!;
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++;
        if (i + 1 >= chars.length) {
          if (type === 'exact') type = 'prefix';
          else {
            re += '[^\\n]*';
            type = 'regexp';
          }
        } else {
          re += '([^\\n]*/)?';
          type = 'regexp';
        }
        if (n === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (ESCAPE.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === '\\') {
      const next = chars[i + 1];
      if (next !== undefined) {
        i++;
        re += /[A-Za-z0-9]/.test(next) ? next : `\\${next}`;
        type = 'regexp';
      } else {
        re += '\\\\';
      }
    } else if (ch === '[' || ch === ']') {
      re += ch;
      type = 'regexp';
    } else {
      re += ch;
    }
  }
  if (type !== 'regexp') return { type };
  // Go's `.` never matches a newline; `[^\n]` keeps that in JavaScript.
  return { type, regexp: new RegExp(`${re}$`) };
}

function matchPattern(p: Pattern, path: string): boolean {
  switch (p.type) {
    case 'exact':
      return path === p.cleaned;
    case 'prefix':
      return path.startsWith(p.cleaned.slice(0, -2));
    case 'suffix': {
      const suffix = p.cleaned.slice(2);
      if (path.endsWith(suffix)) return true;
      return suffix.startsWith('/') && path === suffix.slice(1);
    }
    case 'regexp':
      return p.regexp!.test(path);
  }
}

/** Matches slash-separated context paths against `.dockerignore` patterns. */
export interface PatternMatcher {
  /** Whether some pattern is an exception (`!…`). */
  readonly exclusions: boolean;
  /** True when `path` or one of its parent directories is excluded (and not re-included). */
  matchesOrParentMatches(path: string): boolean;
}

/**
 * Compiles patterns (as {@link parseDockerignore} returns them). Throws BuildKit's error for
 * a lone `!` (`illegal exclusion pattern: "!"`) or a malformed glob (`syntax error in
 * pattern`).
 */
export function createPatternMatcher(patterns: readonly string[]): PatternMatcher {
  const compiled: Pattern[] = [];
  let exclusions = false;
  for (const raw of patterns) {
    let p = goTrimSpace(raw);
    if (p === '') continue;
    p = cleanPath(p);
    let exclusion = false;
    if (p.startsWith('!')) {
      if (p.length === 1) throw new Error('illegal exclusion pattern: "!"');
      exclusion = true;
      exclusions = true;
      p = p.slice(1);
    }
    if (isBadGlob(p)) throw new Error('syntax error in pattern');
    compiled.push({ cleaned: p, exclusion, ...compile(p) });
  }
  return {
    exclusions,
    matchesOrParentMatches(file: string): boolean {
      let matched = false;
      const slash = file.lastIndexOf('/');
      const parentPath = slash < 0 ? '.' : cleanPath(file.slice(0, slash) || '/');
      const parentDirs = parentPath.split('/');
      for (const pattern of compiled) {
        if (pattern.exclusion !== matched) continue;
        let match = matchPattern(pattern, file);
        if (!match && parentPath !== '.') {
          for (let i = 0; i < parentDirs.length; i++) {
            if (matchPattern(pattern, parentDirs.slice(0, i + 1).join('/'))) {
              match = true;
              break;
            }
          }
        }
        if (match) matched = !pattern.exclusion;
      }
      return matched;
    },
  };
}
