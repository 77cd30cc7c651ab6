/**
 * Test fixtures built from real tools, once per machine state and cached under
 * `os.tmpdir()/lab-test-cache/<key>` (the key hashes the inputs, so a changed script or
 * busybox binary builds afresh). Each fixture is built in a temp dir and renamed into place,
 * so parallel test files never see half a fixture (a race only builds it twice).
 *
 * - `busyboxRootfsTar()`: the reproducible busybox rootfs tar of `scripts/busybox-image.sh`.
 * - `toolArchives()`: an OCI layout made by umoci from that tar (Cmd sh, Env PATH), and the
 *   docker-archive and oci-archive skopeo makes of it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const BUSYBOX_SCRIPT = join(REPO_ROOT, 'scripts/busybox-image.sh');
export const BUSYBOX_PATH = '/bin/busybox';
export const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The first missing tool (or root), for `it.skipIf` with a printed reason; undefined when all are there. */
export function missingTool(...tools: string[]): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  for (const tool of tools) {
    const found = ['/usr/bin', '/usr/sbin', '/bin', '/sbin', '/usr/local/bin'].some((d) =>
      existsSync(join(d, tool)),
    );
    if (!found) return `${tool} is not installed`;
  }
  return undefined;
}

/** The sources a fixture built BY lab depends on: a change there rebuilds the fixture. */
function labSourcesDigest(): string {
  const h = createHash('sha256');
  const src = join(REPO_ROOT, 'packages/layers/src');
  for (const dir of ['archives', 'images', 'content', 'tar', 'gc', 'fs', 'diff', 'compression']) {
    let names: string[];
    try {
      names = readdirSync(join(src, dir)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.endsWith('.ts') && !name.endsWith('.test.ts'))
        h.update(readFileSync(join(src, dir, name)));
    }
  }
  return h.digest('hex');
}

function cacheKey(extra: string): string {
  const h = createHash('sha256');
  h.update(readFileSync(BUSYBOX_SCRIPT));
  const st = statSync(BUSYBOX_PATH);
  h.update(`${st.size}:${st.mtimeMs}:${extra}`);
  return h.digest('hex').slice(0, 16);
}

/** Older builds of a fixture (other keys) are removed once they are an hour old. */
const STALE_MS = 60 * 60 * 1000;

async function pruneStale(base: string, family: string, keep: string): Promise<void> {
  for (const entry of await readdir(base).catch(() => [] as string[])) {
    if (!entry.startsWith(`${family}-`) || join(base, entry) === keep) continue;
    const st = await stat(join(base, entry)).catch(() => undefined);
    if (st !== undefined && Date.now() - st.mtimeMs > STALE_MS) {
      await rm(join(base, entry), { recursive: true, force: true });
    }
  }
}

/**
 * The fixture `family` for the current inputs (`extra` adds to the key), built by `build`
 * once and reused by every test file and later runs until an input changes.
 */
