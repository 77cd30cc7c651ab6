/**
 * One view of a built image for both sides of the oracle: read a docker-archive (`docker save`,
 * `lab save`), take its config, apply its layers in order into a directory with GNU tar
 * (whiteouts handled here: `.wh..wh..opq` empties the directory below, `.wh.NAME` removes NAME,
 * and an entry whose type differs from what is there (directory vs not) replaces it, all before
 * the layer's own entries are extracted), and list the result as one sorted line per path.
 *
 * Normalisations (the same for both sides):
 * - mtimes are compared only as "kept a known mtime" markers on files and symlinks (see
 *   {@link stamp}): RUN steps stamp the time of the build, and directories' mtimes change with
 *   every entry a step adds (BuildKit and lab may touch them in different orders);
 * - a directory's size is not compared (file system dependent);
 * - hard links are listed as the files they are (content, mode, owner), not as links;
 * - xattrs are not compared (GNU tar runs without --xattrs).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** The config fields the oracle compares (docker's casing). */
export const CONFIG_FIELDS = [
  'Env',
  'Cmd',
  'Entrypoint',
  'WorkingDir',
  'User',
  'ExposedPorts',
  'Volumes',
  'Labels',
  'StopSignal',
  'Healthcheck',
  'OnBuild',
  'Shell',
] as const;

export type ComparedConfig = Partial<Record<(typeof CONFIG_FIELDS)[number], unknown>>;

export interface ImageView {
  config: ComparedConfig;
  /**
   * One line per history entry: its `created_by`, normalised by {@link historyLine}, with
   * ` (empty)` for metadata-only entries.
   */
  history: string[];
  /** `path type mode uid:gid detail`, sorted by path. */
  tree: string[];
  layers: number;
}

interface ArchiveManifest {
  Config: string;
  Layers: string[];
}

