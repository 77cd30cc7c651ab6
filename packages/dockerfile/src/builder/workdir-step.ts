/**
 * WORKDIR (BuildKit `dispatchWorkdir`): the path is resolved against the current working
 * directory and cleaned; any path but `/` is created like `mkdir -p` (0755, owned by the
 * stage's USER) as a cached filesystem step whose history is `WORKDIR /p` (no `# buildkit`);
 * an existing directory gives an empty layer.
 */
import * as path from 'node:path';
import type { WorkdirInstruction } from '../instructions/types.js';
import { cacheKey } from './cache.js';
import { failureReason } from './step-error.js';
import { mkdirOwned, resolveInRoot } from './copy.js';
import type { BuildSession, StageState } from './session.js';
import { addHistory, commitStep, displayText, stepName, workdirOf } from './steps.js';
import { resolveOwner } from './users.js';

/** Runs a WORKDIR step on `state`. */
export async function dispatchWorkdir(
  session: BuildSession,
  state: StageState,
  cmd: WorkdirInstruction,
): Promise<void> {
  const wd = path.posix.resolve(workdirOf(state), cmd.path);
  (state.config.config ??= {}).WorkingDir = wd;
  if (wd === '/') {
    addHistory(session, state, 'WORKDIR /', true);
    return;
  }
  const vertex = session.vertex(stepName(state, displayText(session, state, cmd.original)));
  try {
    const user = state.config.config.User ?? '';
    const key = cacheKey(state.fsKey, 'mkdir', { path: wd, user });
    await commitStep(
      session,
      state,
      vertex,
      key,
      `WORKDIR ${wd}`,
      async (rootfs) => {
        const owner = user === '' ? undefined : await resolveOwner(user, rootfs);
        await mkdirOwned(await resolveInRoot(rootfs, wd), owner);
      },
      '',
    );
    vertex.done();
  } catch (err) {
    vertex.fail(failureReason(err));
    throw err;
  }
}
