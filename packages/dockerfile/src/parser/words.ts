import { isGoSpace } from './whitespace.js';

/** A word of {@link splitWords}, with its offsets in the input. */
export interface Word {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

const IN_SPACES = 0;
const IN_WORD = 1;
const IN_QUOTE = 2;

/**
 * BuildKit's `parseWords` (ENV/LABEL name=value form, ARG): splits on Go whitespace,
 * keeps quotes and escape characters in the words (they are removed later, during
 * expansion). `escape` is the active escape character's code.
 */
export function splitWords(s: string, from: number, to: number, escape: number): Word[] {
  const words: Word[] = [];
  let phase = IN_SPACES;
  let quote = 0;
  let wordStart = from;
  // Words are contiguous slices of the input except that an escape character at the
  // very end of the text is dropped, so each word is a slice [wordStart, wordEnd).
  let wordEnd = from;
  for (let pos = from; pos <= to; pos++) {
    if (phase === IN_SPACES) {
      if (pos === to) break;
      if (isGoSpace(s.charCodeAt(pos))) continue;
      phase = IN_WORD;
      wordStart = pos;
    }
    if (pos === to) {
      if (wordEnd > wordStart)
        words.push({ text: s.slice(wordStart, wordEnd), start: wordStart, end: wordEnd });
      break;
    }
    const ch = s.charCodeAt(pos);
    if (phase === IN_WORD) {
      if (isGoSpace(ch)) {
        phase = IN_SPACES;
        if (wordEnd > wordStart)
          words.push({ text: s.slice(wordStart, wordEnd), start: wordStart, end: wordEnd });
        continue;
      }
      if (ch === 0x27 || ch === 0x22) {
        quote = ch;
        phase = IN_QUOTE;
      } else if (ch === escape) {
        if (pos + 1 === to) continue; // an escape at the very end is dropped
        pos++; // the escape and the next character are both kept
      }
      wordEnd = pos + 1;
      continue;
    }
    // IN_QUOTE
    if (ch === quote) {
      phase = IN_WORD;
    } else if (ch === escape && quote !== 0x27) {
      if (pos + 1 === to) {
        phase = IN_WORD;
        continue;
      }
      pos++;
    }
    wordEnd = pos + 1;
  }
  return words;
}
