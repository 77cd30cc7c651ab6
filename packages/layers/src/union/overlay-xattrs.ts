import { spawn } from 'node:child_process';
import path from 'node:path';
import { internal, invalidArgument } from '@lab/oci';

/** The `trusted.overlay.*` attributes of one overlay-format layer directory that matter to readers. */
export interface OverlayMarks {
  /** Relative paths (`a/b`, `` for the root) of directories with `trusted.overlay.opaque=y`. */
  opaque: Set<string>;
  /** Relative paths of files marked `trusted.overlay.whiteout` (newer kernels' xattr whiteouts). */
  whiteouts: Set<string>;
}

/** Decodes getfattr's escapes in a file name (`\ooo` octal bytes, `\\`); `text` holds raw bytes as latin1. */
function unescapeName(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const octal = text[i] === '\\' ? /^[0-7]{3}/.exec(text.slice(i + 1, i + 4)) : null;
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += 3;
    } else if (text[i] === '\\' && text[i + 1] === '\\') {
      bytes.push(0x5c);
      i += 1;
    } else {
      bytes.push(text.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Reads every `trusted.overlay.*` attribute under `layer` in one getfattr(1) run (Node has no
 * xattr API). Throws invalid-argument for redirect or metacopy attributes: such a layer only
 * makes sense to the kernel that wrote it, and reading its files alone would be wrong.
 */
export async function readOverlayMarks(layer: string): Promise<OverlayMarks> {
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      'getfattr',
      [
        '-R',
        '-P',
        '-h',
        '--absolute-names',
        '-d',
        '-e',
        'text',
        '-m',
        '^trusted\\.overlay\\.',
        layer,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      reject(
        internal(
          `could not run getfattr to read overlay attributes of ${layer}: ${e.message}; install the attr package`,
          {
            cause: e,
          },
        ),
      );
    });
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('latin1'));
      else {
        reject(
          internal(
            `getfattr failed on layer ${layer} (exit ${String(code)}): ${Buffer.concat(err).toString('utf8').trim()}`,
            { details: { layer } },
          ),
        );
      }
    });
  });
  const marks: OverlayMarks = { opaque: new Set(), whiteouts: new Set() };
  let current: string | undefined;
  for (const line of output.split('\n')) {
    if (line.startsWith('# file: ')) {
      const file = unescapeName(line.slice('# file: '.length));
      current = path.relative(layer, file);
      continue;
    }
    const match = /^trusted\.overlay\.([a-z_]+)(?:="(.*)")?$/.exec(line);
    if (!match || current === undefined) continue;
    const [, name, value] = match;
    if (name === 'opaque' && value === 'y') marks.opaque.add(current);
    else if (name === 'whiteout') marks.whiteouts.add(current);
    else if (name === 'redirect' || name === 'metacopy') {
      throw invalidArgument(
        `layer ${layer} has trusted.overlay.${name} on "${current}": it was written by overlayfs with ${name === 'redirect' ? 'redirect_dir' : 'metacopy'} on and cannot be read as a plain layer; mount it with those features off`,
        { details: { layer, path: current, attribute: `trusted.overlay.${name}` } },
      );
    }
  }
  return marks;
}