async function cached(
  family: string,
  build: (dir: string) => Promise<void>,
  extra = '',
): Promise<string> {
  const base = join(tmpdir(), 'lab-test-cache');
  const final = join(base, `${family}-${cacheKey(family + extra)}`);
  if (existsSync(final)) return final;
  await mkdir(base, { recursive: true });
  const temp = await mkdtemp(join(base, `.${family}-`));
  try {
    await build(temp);
    await rename(temp, final).catch(async (err: unknown) => {
      if (existsSync(final)) await rm(temp, { recursive: true, force: true });
      else throw err;
    });
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  await pruneStale(base, family, final);
  return final;
}

/** The busybox rootfs tar (282 entries, fixed mtimes) from scripts/busybox-image.sh. */
export async function busyboxRootfsTar(): Promise<string> {
  const dir = await cached('busybox-rootfs', async (d) => {
    await run('bash', [BUSYBOX_SCRIPT, '--rootfs-tar', join(d, 'rootfs.tar')]);
  });
  return join(dir, 'rootfs.tar');
}

export interface ToolArchives {
  /** An OCI layout with the image under ref `busybox`. */
  layout: string;
  /** `skopeo copy … docker-archive:` (tag busybox:latest). */
  dockerArchive: string;
  /** `skopeo copy … oci-archive:` (ref busybox:latest). */
  ociArchive: string;
}

/** Archives of the busybox rootfs made by umoci and skopeo alone (no lab code involved). */
export async function toolArchives(): Promise<ToolArchives> {
  const rootfs = await busyboxRootfsTar();
  const dir = await cached('busybox-tools', async (d) => {
    const layout = join(d, 'layout');
    await run('umoci', ['init', '--layout', layout]);
    await run('umoci', ['new', '--image', `${layout}:busybox`]);
    await run('umoci', ['raw', 'add-layer', '--image', `${layout}:busybox`, rootfs]);
    await run('umoci', [
      'config',
      '--image',
      `${layout}:busybox`,
      '--config.cmd',
      'sh',
      '--config.env',
      PATH_ENV,
    ]);
    await run('skopeo', [
      'copy',
      '-q',
      `oci:${layout}:busybox`,
      `docker-archive:${join(d, 'docker.tar')}:busybox:latest`,
    ]);
    await run('skopeo', [
      'copy',
      '-q',
      `oci:${layout}:busybox`,
      `oci-archive:${join(d, 'oci.tar')}:busybox:latest`,
    ]);
  });
  return {
    layout: join(dir, 'layout'),
    dockerArchive: join(dir, 'docker.tar'),
    ociArchive: join(dir, 'oci.tar'),
  };
}

/** What {@link rewriteArchive} does with one entry: keep, drop, or replace name/body. */
export type EntryEdit = (entry: {
  name: string;
  body: Buffer;
}) => { name: string; body: Buffer } | null;

/**
 * Copies a tar archive entry by entry through lab's tar codec, letting `edit` rename, change or
 * drop regular files (to make bad archives from good ones). Links and directories are copied.
 */
export async function rewriteArchive(
  src: string,
  dst: string,
  edit: EntryEdit,
  extra: readonly { name: string; body: Buffer }[] = [],
): Promise<void> {
  const { createReadStream, createWriteStream } = await import('node:fs');
  const { pipeline } = await import('node:stream/promises');
  const { readTar, TarWriter } = await import('../../src/tar/index.js');
  const w = new TarWriter();
  const done = pipeline(w.readable, createWriteStream(dst));
  for await (const e of readTar(createReadStream(src))) {
    if (e.header.type !== 'file') {
      await w.addEntry({ ...e.header });
      continue;
    }
    const out = edit({ name: e.header.name, body: await e.readBody() });
    if (out === null) continue;
    await w.addEntry({ ...e.header, name: out.name, size: out.body.length }, out.body);
  }
  for (const e of extra)
    await w.addEntry({ name: e.name, type: 'file', mode: 0o644, size: e.body.length }, e.body);
  await w.finish();
  await done;
}

/**
 * A lab root holding `busybox:latest` imported from the busybox rootfs tar (Cmd ["sh"],
 * Env PATH, created 2000-01-01), built once into the cache and copied (`cp -a`) to `dest`.
 */
export async function labBusyboxRoot(dest: string): Promise<string> {
  const rootfs = await busyboxRootfsTar();
  const dir = await cached(
    'busybox-lab-root',
    async (d) => {
      const { createReadStream } = await import('node:fs');
      const { openImageStore } = await import('../../src/images/index.js');
      const { importRootfs } = await import('../../src/archives/index.js');
      const images = await openImageStore(join(d, 'root'));
      await importRootfs(images, createReadStream(rootfs), 'busybox:latest', {
        config: { Env: [PATH_ENV], Cmd: ['sh'] },
        created: '2000-01-01T00:00:00Z',
        message: 'busybox-static rootfs',
      });
    },
    labSourcesDigest(),
  );
  await run('cp', ['-a', join(dir, 'root'), dest]);
  return dest;
}
