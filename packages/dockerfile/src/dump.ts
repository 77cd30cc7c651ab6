/**
 * BuildKit's AST dump (`parser.Node.Dump`): the s-expression text its parser tests
 * compare against, e.g. `(copy ["--from=a"] "x" "/y")`. Byte-exact, including Go's
 * `strconv.Quote` escaping and `strings.ToLower` keyword case.
 */

import type { InstructionNode, ParseResult } from './ast.js';
import { goTrimSpace } from './parser/whitespace.js';

const rePrintable = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Go's `strconv.Quote`: a double-quoted string with Go escapes for non-printable characters. */
export function goQuote(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) return '"' + s + '"';
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < s.length) {
      const low = s.charCodeAt(i + 1);
      if (low >= 0xdc00 && low < 0xe000) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd; // lone surrogate: encodes as U+FFFD
    if (cp === 0x22) {
      out += '\\"';
    } else if (cp === 0x5c) {
      out += '\\\\';
    } else if (cp >= 0x20 && cp < 0x7f) {
      out += String.fromCharCode(cp);
    } else if (cp >= 0x80 && rePrintable.test(String.fromCodePoint(cp))) {
      out += String.fromCodePoint(cp);
    } else {
      switch (cp) {
        case 0x07:
          out += '\\a';
          break;
        case 0x08:
          out += '\\b';
          break;
        case 0x0c:
          out += '\\f';
          break;
        case 0x0a:
          out += '\\n';
          break;
        case 0x0d:
          out += '\\r';
          break;
        case 0x09:
          out += '\\t';
          break;
        case 0x0b:
          out += '\\v';
          break;
        default:
          if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2);
          else if (cp < 0x10000) out += '\\u' + hex(cp, 4);
          else out += '\\U' + hex(cp, 8);
      }
    }
  }
  return out + '"';
}

/** Go's `strings.ToLower` (per character; no context-sensitive final sigma). */
export function goToLower(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s.toLowerCase();
  let out = '';
  for (const ch of s) {
    if (ch === '\u0130') {
      out += 'i';
      continue;
    }
    const lower = ch.toLowerCase();
    // Go maps one character to one character; keep it when the JS mapping expands.
    out += lower.length === ch.length ? lower : ch;
  }
  return out;
}

/** The dump of one instruction, without the surrounding parentheses. */
export function dumpInstruction(node: InstructionNode): string {
  let str = node.keyword;
  if (node.flags.length > 0) {
    str += ' [' + node.flags.map(goQuote).join(' ') + ']';
  }
  if (node.onbuild !== undefined) {
    // The ONBUILD container node: empty value, the trigger as its only child.
    str += ' ' + goTrimSpace('(' + dumpInstruction(node.onbuild) + ')\n');
  }
  for (const arg of node.args) str += ' ' + goQuote(arg.value);
  return goTrimSpace(str);
}

/**
 * BuildKit's dump of a whole parse result: one `(instruction …)` per line, no trailing
 * newline (upstream's `result` test files are this plus `\n`).
 */
export function dump(result: ParseResult): string {
  let str = '';
  for (const node of result.instructions) str += '(' + dumpInstruction(node) + ')\n';
  return goTrimSpace(str);
}
