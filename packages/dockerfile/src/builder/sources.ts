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
