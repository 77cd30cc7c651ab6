/**
 * COPY and ADD as build steps (BuildKit `dispatchCopy`): sources from the context, a stage, an
 * image, heredocs or (ADD) an http(s) URL; a cache key from the parent, the expanded
 * instruction and the sources' content; a layer from the copy; BuildKit's history text
 * (`COPY --chown=1:1 a.txt b/ /dst/ # buildkit`).
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, utimes, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { invalidArgument, unavailable } from '@lab/oci';
import { chompHeredocContent } from '../parser/heredoc.js';
import { createPatternMatcher } from '../lint/dockerignore.js';
import type { AddInstruction, CopyInstruction } from '../instructions/types.js';
import { cacheKey } from './cache.js';
import { failureReason } from './step-error.js';
import { copyInto, type CopyItem, type CopySettings } from './copy.js';
import type { BuildSession, StageState } from './session.js';
import { awaitSources, withSource, type MountedSource } from './sources.js';
import { cleanSourcePath, hashSourcePath, matchSources, type SourceTree } from './source-tree.js';
import { parseChmod, resolveOwner } from './users.js';
import { commitStep, displayText, stepName, workdirOf } from './steps.js';

const ALL = (): boolean => true;

function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

function isGitSource(s: string): boolean {
  return /^git@|^git:\/\/|^(?:https?|ssh):\/\/\S+\.git(?:#.*)?$/.test(s);
}

/** `dest` made absolute against the working directory, keeping a trailing `/` (BuildKit's rule). */
export function copyDestination(dest: string, workdir: string): string {
  const dirSyntax = dest === '.' || dest === '' || dest.endsWith('/') || dest.endsWith('/.');
  const joined = dest.startsWith('/') ? path.posix.normalize(dest) : path.posix.join(workdir, dest);
  const clean = joined === '/' ? '/' : joined.replace(/\/+$/, '');
  return dirSyntax && clean !== '/' ? `${clean}/` : clean;
}

async function download(url: string, dir: string, signal?: AbortSignal): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, signal === undefined ? {} : { signal });
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw unavailable(
      `failed to download ${url}: ${cause}; check the URL and that this machine can reach it`,
      { cause: err },
    );
  }
  if (!response.ok) {
    throw unavailable(
      `failed to download ${url}: the server answered ${String(response.status)} ${response.statusText}`,
    );
  }
  const base = path.posix.basename(new URL(url).pathname);
  const name = base === '' || base === '/' || base === '.' ? '__unnamed__' : base;
  const file = path.join(dir, name);
  await writeFile(file, Buffer.from(await response.arrayBuffer()), { mode: 0o600 });
  const modified = response.headers.get('last-modified');
  if (modified !== null && !Number.isNaN(Date.parse(modified))) {
    const t = new Date(modified);
    await utimes(file, t, t);
  }
  return name;
}

/** History text: `COPY [--parents] [--chown=…] [--chmod=…] src… [<<EOF…] dest`. */
function commitMessage(cmd: CopyInstruction | AddInstruction): string {
  const parts = [cmd.kind === 'add' ? 'ADD' : 'COPY'];
  if (cmd.kind === 'copy' && cmd.parents) parts.push('--parents');
  if (cmd.chown !== undefined && cmd.chown !== '') parts.push(`--chown=${cmd.chown}`);
  if (cmd.chmod !== undefined && cmd.chmod !== '') parts.push(`--chmod=${cmd.chmod}`);
  parts.push(...cmd.sources);
  for (const c of cmd.sourceContents) parts.push(`<<${c.name}`);
  parts.push(cmd.dest);
  return parts.join(' ');
}

interface Prepared {
  readonly items: CopyItem[];
  readonly key: string;
}

