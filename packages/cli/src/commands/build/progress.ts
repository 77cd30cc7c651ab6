/**
 * Build progress as BuildKit's client prints it: `plain` — `#N name`, `#N 0.123 output`,
 * `#N CACHED`, `#N DONE 0.3s`, `#N ERROR: …`, a blank line between vertices; `tty` — one
 * ` => [k/m] STEP  0.3s` line per finished step and a `[+] Building …` summary.
 */
import type { Writable } from 'node:stream';
import type { BuildProgressEvent } from '@lab/dockerfile/builder';

/** Renders events to `out`; `finish` prints the closing summary (tty). */
export interface ProgressRenderer {
  onEvent(event: BuildProgressEvent): void;
  finish(ok: boolean): void;
}

/** `plain`: every event as a line, the way `--progress=plain` shows them. */
export function plainProgress(out: Writable): ProgressRenderer {
  const started = new Map<number, number>();
  const partial = new Map<number, string>();
  const flush = (id: number): void => {
    const rest = partial.get(id);
    if (rest !== undefined && rest !== '') {
      out.write(`#${String(id)} ${elapsed(id)} ${rest}\n`);
    }
    partial.delete(id);
  };
  const elapsed = (id: number): string =>
    ((Date.now() - (started.get(id) ?? Date.now())) / 1000).toFixed(3);
  return {
    onEvent(e) {
      switch (e.type) {
        case 'start':
          started.set(e.id, Date.now());
          out.write(`#${String(e.id)} ${e.name}\n`);
          return;
        case 'log': {
          const lines = ((partial.get(e.id) ?? '') + e.text).split('\n');
          partial.set(e.id, lines.pop() ?? '');
          for (const l of lines) out.write(`#${String(e.id)} ${elapsed(e.id)} ${l}\n`);
          return;
        }
        case 'cached':
          flush(e.id);
          out.write(`#${String(e.id)} CACHED\n\n`);
          return;
        case 'done':
          flush(e.id);
          out.write(`#${String(e.id)} DONE ${e.seconds.toFixed(1)}s\n\n`);
          return;
        case 'error':
          flush(e.id);
          out.write(`#${String(e.id)} ERROR: ${e.message}\n\n`);
          return;
      }
    },
    finish() {
      // plain output is complete as it goes
    },
  };
}

/** `tty`: a compact line per finished step and BuildKit's summary line. */
export function ttyProgress(out: Writable): ProgressRenderer {
  const names = new Map<number, string>();
  const t0 = Date.now();
  let total = 0;
  let finished = 0;
  return {
    onEvent(e) {
      switch (e.type) {
        case 'start':
          names.set(e.id, e.name);
          total++;
          return;
        case 'log':
          return;
        case 'cached':
          finished++;
          out.write(` => CACHED ${names.get(e.id) ?? ''}\n`);
          return;
        case 'done':
          finished++;
          out.write(` => ${names.get(e.id) ?? ''}  ${e.seconds.toFixed(1)}s\n`);
          return;
        case 'error':
          finished++;
          out.write(` => ERROR ${names.get(e.id) ?? ''}  ${e.seconds.toFixed(1)}s\n`);
          return;
      }
    },
    finish(ok) {
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      out.write(
        `[+] Building ${secs}s (${String(finished)}/${String(total)}) ${ok ? 'FINISHED' : 'ERROR'}\n`,
      );
    },
  };
}
