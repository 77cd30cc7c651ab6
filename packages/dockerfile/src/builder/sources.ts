/**
 * Where COPY `--from` and `RUN --mount=from=` read: the build context, an earlier stage
 * (found by name, case-insensitively, or by index) or an image from the store — mounted
 * read-only for as long as the caller needs it.
 */
import { invalidArgument, notFound } from '@lab/oci';
import type { BuildSession } from './session.js';
import type { SourceTree } from './source-tree.js';

/** A mounted source and the cache key of its content. */
export interface MountedSource {
  readonly tree: SourceTree;
  /** Undefined for the context: its paths are hashed by content instead. */
  readonly key: string | undefined;
  readonly keepOwner: boolean;
}

const ALL = (): boolean => true;

/** The stage `from` names (a name or an index), if it names one. */
function stageIndex(session: BuildSession, from: string): number | undefined {
  if (/^[+-]?\d+$/.test(from)) return Number(from);
  return session.graph.findStage(from)?.index;
}

/**
 * Waits until the stages `froms` name are built, so a step's vertex starts only when it can
 * run (as BuildKit's do).
 */
export async function awaitSources(
  session: BuildSession,
  froms: readonly (string | undefined)[],
): Promise<void> {
  for (const from of froms) {
    if (from === undefined || from === '') continue;
    const index = stageIndex(session, from);
    if (index !== undefined && index >= 0 && index < session.graph.stages.length) {
      await session.stage(index);
    }
  }
}

/**
 * Runs `fn` with the source `from` names (undefined: the build context) mounted. `what` names
 * the instruction for the error when there is no context.
 */
export async function withSource<T>(
  session: BuildSession,
  from: string | undefined,
  what: string,
  fn: (source: MountedSource) => Promise<T>,
): Promise<T> {
  if (from === undefined || from === '') {
    if (session.context === undefined) {
      throw invalidArgument(
        `${what} reads from the build context, but the build has none (Dockerfile from stdin); pass a context directory`,
      );
    }
    return fn({ tree: session.context, key: undefined, keepOwner: false });
  }
  const { graph } = session;
  let index: number | undefined;
  if (/^[+-]?\d+$/.test(from)) {
    index = Number(from);
    if (index < 0 || index >= graph.stages.length) {
      throw invalidArgument(`invalid stage index ${String(index)}`);
    }
  } else {
    index = graph.findStage(from)?.index;
  }
  if (index !== undefined) {
    const state = await session.stage(index);
    return session.workspace.view(state.layers, (root) =>
      fn({
        tree: { root, label: `stage ${state.resolved.displayName}`, include: ALL },
        key: `stage:${state.fsKey}`,
        keepOwner: true,
      }),
    );
  }
  let image;
  try {
    image = await session.images.resolve(from);
  } catch (err) {
    throw notFound(
      `${what}: image ${JSON.stringify(from)} is not in the image store (and no stage has that name); pull or load it first`,
      { cause: err },
    );
  }
  const layers = image.layers.map((descriptor, i) => ({ descriptor, diffID: image.diffIDs[i]! }));
  return session.workspace.view(layers, (root) =>
    fn({
      tree: { root, label: `image ${from}`, include: ALL },
      key: `image:${image.digest}`,
      keepOwner: true,
    }),
  );
}
