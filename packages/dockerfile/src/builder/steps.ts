/**
 * What every filesystem step shares: its vertex name (`[stage 2/5] RUN …`), the cache lookup
 * by step key, running the change in a writable snapshot, recording the result in the cache,
 * and the history entry (`empty_layer` when the step changed nothing, as BuildKit's exporter
 * writes it).
 */
import { processWord } from '../shell/lex.js';
import { cacheKey } from './cache.js';
import type { BuildSession, StageState, Vertex } from './session.js';

const HISTORY_COMMENT = 'buildkit.dockerfile.v0';

/** The working directory of the stage (`/` when unset). */
export function workdirOf(state: StageState): string {
  const wd = state.config.config?.WorkingDir;
  return wd === undefined || wd === null || wd === '' ? '/' : wd;
}

/** BuildKit's `uppercaseCmd`: the keyword upper-cased, the rest as written. */
function uppercaseCmd(text: string): string {
  const space = text.indexOf(' ');
  return space < 0 ? text.toUpperCase() : text.slice(0, space).toUpperCase() + text.slice(space);
}

/** The vertex name of the stage's next counted step (BuildKit `prefixCommand`). */
export function stepName(state: StageState, text: string): string {
  if (state.total === 0) return uppercaseCmd(text);
  state.index++;
  const width = 1 + Math.floor(Math.log10(state.total));
  const name = state.prefixName === '' ? '' : `${state.prefixName} `;
  const onbuild = state.onbuild === true ? 'ONBUILD ' : '';
  return `[${name}${String(state.index).padStart(width)}/${String(state.total)}] ${onbuild}${uppercaseCmd(text.replace(/\n[\s\S]*$/, ''))}`;
}

/**
 * The instruction text with the stage's variables expanded, as BuildKit names vertices
 * (`processCmdEnv`; for RUN quotes are kept and unset variables left as written).
 */
export function displayText(
  session: BuildSession,
  state: StageState,
  text: string,
  run = false,
): string {
  try {
    return processWord(text, state.env.env, {
      escapeToken: session.escapeToken,
      ...(run ? { rawQuotes: true, skipUnsetEnv: true } : {}),
    });
  } catch {
    return text;
  }
}

/** Appends a history entry (BuildKit `commitToHistory`). */
export function addHistory(
  session: BuildSession,
  state: StageState,
  createdBy: string,
  emptyLayer: boolean,
): void {
  state.history.push({
    created: session.created,
    created_by: createdBy,
    comment: HISTORY_COMMENT,
    ...(emptyLayer ? { empty_layer: true } : {}),
  });
}

/**
 * A filesystem step: answers it from the cache when a record for `key` exists (and its blob is
 * still in the store) unless `--no-cache`; otherwise runs `change` on a writable snapshot of the
 * stage and records the layer it made. Updates the stage's layers, key and history.
 */
export async function commitStep(
  session: BuildSession,
  state: StageState,
  vertex: Vertex,
  key: string,
  createdBy: string,
  change: (rootfs: string) => Promise<void>,
  historySuffix = ' # buildkit',
  link = false,
): Promise<'cached' | 'built'> {
  session.stats.steps++;
  // a linked step's layer is made on an empty tree and keyed without the parent, so it stays
  // cached when earlier steps change; the stage's state still moves on from its parent
  const nextFsKey = link ? cacheKey(state.fsKey, 'link', key) : key;
  if (session.options.noCache !== true) {
    const record = await session.cache.get(key);
    if (
      record !== undefined &&
      (record.layer === null || (await session.images.content.has(record.layer.descriptor.digest)))
    ) {
      if (record.layer !== null) {
        state.layers = [...state.layers, record.layer];
      }
      state.fsKey = nextFsKey;
      addHistory(session, state, createdBy + historySuffix, record.layer === null);
      session.stats.cached++;
      vertex.cached();
      return 'cached';
    }
  }
  const layer = await session.workspace.change(link ? [] : state.layers, change);
  if (layer !== null) {
    session.stats.layersWritten++;
    state.layers = [...state.layers, layer];
  }
  await session.cache.put(key, { layer, created: new Date().toISOString() });
  state.fsKey = nextFsKey;
  addHistory(session, state, createdBy + historySuffix, layer === null);
  return 'built';
}
