/**
 * RUN steps of `lab build` on a container runtime: `@lab/dockerfile/builder`'s `RunExecutor`
 * contract (satisfied structurally, so lifecycle does not depend on the builder). Each step is
 * a short-lived container: a bundle whose root is the builder's mounted snapshot, the step's
 * env, cwd, user, network (none or host) and mounts, the process's output streamed to the
 * builder's sinks, then `delete`.
 */
import { closeSync, openSync } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import type { ImageConfig } from '@lab/oci';
import { createSpec, type BindMount, type TmpfsMount } from '../bundle/create-spec.js';
import { writeBundle } from '../bundle/write-bundle.js';
import type { Runtime } from '../runtime/runtime.js';

/** A mount of a RUN step, as the builder resolves it (host paths). */
export type BuildExecMount =
  | {
      readonly type: 'bind';
      readonly source: string;
      readonly target: string;
      readonly readonly: boolean;
    }
  | { readonly type: 'tmpfs'; readonly target: string; readonly size?: number };

/** One RUN step (the shape of the builder's `ExecRequest`). */
export interface BuildExecRequest {
  readonly id: string;
  readonly rootfs: string;
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
  readonly network: 'none' | 'host';
  readonly hostname: string;
  readonly mounts: readonly BuildExecMount[];
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly signal?: AbortSignal;
}

/** The builder's `RunExecutor`. */
export interface BuildRunExecutor {
  run(request: BuildExecRequest): Promise<{ exitCode: number }>;
}

/** Options of {@link createRunExecutor}. */
export interface RunExecutorOptions {
  readonly runtime: Runtime;
  /** A directory for the steps' bundles (one subdirectory per step, removed afterwards). */
  readonly bundleRoot: string;
  /** How often output files are read while a step runs; default 50 ms. */
  readonly pollMs?: number;
}

/** Copies what was appended to `file` since `offset` into `sink`; returns the new offset. */
async function drain(file: string, offset: number, sink: Writable): Promise<number> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) return offset;
      sink.write(Buffer.from(buf.subarray(0, bytesRead)));
      offset += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/** A `RunExecutor` that runs each step as a container of `runtime`. */
export function createRunExecutor(options: RunExecutorOptions): BuildRunExecutor {
  const { runtime } = options;
  const pollMs = options.pollMs ?? 50;
  return {
    async run(req) {
      const bundle = path.join(options.bundleRoot, req.id);
      await mkdir(bundle, { recursive: true });
      try {
        const image: ImageConfig = {
          architecture: process.arch === 'x64' ? 'amd64' : process.arch,
          os: 'linux',
          rootfs: { type: 'layers', diff_ids: [] },
          config: { Env: [...req.env] },
        };
        const binds: BindMount[] = [];
        const tmpfs: TmpfsMount[] = [];
        for (const m of req.mounts) {
          if (m.type === 'bind') {
            binds.push({ source: m.source, destination: m.target, readonly: m.readonly });
          } else {
            tmpfs.push({
              destination: m.target,
              // BuildKit's tmpfs mounts allow exec (a later `exec` overrides the spec's noexec)
              options: [
                'exec',
                'mode=1777',
                ...(m.size === undefined ? [] : [`size=${String(m.size)}`]),
              ],
            });
          }
        }
        const spec = await createSpec(image, {
          id: req.id,
          rootfs: req.rootfs,
          entrypoint: [],
          cmd: [...req.args],
          workdir: req.cwd,
          ...(req.user === '' ? {} : { user: req.user }),
          hostname: req.hostname,
          network: { mode: req.network },
          binds,
          tmpfs,
          cgroupsPath: `/lab-build/${req.id}`,
        });
        await writeBundle(bundle, spec);
        const outFile = path.join(bundle, 'stdout');
        const errFile = path.join(bundle, 'stderr');
        const out = openSync(outFile, 'w');
        const err = openSync(errFile, 'w');
        try {
          await runtime.create(req.id, bundle, { stdio: ['ignore', out, err] });
        } finally {
          closeSync(out);
          closeSync(err);
        }
        let outAt = 0;
        let errAt = 0;
        const onAbort = (): void => {
          runtime.kill(req.id, 'SIGKILL').catch(() => undefined);
        };
        req.signal?.addEventListener('abort', onAbort, { once: true });
        try {
          await runtime.start(req.id);
          if (req.signal?.aborted === true) onAbort();
          const exited = runtime.wait(req.id);
          let finished = false;
          void exited.finally(() => {
            finished = true;
          });
          while (!finished) {
            await new Promise((r) => setTimeout(r, pollMs));
            outAt = await drain(outFile, outAt, req.stdout);
            errAt = await drain(errFile, errAt, req.stderr);
          }
          const status = await exited;
          await drain(outFile, outAt, req.stdout);
          await drain(errFile, errAt, req.stderr);
          return { exitCode: status.exitCode };
        } finally {
          req.signal?.removeEventListener('abort', onAbort);
          await runtime.delete(req.id, { force: true }).catch(() => undefined);
        }
      } finally {
        await rm(bundle, { recursive: true, force: true });
      }
    },
  };
}
