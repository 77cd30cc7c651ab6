/**
 * `build`: a Dockerfile and a context → an image in the store, with BuildKit's semantics
 * (`dockerfile2llb/convert.go`): only the stages the target needs are built, each as soon as
 * it is asked for (independent stages concurrently); ONBUILD triggers of the base run first;
 * metadata instructions edit the config and add `empty_layer` history; RUN/COPY/ADD/WORKDIR
 * are cached per step; the image is named only once every step succeeded, so a failed build
 * leaves no image or tag behind. Blobs written during the build are held by a lease until the
 * image (and the cache records) name them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  commitImage,
  normalizeImageName,
  openImageStore,
  openSnapshotter,
  withLease,
  type Snapshotter,
} from '@lab/layers';
import {
  hostPlatform,
  parsePlatform,
  isLabError,
  invalidArgument,
  notFound,
  type ContainerConfig,
  type ImageConfig,
} from '@lab/oci';
import { parse } from '../parser/parse.js';
import { parseInstruction, parseInstructions } from '../instructions/parse.js';
import { resolveBuildGraph, type ResolvedStage } from '../instructions/graph.js';
import { applyCommand, imageEnvironment, inheritEnvironment } from '../instructions/environment.js';
import type { Command } from '../instructions/types.js';
import { isDockerfileError } from '../instructions/error.js';
import { openBuildCache, cacheKey } from './cache.js';
import { dispatchCopy } from './copy-step.js';
import { dispatchMetadata } from './metadata.js';
import { dispatchRun } from './run-step.js';
import type { BuildSession, StageState, Vertex } from './session.js';
import { stepError } from './step-error.js';
import { dispatchWorkdir } from './workdir-step.js';
import type { BuildOptions, BuildResult, BuildStats } from './types.js';
import { openWorkspace, removeAbandonedSteps } from './workspace.js';

async function defaultSnapshotter(root: string): Promise<Snapshotter> {
  try {
    return await openSnapshotter('overlay', root);
  } catch {
    return openSnapshotter('native', root);
  }
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const COUNTED = new Set(['run', 'copy', 'add', 'workdir']);

function hasLocation(err: unknown): boolean {
  return (
    err instanceof Error &&
    'details' in err &&
    typeof (err as { details?: { line?: unknown } }).details?.line === 'number'
  );
}

/** Builds the Dockerfile in `options`; see the module comment. */
export async function build(options: BuildOptions): Promise<BuildResult> {
  const dockerfileName = options.dockerfileName ?? 'Dockerfile';
  const started = Date.now();
  let nextVertex = 0;
  const emit = options.onProgress ?? ((): void => undefined);
  const vertex = (name: string): Vertex => {
    const id = ++nextVertex;
    const t0 = Date.now();
    let finished = false;
    emit({ type: 'start', id, name });
    return {
      id,
      name,
      log: (stream, text) => {
        emit({ type: 'log', id, stream, text });
      },
      cached: () => {
        if (finished) return;
        finished = true;
        emit({ type: 'cached', id });
      },
      done: () => {
        if (finished) return;
        finished = true;
        emit({ type: 'done', id, seconds: (Date.now() - t0) / 1000 });
      },
      fail: (message) => {
        if (finished) return;
        finished = true;
        emit({ type: 'error', id, seconds: (Date.now() - t0) / 1000, message });
      },
    };
  };

  const definition = vertex(`[internal] load build definition from ${dockerfileName}`);
  if (options.dockerfile.trim() === '') {
    definition.fail('the Dockerfile cannot be empty');
    throw invalidArgument('the Dockerfile cannot be empty');
  }
  const platform = hostPlatform();
  const buildArgs = options.buildArgs ?? {};
  let parsed;
  let graph;
  try {
    parsed = parse(options.dockerfile);
    graph = resolveBuildGraph(parseInstructions(parsed), {
      buildArgs,
      ...(options.target === undefined ? {} : { target: options.target }),
      buildPlatform: {
        os: platform.os,
        architecture: platform.architecture,
        ...(platform.variant === undefined ? {} : { variant: platform.variant }),
      },
      escapeToken: parsed.escapeToken,
    });
  } catch (err) {
    definition.fail(err instanceof Error ? err.message : String(err));
    throw err;
  }
  definition.done();

  const epoch =
    options.sourceDateEpoch ??
    (buildArgs.SOURCE_DATE_EPOCH !== undefined && /^\d+$/.test(buildArgs.SOURCE_DATE_EPOCH)
      ? Number(buildArgs.SOURCE_DATE_EPOCH)
      : undefined);
  const created = rfc3339(epoch === undefined ? started : epoch * 1000);
  const images = await openImageStore(options.root);
  const snapshotter = await defaultSnapshotter(options.root);
  await removeAbandonedSteps(snapshotter);
  const cache = await openBuildCache(options.root);
  const tmp = await mkdtemp(path.join(tmpdir(), 'lab-build-'));
  const stats: BuildStats = { steps: 0, cached: 0, runsExecuted: 0, layersWritten: 0 };
  const stagesBuilt: string[] = [];
  const single = graph.stages.length === 1;
  // the first failing stage cancels the others (their RUNs are killed), as BuildKit does
  const cancel = new AbortController();
  const signal =
    options.signal === undefined ? cancel.signal : AbortSignal.any([options.signal, cancel.signal]);
  let firstFailure: { error: unknown } | undefined;

  try {
    return await withLease(options.root, async (lease) => {
      const workspace = openWorkspace({
        images,
        snapshotter,
        lease,
        tmp: path.join(tmp, 'mnt'),
        ...(epoch === undefined ? {} : { sourceDateEpoch: epoch }),
        signal,
      });
      const building = new Map<number, Promise<StageState>>();
      const context =
        options.context.kind === 'directory'
          ? {
              root: path.resolve(options.context.path),
              label: 'build context',
              include: options.context.shouldInclude ?? ((): boolean => true),
              ...(options.context.reincludes === true ? { reincludes: true } : {}),
            }
          : undefined;
      const session: BuildSession = {
        options: { ...options, signal },
        dockerfileName,
        escapeToken: parsed.escapeToken,
        graph,
        images,
        cache,
        workspace,
        context,
        tmp,
        stats,
        created,
        cacheMountUsers: new Map(),
        cacheMountLocks: new Map(),
        vertex,
        stage(index) {
          let p = building.get(index);
          if (p === undefined) {
            const resolved = graph.stages[index];
            if (resolved === undefined)
              throw invalidArgument(`invalid stage index ${String(index)}`);
            p = buildStage(session, resolved, single);
            p.then(
              () => stagesBuilt.push(resolved.displayName),
              (error: unknown) => {
                firstFailure ??= { error };
                cancel.abort();
              },
            );
            building.set(index, p);
          }
          return p;
        },
      };
      // every stage the target needs, started together: independent ones build concurrently
      const needed = graph.stagesFor();
      const all = needed.map((s) => session.stage(s.index));
      const results = await Promise.allSettled(all);
      if (firstFailure !== undefined) throw firstFailure.error;
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      const target = await session.stage(graph.target.index);

      const exporting = vertex('exporting to image');
      const cfg: ContainerConfig = { ...(target.config.config ?? {}) };
      if (options.labels !== undefined && Object.keys(options.labels).length > 0) {
        cfg.Labels = { ...(cfg.Labels ?? {}), ...options.labels };
      }
      const names = (options.tags ?? []).map((t) => normalizeImageName(t));
      const base: Partial<ImageConfig> = { ...target.config };
      delete base.rootfs;
      const committed = await commitImage(images, {
        config: {
          ...base,
          created,
          architecture: target.config.architecture,
          os: target.config.os,
          config: cfg,
          history: target.history,
        },
        layers: target.layers,
        ...(names[0] === undefined ? {} : { name: names[0] }),
        lease,
      });
      for (const name of names.slice(1)) await images.put(name, committed.manifestDescriptor);
      exporting.log('stdout', `writing image ${committed.id} done\n`);
      for (const name of names) exporting.log('stdout', `naming to ${name} done\n`);
      exporting.done();
      const config = JSON.parse(
        (await images.content.readBlob(committed.configDescriptor.digest)).toString('utf8'),
      ) as BuildResult['config'];
      return {
        id: committed.id,
        manifestDigest: committed.manifestDescriptor.digest,
        config,
        names,
        stats,
        stagesBuilt,
      };
    });
  } finally {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The first state of a stage: its base image, an earlier stage, or scratch. */
async function baseState(
  session: BuildSession,
  resolved: ResolvedStage,
  single: boolean,
): Promise<{ state: StageState; triggers: string[] }> {
  const prefixName = single ? '' : resolved.displayName;
  const counted = resolved.stage.commands.filter((c) => COUNTED.has(c.kind)).length;
  const platform = hostPlatform();
  if (resolved.base.kind === 'stage') {
    const parent = await session.stage(resolved.base.index);
    const triggers = [...(parent.config.config?.OnBuild ?? [])];
    const config = structuredClone(parent.config);
    if (config.config) delete config.config.OnBuild;
    return {
      triggers,
      state: {
        resolved,
        config,
        history: [...parent.history],
        layers: [...parent.layers],
        fsKey: parent.fsKey,
        env: inheritEnvironment(parent.env),
        cmdSet: false,
        index: 0,
        total: counted + triggers.length,
        prefixName,
      },
    };
  }
  if (resolved.base.kind === 'scratch') {
    const p = resolved.platform === undefined ? platform : parsePlatform(resolved.platform);
    return {
      triggers: [],
      state: {
        resolved,
        config: {
          architecture: p.architecture,
          os: p.os,
          ...(p.variant === undefined ? {} : { variant: p.variant }),
          config: {
            Env: [`PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`],
            WorkingDir: '/',
          },
          rootfs: { type: 'layers', diff_ids: [] },
        },
        history: [],
        layers: [],
        fsKey: cacheKey('scratch'),
        env: imageEnvironment([
          `PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
        ]),
        cmdSet: false,
        index: 0,
        total: counted,
        prefixName,
      },
    };
  }
  const ref = resolved.base.ref;
  let display = ref;
  try {
    display = normalizeImageName(ref);
  } catch {
    // shown as written
  }
  const state: StageState = {
    resolved,
    config: { architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [] } },
    history: [],
    layers: [],
    fsKey: '',
    env: imageEnvironment([]),
    cmdSet: false,
    index: 0,
    total: counted + 1,
    prefixName,
  };
  const metadata = session.vertex(`[internal] load metadata for ${display}`);
  let image;
  try {
    image = await session.images.resolve(
      ref,
      resolved.platform === undefined ? {} : { platform: parsePlatform(resolved.platform) },
    );
  } catch (err) {
    metadata.fail((err as Error).message);
    throw notFound(
      `failed to resolve source metadata for ${display}: the image is not in lab's store; pull or load it first (lab load -i …)`,
      { cause: err, details: { image: ref } },
    );
  }
  metadata.done();
  const width = 1 + Math.floor(Math.log10(state.total));
  const v = session.vertex(
    `[${prefixName === '' ? '' : `${prefixName} `}${String(1).padStart(width)}/${String(state.total)}] FROM ${display}@${image.digest}`,
  );
  state.index = 1;
  v.done();
  const config = structuredClone(image.config);
  delete config.created;
  const inner: ContainerConfig = config.config ?? {};
  const env = imageEnvironment(inner.Env ?? []);
  if (!(inner.Env ?? []).some((e) => e.startsWith('PATH='))) {
    inner.Env = [...(inner.Env ?? []), `PATH=${env.env.get('PATH') ?? ''}`];
  }
  const triggers = [...(inner.OnBuild ?? [])];
  delete inner.OnBuild;
  config.config = inner;
  state.config = config;
  state.history = [...(image.config.history ?? [])];
  state.layers = image.layers.map((descriptor, i) => ({ descriptor, diffID: image.diffIDs[i]! }));
  state.fsKey = cacheKey('image', image.digest);
  state.total += triggers.length;
  return { state: { ...state, env }, triggers };
}

function parseTrigger(text: string, at: ResolvedStage): Command {
  const parsed = parse(text);
  const node = parsed.instructions[0];
  if (parsed.instructions.length !== 1 || node === undefined) {
    throw invalidArgument('onbuild trigger should be a single expression');
  }
  const instruction = parseInstruction({ ...node, range: at.stage.from.range });
  if (instruction.kind === 'from') {
    throw invalidArgument('FROM is not allowed as an ONBUILD trigger');
  }
  return instruction;
}

async function buildStage(
  session: BuildSession,
  resolved: ResolvedStage,
  single: boolean,
): Promise<StageState> {
  const { state, triggers } = await baseState(session, resolved, single);
  const commands: { cmd: Command; onbuild: boolean }[] = [
    ...triggers.map((t) => ({ cmd: parseTrigger(t, resolved), onbuild: true })),
    ...resolved.stage.commands.map((cmd) => ({ cmd, onbuild: false })),
  ];
  for (const { cmd, onbuild } of commands) {
    session.options.signal?.throwIfAborted();
    state.onbuild = onbuild;
    try {
      const expanded = applyCommand(cmd, state.env, {
        escapeToken: session.escapeToken,
        globalArgs: session.graph.globalArgs,
        buildArgs: session.options.buildArgs ?? {},
      });
      switch (expanded.kind) {
        case 'run':
          await dispatchRun(session, state, expanded);
          break;
        case 'copy':
        case 'add':
          await dispatchCopy(session, state, expanded);
          break;
        case 'workdir':
          await dispatchWorkdir(session, state, expanded);
          break;
        default:
          dispatchMetadata(session, state, expanded, cmd);
      }
    } catch (err) {
      if (hasLocation(err) || isDockerfileError(err)) throw err;
      throw stepError(
        isLabError(err) ? err.code : 'failed-precondition',
        {
          file: session.dockerfileName,
          line: cmd.range.start.line,
          endLine: cmd.range.end.line,
          instruction: cmd.original,
          outputTail: [],
        },
        err instanceof Error ? err.message : String(err),
        err,
      );
    }
  }
  return state;
}
