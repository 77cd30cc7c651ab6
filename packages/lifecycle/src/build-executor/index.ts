export {
  createRunExecutor,
  type BuildExecMount,
  type BuildExecRequest,
  type BuildRunExecutor,
  type RunExecutorOptions,
} from './run-executor.js';
