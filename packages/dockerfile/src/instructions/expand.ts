/**
 * Which parts of an instruction BuildKit expands with the build environment
 * (`instructions/commands.go` `Expand` methods): ENV and LABEL keys and values, COPY/ADD
 * sources, destination, `--chown`, `--chmod`, ADD `--checksum`, heredoc sources (raw mode),
 * WORKDIR, USER, VOLUME, STOPSIGNAL, RUN `--mount` values. EXPOSE is expanded with word
 * splitting by the builder; ARG defaults when the ARG is dispatched; FROM with the global
 * args only. RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK/ONBUILD/MAINTAINER and COPY `--from`
 * are never expanded.
 */
import { parseMount } from './mount.js';
import type { Command, InlineFile, KeyValuePair, RunMount } from './types.js';

/** Expands one word; throws on a bad substitution. */
export type WordExpander = (word: string) => string;

/** The expanders one instruction uses. */
export interface Expanders {
  /** Normal expansion (quotes removed, escapes processed). */
  readonly word: WordExpander;
  /**
   * Raw expansion of COPY/ADD heredoc bodies (quotes kept, backslashes consumed); defaults
   * to `word`.
   */
  readonly raw?: WordExpander;
}

function kvps(pairs: readonly KeyValuePair[], expand: WordExpander): KeyValuePair[] {
  return pairs.map((p) => ({ key: expand(p.key), value: expand(p.value), noDelim: p.noDelim }));
}

function contents(files: readonly InlineFile[], raw: WordExpander): InlineFile[] {
  return files.map((f) => (f.expand ? { ...f, data: raw(f.data) } : f));
}

/**
 * Returns `cmd` with BuildKit's single-word expansion applied to the fields it expands, in
 * BuildKit's order. Instructions that expand nothing are returned unchanged.
 */
export function expandCommand(cmd: Command, expanders: Expanders): Command {
  const w = expanders.word;
  const raw = expanders.raw ?? w;
  const opt = (v: string | undefined): { [k: string]: string } | undefined =>
    v === undefined ? undefined : { v: w(v) };
  switch (cmd.kind) {
    case 'env':
      return { ...cmd, env: kvps(cmd.env, w) };
    case 'label':
      return { ...cmd, labels: kvps(cmd.labels, w) };
    case 'workdir':
      return { ...cmd, path: w(cmd.path) };
    case 'user':
      return { ...cmd, user: w(cmd.user) };
    case 'volume':
      return { ...cmd, volumes: cmd.volumes.map(w) };
    case 'stopsignal':
      return { ...cmd, signal: w(cmd.signal) };
    case 'copy':
    case 'add': {
      const chown = opt(cmd.chown);
      const chmod = opt(cmd.chmod);
      const checksum = cmd.kind === 'add' ? opt(cmd.checksum) : undefined;
      const sources = cmd.sources.map(w);
      const dest = w(cmd.dest);
      const sourceContents = contents(cmd.sourceContents, raw);
      return {
        ...cmd,
        ...(chown === undefined ? {} : { chown: chown.v }),
        ...(chmod === undefined ? {} : { chmod: chmod.v }),
        ...(checksum === undefined ? {} : { checksum: checksum.v }),
        sources,
        dest,
        sourceContents,
      };
    }
    case 'run': {
      const mounts: RunMount[] = cmd.mountSpecs.map((spec) => parseMount(spec, w));
      return { ...cmd, mounts };
    }
    default:
      return cmd;
  }
}