/** Runs a COPY or ADD step on `state`. */
export async function dispatchCopy(
  session: BuildSession,
  state: StageState,
  cmd: CopyInstruction | AddInstruction,
): Promise<void> {
  await awaitSources(session, [cmd.kind === 'copy' ? cmd.from : undefined]);
  const vertex = session.vertex(stepName(state, displayText(session, state, cmd.original)));
  try {
    if (cmd.kind === 'copy') {
      for (const s of cmd.sources) {
        if (isUrl(s) || isGitSource(s)) {
          throw invalidArgument(`source can't be a URL for COPY; use ADD for ${s}`);
        }
      }
    }
    const checksum = cmd.kind === 'add' && cmd.checksum !== '' ? cmd.checksum : undefined;
    if (checksum !== undefined) {
      if (cmd.sources.length !== 1) {
        throw invalidArgument("checksum can't be specified for multiple sources");
      }
      if (!isUrl(cmd.sources[0] ?? '')) {
        throw invalidArgument("checksum can't be specified for non-HTTP(S) sources");
      }
      if (!/^sha256:[0-9a-f]{64}$/.test(checksum)) {
        throw invalidArgument(`invalid checksum ${checksum}: expected sha256:<64 hex digits>`);
      }
    }
    const dest = copyDestination(cmd.dest, workdirOf(state));
    // --link (BuildKit): an independent layer; not used with --chmod, and lab needs numeric
    // --chown ids for it (names would have to be looked up in the layers below)
    const link =
      cmd.link &&
      (cmd.chmod === undefined || cmd.chmod === '') &&
      (cmd.chown === undefined || cmd.chown === '' || /^\d+(?::\d+)?$/.test(cmd.chown));
    const chmod = cmd.chmod === undefined || cmd.chmod === '' ? undefined : parseChmod(cmd.chmod);
    const matcher = cmd.excludes.length > 0 ? createPatternMatcher(cmd.excludes) : undefined;
    const exclude =
      matcher === undefined ? undefined : (rel: string) => matcher.matchesOrParentMatches(rel);
    const from = cmd.kind === 'copy' ? cmd.from : undefined;
    const localSources = cmd.sources.filter((s) => !(cmd.kind === 'add' && isUrl(s)));
    const urlSources = cmd.kind === 'add' ? cmd.sources.filter(isUrl) : [];
    for (const s of cmd.sources) {
      if (cmd.kind === 'add' && isGitSource(s)) {
        throw invalidArgument(
          `ADD of a git repository (${s}) is not supported by lab yet; clone it in a RUN`,
        );
      }
    }
    const extraDir = await mkdtemp(path.join(session.tmp, 'src-'));
    const extraTree: SourceTree = {
      root: extraDir,
      label: 'downloaded and inline sources',
      include: ALL,
    };

    const prepare = async (source: MountedSource | undefined): Promise<Prepared> => {
      const hash = createHash('sha256');
      const items: CopyItem[] = [];
      if (source !== undefined) {
        for (const s of localSources) {
          const rels = await matchSources(source.tree, s);
          const pivot = s.indexOf('/./');
          const prefix = pivot < 0 ? '' : cleanSourcePath(s.slice(0, pivot));
          for (const rel of rels) {
            if (exclude !== undefined && rel !== '' && exclude(path.posix.basename(rel))) continue;
            const parents = cmd.kind === 'copy' && cmd.parents;
            const keep = !parents ? undefined : prefix === '' ? rel : rel.slice(prefix.length + 1);
            items.push({ tree: source.tree, rel, ...(keep === undefined ? {} : { keep }) });
            hash.update(`src\0${rel}\0${keep ?? ''}\n`);
            if (source.key === undefined) await hashSourcePath(source.tree, rel, hash, exclude);
          }
        }
        hash.update(`tree\0${source.key ?? 'context'}\n`);
      }
      for (const [i, url] of urlSources.entries()) {
        const dir = path.join(extraDir, `url-${String(i)}`);
        await mkdir(dir);
        const name = await download(url, dir, session.options.signal);
        const rel = `url-${String(i)}/${name}`;
        if (checksum !== undefined) {
          const actual = `sha256:${createHash('sha256')
            .update(await readFile(path.join(extraDir, rel)))
            .digest('hex')}`;
          if (actual !== checksum) {
            throw invalidArgument(
              `digest mismatch for ${url}: expected ${checksum}, got ${actual}; fix --checksum or the source`,
            );
          }
        }
        items.push({ tree: extraTree, rel });
        hash.update(`url\0${url}\n`);
        await hashSourcePath(extraTree, rel, hash);
      }
      for (const [i, content] of cmd.sourceContents.entries()) {
        const dir = path.join(extraDir, `heredoc-${String(i)}`);
        await mkdir(dir);
        const data = content.chomp ? chompHeredocContent(content.data) : content.data;
        await writeFile(path.join(dir, content.name), data, { mode: 0o644 });
        const rel = `heredoc-${String(i)}/${content.name}`;
        items.push({ tree: extraTree, rel });
        await hashSourcePath(extraTree, rel, hash);
      }
      const key = cacheKey(link ? 'link' : state.fsKey, cmd.kind, {
        dest,
        chown: cmd.chown ?? '',
        chmod: cmd.chmod ?? '',
        excludes: cmd.excludes,
        parents: cmd.kind === 'copy' && cmd.parents,
        unpack: cmd.kind === 'add' ? (cmd.unpack ?? 'auto') : false,
        sources: hash.digest('hex'),
      });
      return { items, key };
    };

    const perform = async (source: MountedSource | undefined): Promise<void> => {
      const { items, key } = await prepare(source);
      await commitStep(
        session,
        state,
        vertex,
        key,
        commitMessage(cmd),
        async (rootfs) => {
          const settings: CopySettings = {
            keepOwner: source?.keepOwner ?? false,
            ...(cmd.chown === undefined || cmd.chown === ''
              ? {}
              : { owner: await resolveOwner(cmd.chown, rootfs) }),
            ...(chmod === undefined ? {} : { chmod }),
            ...(exclude === undefined ? {} : { exclude }),
            unpack: cmd.kind === 'add' && cmd.unpack !== false && urlSources.length === 0,
          };
          const local = items.filter((i) => i.tree !== extraTree);
          const extra = items.filter((i) => i.tree === extraTree);
          await copyInto(rootfs, dest, local, settings);
          await copyInto(rootfs, dest, extra, {
            ...settings,
            keepOwner: false,
            unpack: cmd.kind === 'add' && cmd.unpack === true,
          });
        },
        ' # buildkit',
        link,
      );
    };

    if (localSources.length === 0) await perform(undefined);
    else await withSource(session, from, cmd.kind === 'add' ? 'ADD' : 'COPY', perform);
    vertex.done();
  } catch (err) {
    vertex.fail(failureReason(err));
    throw err;
  }
}