async function tar(args: string[]): Promise<string> {
  const r = await execFileP('tar', args, { maxBuffer: 256 * 1024 * 1024 });
  return r.stdout;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

/** The compared config fields; null, missing, "", [] and {} all mean "unset". */
export function compareConfig(config: Record<string, unknown>): ComparedConfig {
  const out: ComparedConfig = {};
  for (const f of CONFIG_FIELDS) {
    const v = config[f];
    if (!isEmpty(v)) out[f] = v;
  }
  return out;
}

/**
 * A history `created_by` without what the Dockerfile frontend of dockerd 20.10 (BuildKit 0.8)
 * writes differently from today's BuildKit, which lab follows: HEALTHCHECK (Go `%v` of the
 * struct), EXPOSE (a map vs a list) and ARG (the declared default vs the value used) keep only
 * the instruction and the ARG's name; COPY/ADD lose their `--chown=`/`--chmod=` flags (not
 * recorded by 0.8). Everything else (RUN with its `|N` args, ENV, LABEL, WORKDIR, USER, CMD, the
 * entry order and the empty-layer flags) is compared as is.
 */
export function historyLine(createdBy: string): string {
  const arg = /^ARG ([^=\s]+)/.exec(createdBy);
  if (arg !== null) return `ARG ${arg[1]!} …`;
  if (/^(HEALTHCHECK|EXPOSE) /.test(createdBy)) return `${createdBy.split(' ')[0]!} …`;
  if (/^(COPY|ADD) /.test(createdBy)) return createdBy.replace(/ --(chown|chmod)=\S+/g, '');
  return createdBy;
}

function clean(name: string): string {
  let n = name;
  while (n.startsWith('./')) n = n.slice(2);
  while (n.startsWith('/')) n = n.slice(1);
  if (n.endsWith('/')) n = n.slice(0, -1);
  return n;
}

async function applyLayer(layer: string, dest: string): Promise<void> {
  const listed = (await tar(['-tf', layer])).split('\n').filter(Boolean);
  for (const raw of listed) {
    const name = clean(raw);
    if (name === '') continue;
    // an entry replaces what is there when the type changes (directory <-> anything else)
    const existing = await lstat(join(dest, name)).catch(() => undefined);
    if (existing !== undefined && existing.isDirectory() !== raw.endsWith('/')) {
      await rm(join(dest, name), { recursive: true, force: true });
    }
    const slash = name.lastIndexOf('/');
    const dir = slash < 0 ? '' : name.slice(0, slash);
    const base = name.slice(slash + 1);
    if (base === '.wh..wh..opq') {
      const target = join(dest, dir);
      const children = await readdir(target).catch(() => [] as string[]);
      for (const c of children) await rm(join(target, c), { recursive: true, force: true });
    } else if (base.startsWith('.wh.')) {
      await rm(join(dest, dir, base.slice(4)), { recursive: true, force: true });
    }
  }
  await tar([
    '-xf',
    layer,
    '-C',
    dest,
    '--numeric-owner',
    '--same-owner',
    '--same-permissions',
    '--exclude=.wh.*',
  ]);
}

/** mtime of every file the oracle's contexts hold (2001-01-01T00:00:00Z). */
export const CONTEXT_MTIME = 978307200;
/** mtime of every entry of the base images and of the tars in the contexts (2000-01-01). */
export const BASE_MTIME = 946684800;

/**
 * Files and symlinks show whether they kept a known mtime: ` @context` (copied from the build
 * context with its mtime), ` @base` (from a base image or an ADDed tar), nothing otherwise.
 */
function stamp(mtimeMs: number): string {
  const s = Math.floor(mtimeMs / 1000);
  if (s === CONTEXT_MTIME) return ' @context';
  if (s === BASE_MTIME) return ' @base';
  return '';
}

async function listTree(dir: string): Promise<string[]> {
  const lines: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = (await readdir(join(dir, rel))).sort();
    for (const e of entries) {
      const p = rel === '' ? e : `${rel}/${e}`;
      const abs = join(dir, p);
      const st = await lstat(abs);
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      const owner = `${st.uid}:${st.gid}`;
      if (st.isSymbolicLink()) {
        lines.push(`/${p} link ${owner} -> ${await readlink(abs)}${stamp(st.mtimeMs)}`);
      } else if (st.isDirectory()) {
        lines.push(`/${p} dir ${mode} ${owner}`);
        await walk(p);
      } else if (st.isFile()) {
        const hash = createHash('sha256')
          .update(await readFile(abs))
          .digest('hex')
          .slice(0, 16);
        lines.push(`/${p} file ${mode} ${owner} ${st.size} ${hash}${stamp(st.mtimeMs)}`);
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        lines.push(`/${p} dev ${mode} ${owner} ${st.rdev}`);
      } else {
        lines.push(`/${p} other ${mode} ${owner}`);
      }
    }
  };
  await walk('');
  return lines;
}

/**
 * Reads the first image of a docker-archive: its compared config and its file tree. `work` is a
 * scratch directory (created, and emptied afterwards).
 */
export async function readImageArchive(archive: string, work: string): Promise<ImageView> {
  const unpacked = join(work, 'archive');
  const rootfs = join(work, 'rootfs');
  await rm(work, { recursive: true, force: true });
  await mkdir(unpacked, { recursive: true });
  await mkdir(rootfs, { recursive: true });
  try {
    await tar(['-xf', archive, '-C', unpacked]);
    const manifest = JSON.parse(
      await readFile(join(unpacked, 'manifest.json'), 'utf8'),
    ) as ArchiveManifest[];
    const first = manifest[0];
    if (first === undefined) throw new Error(`${archive}: manifest.json lists no image`);
    const image = JSON.parse(await readFile(join(unpacked, first.Config), 'utf8')) as {
      config?: Record<string, unknown>;
      history?: { created_by?: string; empty_layer?: boolean }[];
    };
    for (const layer of first.Layers) await applyLayer(join(unpacked, layer), rootfs);
    return {
      config: compareConfig(image.config ?? {}),
      history: (image.history ?? []).map(
        (h) => `${historyLine(h.created_by ?? '')}${h.empty_layer === true ? ' (empty)' : ''}`,
      ),
      tree: await listTree(rootfs),
      layers: first.Layers.length,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
